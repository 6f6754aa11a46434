"""The type checker passes on the core and the plug-ins' client (settings in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_mypy_finds_nothing():
    # The files come from [tool.mypy] in pyproject.toml; the cache in .mypy_cache keeps a
    # re-run to a few seconds.
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
