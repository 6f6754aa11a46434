"""The code base stays ruff-clean (the rules are in pyproject.toml)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import tomllib

from tests.conftest import ROOT


def _ruff() -> str:
    return shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))


def test_ruff_finds_nothing():
    ruff = _ruff()
    paths = ["skyseg_core", "effects_gui", "plugins", "tests", "benchmarks", "scripts"]
    result = subprocess.run([ruff, "check", *paths], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_leaves_the_tree_as_it_is():
    ruff = _ruff()
    result = subprocess.run(
        [ruff, "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_pre_commit_runs_the_pinned_ruff():
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    (pinned,) = [req.split("==")[1] for req in dev["dev"] if req.startswith("ruff==")]
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    hook = re.search(r"repo: https://github.com/astral-sh/ruff-pre-commit\s+rev: v?(\S+)", config)
    assert hook, "no ruff-pre-commit repo in .pre-commit-config.yaml"
    assert hook.group(1) == pinned
    installed = subprocess.run([_ruff(), "--version"], capture_output=True, text=True).stdout
    assert installed.split() == ["ruff", pinned], installed
