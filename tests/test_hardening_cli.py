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
from pathlib import Path

import pytest

import skyseg_core as sky
from skyseg_core.cli import main
from skyseg_core.cli._common import printable
from tests.corpus import BATCHABLE, CASES, IS_ROOT, PLAN_CASES, ROOT_DIR, _good_jpeg, snapshot


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
        assert lines[0].startswith("skyseg: error: ") and printable(job.mentioned) in lines[0]
        assert not any(ord(c) < 0x20 for c in lines[0]), "control characters reached the terminal"
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
    command = [
        sys.executable,
        "-m",
        "skyseg_core",
        "mask",
        *(str(job.input) for _, job in jobs),
        "--out-dir",
        str(out_dir),
        "--method",
        "color",
        "--json",
        "--quiet",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT_DIR)}
    env.pop("SKYSEG_MAX_PIXELS", None)
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr
    bad = [job for case, job in jobs if not case.ok]
    good = [(case, job) for case, job in jobs if case.ok]
    lines = result.stderr.splitlines()
    assert len(lines) == len(bad), result.stderr
    for line, job in zip(lines, bad, strict=True):
        assert line.startswith("skyseg: error: ") and printable(job.input) in line
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["input"] for r in records] == [str(job.input) for _, job in jobs]
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        f"{job.input.stem}.png" for _, job in good
    )
    for case, job in good:
        assert sky.load_matte(out_dir / f"{job.input.stem}.png").shape == case.shape
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if not k.startswith("mattes")} == before


@pytest.mark.parametrize("case", PLAN_CASES, ids=lambda case: case.name)
def test_batch_output_plan_refuses_collisions(case, tmp_path, monkeypatch, capfd):
    """Every output is planned before any is written: one that is an input, a side input or
    another output of the run costs its input one line and nothing is written for it; the
    rest of the batch runs."""
    spec = case.make(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    code = main([*spec["argv"], "--method", "color", "--quiet"])
    out, err = capfd.readouterr()
    lines = err.splitlines()
    assert code == 2, err
    assert len(lines) == len(spec["refused"]), err
    for line, source in zip(lines, spec["refused"], strict=True):
        assert line.startswith("skyseg: error: ") and source in line, line
    after = snapshot(tmp_path)
    assert {name: after.get(name) for name in before} == before, "a file there before was changed"
    new = sorted(name for name in set(after) - set(before) if not (tmp_path / name).is_dir())
    assert new == sorted(spec["written"]), new
    assert not [name for name in after if name.endswith(".part")]


def test_output_names_that_are_no_file(tmp_path, monkeypatch, capfd):
    """``-o ''`` is not ignored and ``-o x.png/`` does not write ``x.png``."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.jpg").write_bytes(_good_jpeg())
    for value, message in (("", "-o/--output is empty"), ("x.png/", "x.png/: names a folder")):
        assert main(["mask", "a.jpg", "-o", value, "--method", "color"]) == 2
        (line,) = capfd.readouterr().err.splitlines()
        assert message in line
    for value, message in (("", "-o/--output is empty"), ("sky.png/", "sky.png/: names a folder")):
        assert main(["make-sky", "clear_day", "--size", "8x4", "-o", value]) == 2
        (line,) = capfd.readouterr().err.splitlines()
        assert message in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg"]


def test_out_dir_that_cannot_be_created(tmp_path, capfd):
    (tmp_path / "a.jpg").write_bytes(_good_jpeg())
    (tmp_path / "file").write_bytes(b"x")
    code = main(
        [
            "mask",
            str(tmp_path / "a.jpg"),
            "--out-dir",
            str(tmp_path / "file" / "sub"),
            "--method",
            "color",
        ]
    )
    (line,) = capfd.readouterr().err.splitlines()
    assert code == 2 and "cannot create the --out-dir folder" in line


def test_corpus_is_big_enough():
    assert len(CASES) >= 40
    assert sum(case.ok for case in CASES) >= 20 and sum(not case.ok for case in CASES) >= 20


@pytest.mark.skipif(
    not IS_ROOT,
    reason="not root: the corpus cases unreadable.jpg and out_readonly_folder cover this",
)
def test_permission_errors_as_an_unprivileged_user():
    """Root reads chmod-000 files and writes into read-only folders, so the corpus expects
    success there; here the same two cases run as user nobody, where permissions hold."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="skyseg-perm-"))
    try:
        folder.chmod(0o755)
        good = folder / "good.jpg"
        good.write_bytes(_good_jpeg())
        good.chmod(0o644)
        locked = folder / "locked.jpg"
        locked.write_bytes(_good_jpeg())
        locked.chmod(0)
        readonly = folder / "readonly"
        readonly.mkdir(mode=0o755)
        before = snapshot(folder)
        env = {**os.environ, "PYTHONPATH": str(ROOT_DIR), "HOME": str(folder)}
        # The interpreter lives where nobody may not look, so the child starts as root, imports
        # what it needs (one warm-up run) and only then drops to nobody and runs the command.
        drop = (
            "import os, sys\nfrom skyseg_core.cli import main\n"
            f"main(['mask', {str(good)!r}, '-o', {str(folder / 'warm.png')!r}, '--method', 'color', '--quiet'])\n"
            f"os.remove({str(folder / 'warm.png')!r})\n"
            "os.setgroups([]); os.setgid(65534); os.setuid(65534)\n"
            "sys.exit(main(sys.argv[1:]))\n"
        )
        run = lambda *args: subprocess.run(  # noqa: E731
            [sys.executable, "-c", drop, "mask", *args, "--method", "color", "--quiet"],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=folder,
        )
        unreadable = run(str(locked), "-o", str(readonly / "a.png"))
        unwritable = run(str(good), "-o", str(readonly / "b.png"))
        assert unreadable.returncode == 2 and unreadable.stderr.strip().splitlines() == [
            f"skyseg: error: {locked}: permission denied"
        ]
        assert unwritable.returncode == 2, unwritable.stderr
        (line,) = unwritable.stderr.strip().splitlines()
        assert str(readonly / "b.png") in line and "Permission denied" in line
        assert snapshot(folder) == before  # nothing written, inputs untouched
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_KILL_MID_WRITE = """
import os, signal, sys
from skyseg_core.io import atomic as skyseg_io  # where atomic writes call _publish

publish = skyseg_io._publish


def publish_after_signal(tmp, path, overwrite):  # the .part file is complete: now the signal comes
    os.kill(os.getpid(), signal.{signal})
    publish(tmp, path, overwrite)


skyseg_io._publish = publish_after_signal
from skyseg_core.cli import main
from skyseg_core.cli._common import printable
sys.exit(main(sys.argv[1:]))
"""


def test_sighup_ignored_under_nohup_keeps_being_ignored(tmp_path):
    """Started under nohup (SIGHUP ignored), a closed terminal does not stop the batch."""
    import signal

    source = tmp_path / "a.jpg"
    source.write_bytes(_good_jpeg())
    output = tmp_path / "a_sky.png"
    code = _KILL_MID_WRITE.replace("{signal}", "SIGHUP")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "mask",
            str(source),
            "-o",
            str(output),
            "--method",
            "color",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT_DIR)},
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    assert result.returncode == 0, result.stderr
    assert output.is_file() and not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize("command", ["mask", "worker"])
