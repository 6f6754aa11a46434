"""Batches on several processes (``--jobs``) and on a Dask cluster (``--cluster``): the same files,
lines and exit status as one job; a worker that dies costs its photo only (or, on the cluster,
nothing); no partial file; ``--skip-existing`` continues a batch."""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import skyseg_core as sky
from skyseg_core.cli import main
from tests.conftest import synthetic_landscape

distributed = pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")  # a dependency of distributed

pytestmark = pytest.mark.slow

CLUSTER_SECONDS = 60
"""Longest the test cluster may take to start or to stop."""


def skyseg(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real command in its own process (so its workers are forked from it, not from pytest)."""
    return subprocess.run(
        [sys.executable, "-m", "skyseg_core", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def make_photos(folder: Path, count: int, size: tuple[int, int] = (48, 64)) -> Path:
    folder.mkdir()
    for i in range(count):
        image, _ = synthetic_landscape(*size, seed=i)
        sky.save_image(folder / f"p{i:02d}.jpg", image)
    return folder


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden .part files included) by its name."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def batch_workers(pid: int) -> list:
    """The batch's worker processes, oldest first: its grandchildren, since they are forked
    from a fork server (its child, beside the resource tracker), never from the batch itself."""
    helpers = psutil.Process(pid).children()
    workers = [worker for helper in helpers for worker in helper.children()]
    return sorted(workers, key=lambda p: p.create_time())


def _interruptible() -> None:
    """Ctrl-C as in a terminal's foreground, even when the suite itself runs in the background
    (where the shell starts it with SIGINT ignored, which its children inherit)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def parts(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


@pytest.fixture(scope="module")
def cluster():
    """A Dask scheduler and two single-thread worker processes on 127.0.0.1, for this module."""
    pool = concurrent.futures.ThreadPoolExecutor(1)
    try:
        local = pool.submit(
            distributed.LocalCluster,
            host="127.0.0.1",
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # their HTTP servers (health routes) on 127.0.0.1 too, on free ports: the
            # scheduler's would take 8787 on every interface, and warn if it is taken
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            worker_dashboard_address="127.0.0.1:0",
        ).result(timeout=CLUSTER_SECONDS)
    finally:
        pool.shutdown(wait=False)  # a start that timed out is not waited for
    try:
        yield local
    finally:
        local.close(timeout=CLUSTER_SECONDS)


def test_jobs_2_writes_and_prints_what_jobs_1_does(tmp_path):
    photos = make_photos(tmp_path / "in", 5)
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    runs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        args = ["replace", str(photos), "--sky", "golden_hour", "--method", "color", "--json"]
        runs[jobs] = skyseg(*args, "--out-dir", str(out), "--jobs", jobs)
    one, two = runs["1"], runs["2"]
    assert one.returncode == two.returncode == 2
    assert two.stderr == one.stderr and "broken.jpg" in one.stderr
    assert two.stdout == one.stdout.replace(str(tmp_path / "out1"), str(tmp_path / "out2"))
    assert len(files(tmp_path / "out1")) == 5
    assert files(tmp_path / "out2") == files(tmp_path / "out1")


def test_cluster_batch_matches_one_job_and_reports_a_corrupt_photo_as_locally(
    tmp_path, cluster, capsys
):
    photos = make_photos(tmp_path / "in", 4)
    (photos / "p01.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    args = ["mask", str(photos), "--method", "color", "--json"]
    assert main([*args, "--out-dir", str(tmp_path / "one"), "--jobs", "1"]) == 2
    local = capsys.readouterr()
    code = main(
        [*args, "--out-dir", str(tmp_path / "dask"), "--cluster", cluster.scheduler_address]
    )
    remote = capsys.readouterr()
    assert code == 2
    assert remote.err == local.err
    assert local.err.count("skyseg: error:") == 1 and "p01.jpg" in local.err
    assert remote.out == local.out.replace(str(tmp_path / "one"), str(tmp_path / "dask"))
    assert len(files(tmp_path / "one")) == 3
    assert files(tmp_path / "dask") == files(tmp_path / "one")


def test_a_killed_worker_costs_its_photo_only(tmp_path):
    photos = make_photos(tmp_path / "in", 12)
    big, _ = synthetic_landscape(1500, 2000, seed=99)
    sky.save_image(photos / "a_big.jpg", big)  # first: the first worker's, busy for a while
    reference = tmp_path / "reference"
    assert skyseg("mask", str(photos), "--out-dir", str(reference), "--jobs", "1").returncode == 0
    out = tmp_path / "out"
    out.mkdir()
    batch = subprocess.Popen(
        [sys.executable, "-m", "skyseg_core", "mask", str(photos), "--out-dir", str(out)]
        + ["--jobs", "2"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(out.glob("p*.png")) and time.monotonic() < deadline:
            time.sleep(0.002)
        assert not (out / "a_big.png").exists(), "the big photo was done too soon for this test"
        workers = batch_workers(batch.pid)
        workers[0].kill()  # the one working on a_big.jpg
        _, err = batch.communicate(timeout=120)
    finally:
        batch.kill()
    assert batch.returncode == 1, err
    assert err.splitlines() == [
        f"skyseg: error: {photos / 'a_big.jpg'}: not written: the worker process working on it "
        "was killed (SIGKILL, out of memory?)"
    ]
    assert parts(out) == []
    expected = files(reference)
    del expected["a_big.png"]
    assert files(out) == expected  # every other photo, whole


@pytest.mark.parametrize(
    ("stop", "status", "said"),
    [
        (lambda pid: os.kill(pid, signal.SIGTERM), 128 + signal.SIGTERM, "terminated (SIGTERM)"),
        (lambda pid: os.killpg(pid, signal.SIGINT), 130, "interrupted"),  # Ctrl-C: the group
    ],
    ids=["sigterm", "ctrl-c"],
)
def test_a_stopped_batch_stops_every_worker_and_leaves_no_partial_file(
    tmp_path, stop, status, said
):
    photos = make_photos(tmp_path / "in", 16, size=(240, 320))
    out = tmp_path / "out"
    out.mkdir()
    batch = subprocess.Popen(
        [sys.executable, "-m", "skyseg_core", "mask", str(photos), "--out-dir", str(out)]
        + ["--jobs", "2"],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives a command
        preexec_fn=_interruptible,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(out.glob("*.png")) and time.monotonic() < deadline:
            time.sleep(0.005)
        workers = batch_workers(batch.pid)
        assert len(workers) == 2
        everything = psutil.Process(batch.pid).children(recursive=True)
        stop(batch.pid)
        _, err = batch.communicate(timeout=60)
    finally:
        batch.kill()
    assert batch.returncode == status, err
    assert err.splitlines() == [f"skyseg: {said}"]
    _, alive = psutil.wait_procs(everything, timeout=10)  # the helpers end as their pipes close
    assert not [p.cmdline() for p in alive if p.status() != "zombie"]
    assert parts(out) == []
    assert 0 < len(files(out)) < 16
    for matte in out.iterdir():  # what is there is whole
        assert sky.load_image(matte).shape[:2] == (240, 320)


def test_cluster_reruns_a_killed_workers_photos(tmp_path, cluster, capsys):
    photos = make_photos(tmp_path / "in", 16, size=(240, 320))
    reference = tmp_path / "reference"
    assert main(["mask", str(photos), "--out-dir", str(reference), "--jobs", "1"]) == 0
    out = tmp_path / "out"
    out.mkdir()
    killed: list[int] = []

    def kill_a_busy_worker() -> None:
        with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
            pids = client.run(os.getpid)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                busy = [address for address, keys in client.processing().items() if keys]
                if busy and list(out.glob("*.png")):
                    os.kill(pids[busy[0]], signal.SIGKILL)
                    killed.append(pids[busy[0]])
                    return
                time.sleep(0.005)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    try:
        code = main(
            ["mask", str(photos), "--out-dir", str(out), "--cluster"] + [cluster.scheduler_address]
        )
    finally:
        killer.join(timeout=90)
    assert killed, "no worker was busy while the batch ran"
    assert code == 0, capsys.readouterr().err
    assert parts(out) == []
    assert files(out) == files(reference)
    cluster.wait_for_workers(2, timeout=CLUSTER_SECONDS)  # the nanny restarted it


@pytest.mark.parametrize("where", ["jobs", "cluster"])
def test_skip_existing_continues_an_interrupted_batch(tmp_path, where, request):
    photos = make_photos(tmp_path / "in", 4)
    out = tmp_path / "out"
    run = (
        ["--cluster", request.getfixturevalue("cluster").scheduler_address]
        if where == "cluster"
        else ["--jobs", "2"]
    )
    args = ["mask", str(photos), "--out-dir", str(out), "--method", "color"]
    assert skyseg(*args, "--jobs", "1").returncode == 0
    whole = files(out)
    for name in ("p00.png", "p02.png"):  # as a stopped batch leaves it: some done, one .part
        (out / name).unlink()
    (out / ".p02.png.0123abcd.part").write_bytes(b"half")
    resumed = skyseg(*args, *run, "--skip-existing", "--json")
    assert resumed.returncode == 0, resumed.stderr
    records = [json.loads(line) for line in resumed.stdout.splitlines()]
    assert [record.get("skipped") for record in records] == [None, "outputs exist"] * 2
    assert parts(out) == []
    assert files(out) == whole
    again = skyseg(*args, *run)  # without --skip-existing, what is there is refused
    assert again.returncode == 2 and again.stderr.count("already exists") == 4


def test_jobs_must_be_a_whole_number_of_one_or_more(tmp_path, capsys):
    photos = make_photos(tmp_path / "in", 1)
    for value in ("0", "two"):
        with pytest.raises(SystemExit) as stopped:
            main(["mask", str(photos), "--jobs", value])
        assert stopped.value.code == 2
        assert "expected a whole number of 1 or more" in capsys.readouterr().err


def test_skip_existing_and_overwrite_contradict(tmp_path, capsys):
    photos = make_photos(tmp_path / "in", 1)
    assert main(["mask", str(photos), "--skip-existing", "--overwrite", "--method", "color"]) == 2
    assert "--skip-existing keeps the outputs --overwrite would replace" in capsys.readouterr().err


def test_cluster_refuses_stdin_and_an_unreachable_scheduler(tmp_path, capsys):
    photos = make_photos(tmp_path / "in", 1)
    assert main(["mask", "-", "--out-dir", str(tmp_path), "--cluster", "tcp://127.0.0.1:9"]) == 2
    assert "- (stdin, stdout) is this machine's own" in capsys.readouterr().err
    code = main(
        ["mask", str(photos), "--out-dir", str(tmp_path / "o"), "--cluster"] + ["tcp://127.0.0.1:9"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("skyseg: error: tcp://127.0.0.1:9: cannot reach the Dask scheduler")
    assert err.count("\n") == 1


_HELD_IN_THE_CALLER = threading.Lock()


def _where_and_whether_free(job) -> dict:
    free = _HELD_IN_THE_CALLER.acquire(timeout=2)
    if free:
        _HELD_IN_THE_CALLER.release()
    return {"parent": os.getppid(), "lock_free": free}


def test_workers_do_not_inherit_the_callers_locks_or_thread_pools(tmp_path):
    """A program that runs a batch (the suite, the editor) has threads holding locks, LibRaw's
    OpenMP pool, ONNX Runtime sessions: a fork of it would copy them without the threads that
    own them and wait for ever. Workers come from a fresh process instead."""
    from skyseg_core.batch import outcomes
    from skyseg_core.outputs import Job

    jobs = [Job(tmp_path / f"{i}.jpg") for i in range(3)]
    _HELD_IN_THE_CALLER.acquire()
    try:
        reports = [outcome.report for outcome in outcomes(jobs, _where_and_whether_free, workers=2)]
    finally:
        _HELD_IN_THE_CALLER.release()
    assert all(report["lock_free"] for report in reports)
    assert os.getpid() not in {report["parent"] for report in reports}


def test_jobs_2_in_a_process_that_has_developed_raws_and_runs_threads(tmp_path, capsys):
    """The darktable test's hang, end to end: RAWs developed here, then a batch of them."""
    from tests.dngmake import write_dng

    photos = tmp_path / "in"
    photos.mkdir()
    for i in range(4):
        write_dng(photos / f"IMG_{i}.dng", synthetic_landscape(80, 120, seed=i)[0])
    assert main(["mask", str(photos / "IMG_0.dng"), "-o", str(tmp_path / "here.png")]) == 0
    held = threading.Lock()
    held.acquire()  # a lock another thread holds while the batch starts its workers
    waiting = threading.Thread(target=held.acquire, daemon=True)
    waiting.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            batch = pool.submit(main, ["mask", str(photos), "--out-dir", str(tmp_path / "out")])
            assert batch.result(timeout=120) == 0
    finally:
        held.release()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"IMG_{i}.png" for i in range(4)
    ]
