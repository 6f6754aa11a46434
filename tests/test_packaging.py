"""A plain (non-editable) install ships the code, the bundled assets and the plug-ins.

The builds run on a copy of the git-tracked files (the working tree's contents) with some
git-ignored files planted in it, so a wheel that picked up ignored or stray files would show,
and the shared checkout gets no ``build/`` folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import tomllib

from tests.conftest import ROOT

CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUPTOOLS = CONFIG["tool"]["setuptools"]
DATA_ROOTS = SETUPTOOLS["package-dir"]  # wheel package -> folder in the checkout
SHIPPED_FOLDERS = ("skyseg_core", "effects_gui", *DATA_ROOTS.values())

# Files git ignores that a developer's checkout may hold; none may reach a wheel.
IGNORED_PLANTS = (
    "assets/models/ade20k/ade20k-mobilenetv2dilated-c1_deepsup/encoder_epoch_20.pth",
    "plugins/common/skyseg_client/__pycache__/client.cpython-311.pyc",
    "skyseg_core/__pycache__/matte.cpython-311.pyc",
)


def _tracked(*folders: str) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--", *folders],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [name for name in out.split("\0") if name and (ROOT / name).is_file()]


def _source_name(wheel_name: str) -> str:
    """Where a file of the wheel comes from in the checkout (data packages are renamed)."""
    package, _, rest = wheel_name.partition("/")
    return f"{DATA_ROOTS.get(package, package)}/{rest}"


def _build_env() -> dict[str, str]:
    # With PYTHONDONTWRITEBYTECODE set, setuptools says "warning: byte-compiling is disabled":
    # a note about this environment, not about the project's configuration.
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _warnings(log: str) -> list[str]:
    return [line for line in log.splitlines() if re.search(r"warn", line, re.I)]


def test_declared_packages_match_the_source_tree():
    declared = set(SETUPTOOLS["packages"])
    code = {
        ".".join(Path(name).parent.parts)
        for name in _tracked("skyseg_core", "effects_gui")
        if name.endswith("/__init__.py")
    }
    # Every folder of assets/ and plugins/ that holds a tracked file is a (data) package, and
    # so are the folders above it: setuptools warns about, and drops, data in folders that
    # are not.
    data = set()
    for package, folder in DATA_ROOTS.items():
        for name in _tracked(folder):
            parts = Path(name).parent.relative_to(folder).parts
            data |= {".".join((package, *parts[:depth])) for depth in range(len(parts) + 1)}
    assert declared == code | data


def test_the_version_is_written_once():
    assert "version" in CONFIG["project"]["dynamic"]
    assert "version" not in CONFIG["project"]
    assert SETUPTOOLS["dynamic"]["version"] == {"attr": "skyseg_core.__version__"}


@pytest.fixture(scope="module")
def tracked_copy(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("checkout")
    for name in _tracked():
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / name).read_bytes())
    for name in IGNORED_PLANTS:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes(b"not to be shipped")
    return copy


@pytest.fixture(scope="module")
def pip_wheel(tracked_copy, tmp_path_factory) -> tuple[Path, str]:
    """What ``pip install .`` builds: a wheel straight from the source folder."""
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation"]
        + ["--no-index", "-w", str(out), str(tracked_copy)],
        capture_output=True,
        text=True,
        env=_build_env(),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = out.glob("skyseg-*.whl")
    return wheel, result.stdout + result.stderr


@pytest.mark.slow
def test_pip_builds_without_a_warning(pip_wheel):
    _, log = pip_wheel
    assert "running build_py" in log, "pip -v no longer shows the backend's output"
    assert not _warnings(log)


@pytest.mark.slow
def test_the_wheel_holds_exactly_the_tracked_files(pip_wheel):
    wheel, _ = pip_wheel
    names = [n for n in zipfile.ZipFile(wheel).namelist() if ".dist-info/" not in n]
    shipped = {_source_name(name) for name in names}
    tracked = set(_tracked(*SHIPPED_FOLDERS))
    assert sorted(shipped - tracked) == [], "files in the wheel that git does not track"
    assert sorted(tracked - shipped) == [], "tracked files the wheel leaves out"


@pytest.mark.slow
def test_wheel_carries_models_skies_samples_and_plugins(pip_wheel):
    wheel, _ = pip_wheel
    names = set(zipfile.ZipFile(wheel).namelist())
    bundled_models = {f"skyseg_assets/models/{Path(p).name}" for p in _tracked("assets/models")}
    assert bundled_models <= names
    assert {f"skyseg_assets/skies/{Path(p).name}" for p in _tracked("assets/skies")} <= names
    assert "skyseg_assets/samples/rocket.jpg" in names
    assert "skyseg_plugins/gimp/skyseg/skyseg.py" in names
    assert "skyseg_plugins/common/skyseg_client/__init__.py" in names
    assert "skyseg_plugins/krita/skyseg_krita.desktop" in names
    assert "skyseg_plugins/darktable/skyseg.lua" in names
    assert not any("__pycache__" in name or "ade20k/" in name for name in names)


_BUILD_LIKE_PYPA_BUILD = """
import sys, tarfile
from pathlib import Path
from setuptools import build_meta

out = Path(sys.argv[1])
sdist = out / build_meta.build_sdist(str(out))
with tarfile.open(sdist) as archive:
    archive.extractall(out / "unpacked", filter="data")
(source,) = (out / "unpacked").iterdir()
import os
os.chdir(source)
print("built", build_meta.build_wheel(str(out)))
"""


@pytest.mark.slow
def test_sdist_then_wheel_build_without_a_warning(tracked_copy, tmp_path):
    """``python -m build``'s path (sdist, then a wheel from the unpacked sdist), through the
    same backend hooks, without the network an isolated build would need."""
    result = subprocess.run(
        [sys.executable, "-c", _BUILD_LIKE_PYPA_BUILD, str(tmp_path)],
        cwd=tracked_copy,
        capture_output=True,
        text=True,
        env=_build_env(),
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert not _warnings(log)
    (sdist,) = tmp_path.glob("skyseg-*.tar.gz")
    with tarfile.open(sdist) as archive:
        assert not [n for n in archive.getnames() if "__pycache__" in n or "ade20k/" in n]
    (wheel,) = tmp_path.glob("skyseg-*.whl")
    names = {_source_name(n) for n in zipfile.ZipFile(wheel).namelist() if ".dist-info/" not in n}
    assert names == set(_tracked(*SHIPPED_FOLDERS))