@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGHUP"])
def test_termination_signal_mid_write_leaves_no_part_file(signal_name, command, tmp_path):
    """What ``timeout``, ``kill`` and a closed terminal send unwinds like Ctrl-C (class: signals)."""
    import signal

    source = tmp_path / "a.jpg"
    source.write_bytes(_good_jpeg())
    output = tmp_path / "out" / "a.png"
    output.parent.mkdir()
    before = snapshot(tmp_path)
    code = _KILL_MID_WRITE.replace("{signal}", signal_name)
    env = {**os.environ, "PYTHONPATH": str(ROOT_DIR)}
    if command == "mask":
        argv, stdin = ["mask", str(source), "-o", str(output), "--method", "color", "--quiet"], ""
    else:
        argv = ["worker"]
        stdin = (
            json.dumps(
                {
                    "id": 1,
                    "op": "mask",
                    "input": str(source),
                    "output": str(output),
                    "params": {"method": "color"},
                }
            )
            + "\n"
        )
    signum = getattr(signal, signal_name)
    # as from a terminal: the signal's default disposition (a test run under nohup ignores SIGHUP)
    result = subprocess.run(
        [sys.executable, "-c", code, *argv],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        preexec_fn=lambda: signal.signal(signum, signal.SIG_DFL),
    )
    assert result.returncode == 128 + signum, result.stderr
    assert f"terminated ({signal_name})" in result.stderr
    assert snapshot(tmp_path) == before, "a .part file or a partial output was left"


def test_export_never_writes_over_its_checkpoint(tmp_path, capfd):
    """The output plan holds for single-output commands too: -o onto the input is refused."""
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"a checkpoint, keep it")
    link = tmp_path / "link.onnx"
    link.symlink_to(checkpoint)
    for output in (checkpoint, link):
        assert main(["export", str(checkpoint), "-o", str(output), "--overwrite"]) == 2
        (line,) = capfd.readouterr().err.splitlines()
        assert "overwrite the input" in line
    assert checkpoint.read_bytes() == b"a checkpoint, keep it"
