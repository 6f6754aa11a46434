"""scripts/video_gif.py's cut of a real clip: the frames asked for, in order, timed from zero."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("av")

from tests.videoclips import read_clip, write_clip  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("video_gif", ROOT / "scripts" / "video_gif.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("video_gif", module)
    spec.loader.exec_module(module)
    return module


def _numbered_frames(count: int) -> list[np.ndarray]:
    """Flat grey frames whose level tells their index (20 levels apart: safe through H.264)."""
    return [np.full((48, 64, 3), 20 + 20 * i, np.uint8) for i in range(count)]


def test_cut_clip_keeps_the_frames_asked_for_at_the_source_rate(tmp_path):
    source = write_clip(tmp_path / "source.mp4", _numbered_frames(12), rate=10, audio=True)
    cut = _script().cut_clip(source, tmp_path / "cut.mp4", start=0.3, seconds=0.5)
    frames, facts = read_clip(cut)
    levels = [round((float(f.mean()) - 20) / 20) for f in frames]
    assert levels == [3, 4, 5, 6, 7]
    assert facts["info"].rate == 10
    assert facts["pts"][0] == 0
    assert facts["info"].audio == 0  # the GIF has no sound


def test_cut_clip_refuses_a_span_past_the_end(tmp_path):
    source = write_clip(tmp_path / "source.mp4", _numbered_frames(6), rate=10)
    with pytest.raises(SystemExit, match="6 frames"):
        _script().cut_clip(source, tmp_path / "cut.mp4", start=0.3, seconds=0.5)
    assert not (tmp_path / "cut.mp4").exists()
