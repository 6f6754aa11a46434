"""Every corpus case through `skyseg mask`, and one batch that mixes good and bad inputs.

Exit 0 and a matte PNG of the right size, or exit 2 with exactly one stderr line naming the
file (nothing else on the C-level stderr either: decoder noise counts). The input stays
byte-identical; no partial or temporary file is left behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import skyseg_core as sky
from skyseg_core.cli import main
from tests.corpus import BATCHABLE, CASES, ROOT_DIR, snapshot


def mask_args(job) -> list[str]:
    args = ["mask", str(job.input), "-o", str(job.output), "--method", job.method, "--quiet"]
    if job.overwrite:
        args.append("--overwrite")
    if job.max_pixels is not None:
        args += ["--max-pixels", str(job.max_pixels)]
    return args


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_cli_survives(case, tmp_path, monkeypatch, capfd):
    job = case.prepare(tmp_path, monkeypatch)
    before = snapshot(tmp_path)
    code = main(mask_args(job))
    out, err = capfd.readouterr()
    lines = err.splitlines()
    if case.ok:
        assert (code, lines) == (0, []), err
        job.check_files(before, produced=True)
        assert sky.load_matte(job.output).shape == case.shape
    else:
        assert code == 2, err
        assert len(lines) == 1, f"expected one error line, got:\n{err}"
        assert lines[0].startswith("skyseg: error: ") and job.mentioned in lines[0]
        if case.match:
            assert case.match in lines[0]
        job.check_files(before, produced=False)
    assert out == ""


@pytest.mark.slow
def test_batch_of_good_and_bad_inputs_goes_on(tmp_path):
    """One real process over every batchable case: each bad input costs one line, the rest get mattes."""
    jobs = [(case, case.prepare(tmp_path / f"case{i:02d}")) for i, case in enumerate(BATCHABLE)]
    before = snapshot(tmp_path)
    out_dir = tmp_path / "mattes"
    command = [sys.executable, "-m", "skyseg_core", "mask", *(str(job.input) for _, job in jobs),
               "--out-dir", str(out_dir), "--method", "color", "--json", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT_DIR)}
    env.pop("SKYSEG_MAX_PIXELS", None)
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    bad = [job for case, job in jobs if not case.ok]
    good = [(case, job) for case, job in jobs if case.ok]
    lines = result.stderr.splitlines()
    assert len(lines) == len(bad), result.stderr
    for line, job in zip(lines, bad, strict=True):
        assert line.startswith("skyseg: error: ") and str(job.input) in line
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["input"] for r in records] == [str(job.input) for _, job in jobs]
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(f"{job.input.stem}.png" for _, job in good)
    for case, job in good:
        assert sky.load_matte(out_dir / f"{job.input.stem}.png").shape == case.shape
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if not k.startswith("mattes")} == before


def test_corpus_is_big_enough():
    assert len(CASES) >= 40
    assert sum(case.ok for case in CASES) >= 20 and sum(not case.ok for case in CASES) >= 20
