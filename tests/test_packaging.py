"""A plain (non-editable) install ships the code, the bundled assets and the plug-ins."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest
import tomllib

from tests.conftest import ROOT


def test_declared_packages_match_the_source_tree():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared = set(config["packages"]) - set(config["package-dir"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("skyseg_core", "effects_gui")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert declared == on_disk


@pytest.mark.slow
def test_wheel_carries_models_skies_samples_and_plugins(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("skyseg-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    bundled_models = {
        f"skyseg_assets/models/{p.name}"
        for p in (ROOT / "assets" / "models").iterdir()
        if p.is_file()
    }
    assert bundled_models <= names
    assert {f"skyseg_assets/skies/{p.name}" for p in (ROOT / "assets" / "skies").iterdir()} <= names
    assert "skyseg_assets/samples/rocket.jpg" in names
    assert "skyseg_plugins/gimp/skyseg/skyseg.py" in names
    assert "skyseg_plugins/common/skyseg_client.py" in names
    assert not any("__pycache__" in name for name in names)
