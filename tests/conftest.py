"""Shared fixtures: synthetic photos and paths to the shared data (read-only)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Hypothesis profiles. "ci" (default): tests/test_fuzz.py runs a multiple of max_examples per
# target, 10,000 generated cases in all, deterministic. "long" (`make fuzz`): random and
# 30 times more. A non-fuzz property test should set its own @settings(max_examples=...).
settings.register_profile("ci", max_examples=1000, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("long", max_examples=30_000, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
SKYSEG_DATA = SHARED_DATA / "skyseg"
SAMPLE_PHOTO = ROOT / "assets" / "samples" / "rocket.jpg"

HOST_TEST_TIMEOUT = 900
"""Seconds for a test marked ``hosts``: tests/hosts/harness.py gives each GIMP or Krita run 600 s
to fail with its own message, and the first test of a module also pays the module's set-up;
the default per-test timeout (pyproject.toml) is shorter."""


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("hosts") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(HOST_TEST_TIMEOUT))


def synthetic_landscape(
    height: int = 120, width: int = 160, dtype=np.uint8, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A blue-gradient sky over a dark green hill with a wavy horizon; returns (image, truth)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    horizon = height * (0.55 + 0.08 * np.sin(xx[0] / width * 2 * np.pi * 1.5))
    sky = yy < horizon[None, :]
    t = yy / height
    image = np.empty((height, width, 3), np.float32)
    image[..., 0] = 0.35 + 0.3 * t
    image[..., 1] = 0.55 + 0.25 * t
    image[..., 2] = 0.95 - 0.1 * t
    ground = np.stack([0.15 + 0.05 * t, 0.3 + 0.05 * t, 0.1 + 0.0 * t], axis=-1)
    image = np.where(sky[..., None], image, ground)
    image = np.clip(image + rng.normal(0, 0.01, image.shape), 0, 1)
    scale = np.iinfo(dtype).max if np.issubdtype(dtype, np.integer) else 1.0
    return (image * scale).round().astype(dtype) if scale != 1.0 else image.astype(dtype), sky


@pytest.fixture
def landscape():
    return synthetic_landscape()


@pytest.fixture
def scene():
    """The effects' test scene: (image, matte as float32, truth as bool), 90 x 120."""
    image, truth = synthetic_landscape(90, 120, seed=3)
    return image, truth.astype(np.float32), truth


def require_shared_data() -> Path:
    """The shared data folder; CI has it beside the checkout, so its absence is a failure."""
    assert SKYSEG_DATA.is_dir(), f"shared data not found at {SKYSEG_DATA}"
    return SKYSEG_DATA


def validation_subset(per_dataset: dict[str, int]) -> list:
    """A fixed subset of the validation split: ``per_dataset[name]`` evenly spaced samples each."""
    from skyseg_core.datasets import find_samples

    samples = find_samples(require_shared_data(), split="val")
    chosen = []
    for dataset, count in per_dataset.items():
        pool = [s for s in samples if s.dataset == dataset]
        assert len(pool) >= count, f"{dataset}: only {len(pool)} validation images"
        step = len(pool) / count
        chosen += [pool[int(i * step)] for i in range(count)]
    return chosen


@pytest.fixture
def sources(tmp_path, monkeypatch):
    """A copy of the plug-in sources that ``skyseg install-plugin`` copies from (the install
    tests change it, or find their own files refused in it)."""
    import shutil

    from skyseg_core.cli import install_plugin
    from skyseg_core.resources import plugins_dir

    copy = tmp_path / "checkout" / "plugins"
    shutil.copytree(plugins_dir(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(install_plugin, "PLUGINS", copy)
    return copy
