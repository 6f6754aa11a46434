"""End to end in the real GIMP 3.0 (Debian 13 chroot, gimp-console-3.0 batch mode).

The plug-in is installed by `skyseg install-plugin gimp` run with the chroot's skyseg venv; the
driver tests/hosts/gimp_e2e.py calls its registered PDB procedures, as a script would.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "hosts"))
import harness  # noqa: E402

from skyseg_core.io import load_image  # noqa: E402
from skyseg_core.ora import read_ora  # noqa: E402
from skyseg_core.segment import segment  # noqa: E402

pytestmark = [pytest.mark.hosts, pytest.mark.slow]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    harness.require_hosts()
    return harness.prepare(tmp_path_factory.mktemp("gimp"))


@pytest.fixture(scope="module")
def main_run(folder):
    return harness.run_gimp(folder, "main")


@pytest.fixture(scope="module")
def core_matte(folder):
    return np.round(segment(load_image(folder / "photo.png"), method=harness.METHOD) * 255)


def test_procedures_are_registered_and_succeed(main_run):
    assert main_run["registered"] == ["create-mask", "select-sky", "replace-sky", "tint-sky", "relight"]
    for key in ("mask_status", "channel_status", "select_status", "replace_status", "tint_status", "relight_status"):
        assert main_run[key] == ["success", ""], key


@pytest.mark.parametrize("name", ["gimp_mask", "gimp_channel", "gimp_selection"])
def test_mask_channel_and_selection_equal_core_matte(main_run, folder, core_matte, name):
    got = harness.read_pgm(folder / f"{name}.pgm").astype(np.float64)
    assert got.shape == core_matte.shape
    diff = np.abs(got - core_matte)
    assert diff.max() <= 2 and diff.mean() <= 0.25, (diff.max(), diff.mean())
    assert 0.2 < got.mean() / 255 < 0.9  # a real sky, not an empty or full matte


def test_layer_stack_xcf_and_png(main_run, folder):
    photo = {"name": "photo", "mask": True, "visible": True, "size": [384, 251], "offsets": [0, 0]}
    replaced = dict(photo, name="Sky replaced", mask=False)
    assert main_run["stack"] == [replaced, photo]  # top first; the original is kept under the result
    assert main_run["xcf_stack"] == main_run["stack"] and main_run["xcf_channels"] == ["Sky"]
    # each result goes directly above the layer it came from (here always the photo)
    assert main_run["stack_after_effects"] == ["Sky replaced", "Sky tinted", "Relit", "photo"]
    assert not main_run["selection_empty"]
    png = load_image(folder / "gimp_result.png").astype(np.int16)
    expected = harness.gimp_core_replace(folder).astype(np.int16)
    diff = np.abs(png - expected)
    assert diff.max() <= 2, diff.max()
    assert np.abs(png - load_image(folder / "photo.png").astype(np.int16)).mean() > 5  # the sky did change


@pytest.mark.parametrize(("kind", "env", "message"), [
    ("crash", {"SKYSEG_WORKER_PYTHON": "/e2e/crash_worker.sh"}, "exit status 7"),
    ("hang", {"SKYSEG_WORKER_PYTHON": "/e2e/hang_worker.sh", "SKYSEG_WORKER_TIMEOUT": "3"}, "did not answer within 3 s"),
])
def test_worker_failure_is_an_error_and_gimp_stays_alive(folder, kind, env, message):
    result = harness.run_gimp(folder, f"error-{kind}", env)
    for key in ("mask_status", "replace_status"):
        status, text = result[key]
        assert status == "execution-error" and message in text, result[key]
    if kind == "crash":
        assert "fake worker: simulated crash" in result["mask_status"][1]
    assert result["alive"] and not result["mask_after_error"]
    assert [layer["name"] for layer in result["stack_after_error"]] == ["photo"]


def test_opens_ora_from_skyseg_replace(folder):
    result = harness.run_gimp(folder, "ora")
    layers = read_ora(folder / "layers.ora")
    assert result["ora_size"] == list(layers.size)
    assert [layer["name"] for layer in result["ora_stack"]] == [layer.name for layer in reversed(list(layers))]
    assert [layer["visible"] for layer in result["ora_stack"]] == [False, True, True]
