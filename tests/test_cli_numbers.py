"""The whole-number options (--quality, --jobs, --crf) take their range and say what they expect."""

from __future__ import annotations

import argparse

import pytest

from skyseg_core.cli._common import jobs_argument, quality_argument
from skyseg_core.cli._video import crf_argument

CASES = [
    (quality_argument, ("1", "100"), ("0", "101"), "a whole number from 1 to 100"),
    (jobs_argument, ("1", "512"), ("0", "-3"), "a whole number of 1 or more"),
    (crf_argument, ("0", "51"), ("-1", "52"), "a whole number from 0 to 51"),
]


@pytest.mark.parametrize(("parse", "good", "bad", "expected"), CASES)
def test_whole_number_options(parse, good, bad, expected):
    for text in good:
        assert parse(text) == int(text)
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError) as info:
            parse(text)
        assert str(info.value) == f"expected {expected}, got {int(text)}"
    with pytest.raises(argparse.ArgumentTypeError) as info:
        parse("2.5")
    assert str(info.value) == f"expected {expected}, got '2.5'"


def test_the_command_line_refuses_a_quality_out_of_range(capsys):
    from skyseg_core.cli import main

    with pytest.raises(SystemExit) as info:
        main(["mask", "photo.jpg", "--quality", "0"])
    assert info.value.code == 2
    assert "expected a whole number from 1 to 100, got 0" in capsys.readouterr().err
