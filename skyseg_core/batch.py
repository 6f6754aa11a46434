"""How a batch's jobs are worked: one after another in this process, by worker processes on this
machine (``--jobs``), or as tasks on a running Dask cluster (``--cluster``) (one module of about
420 lines: the three ways share the outcome, the clean-up of a lost job and each worker's threads).

Every strategy takes the planned jobs (:class:`~skyseg_core.outputs.Job`, outputs already
checked against each other) and ``process``, the function that does one job and returns its
report. What came of each job travels back as an :class:`Outcome`, plain data a pipe or a Dask
task can carry, and the outcomes come back in input order whatever order the jobs finish in, so
what a batch prints does not depend on how it ran.

- **Worker processes** come from a fork server, a fresh process started for them, never from
  this one: what this process holds (ONNX Runtime's and LibRaw's OpenMP thread pools, OpenCV's,
  locks held by other threads) would be copied into a fork without the threads that own them,
  and wait for ever. ``process``, which may be any closure, is sent to each one with cloudpickle.
  Each loads the model at its first photo and keeps it, with its share of the cores for ONNX
  Runtime and OpenCV. One job at a time goes to each worker, so a worker that dies (killed, out
  of memory) costs the photo it held, named in one line, and a new worker takes its place. Ctrl-C
  or SIGTERM stops every worker; each unwinds and removes its unfinished ``.part`` files.
- **A Dask cluster** gets one task per photo; ``process`` is sent once (cloudpickle as well) and
  kept by each worker process with the models it loads. Files are read and written by path, so every
  worker must see the same storage at the same paths. When a worker dies, the scheduler reruns
  its tasks elsewhere; each attempt first removes the ``.part`` files a killed attempt left.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import io
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import uuid
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import Any

from ._signals import signals_as_interrupt
from ._threads import limit_threads, usable_cores
from .errors import EXIT_INTERNAL, EXIT_OK, InputError, PartsFailed, SkysegError
from .outputs import Job

Process = Callable[[Job], dict]
"""Does one job and returns its report (what ``--json`` prints); raises :class:`SkysegError`."""

STOP_SECONDS = 30.0
"""How long stopped workers get to remove their temporary files before they are killed."""

CONNECT_SECONDS = 20.0
"""How long ``--cluster`` waits for the scheduler to answer."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one job came to: its report, or the error lines it costs."""

    report: dict | None = None
    """``process``'s report when the job succeeded."""
    lines: tuple[str, ...] = ()
    """Error lines, one per output that was not written."""
    error: str | None = None
    """The error as ``--json`` gives it; None with ``record`` false."""
    exit_code: int = EXIT_OK
    done: dict | None = None
    """What was written when only some outputs failed (:class:`PartsFailed`)."""
    record: bool = True
    """Whether ``--json`` has a record for it (none for running out of memory, as ever)."""
    printed: str = ""
    """What the job printed on stderr in a worker, shown in its place in the batch's output."""

    @property
    def ok(self) -> bool:
        return not self.lines

    @classmethod
    def of_error(cls, exc: SkysegError) -> Outcome:
        if isinstance(exc, PartsFailed):
            return cls(
                lines=tuple(exc.lines()), error=str(exc), exit_code=exc.exit_code, done=exc.done
            )
        return cls(lines=(str(exc),), error=str(exc), exit_code=exc.exit_code)

    @classmethod
    def lost(cls, job: Job, why: str) -> Outcome:
        """The job's worker died under it: one line naming the photo; the batch goes on."""
        message = f"{job.source}: not written: the worker process working on it {why}"
        return cls(lines=(message,), error=message, exit_code=EXIT_INTERNAL)


def run_job(process: Process, job: Job) -> Outcome:
    """Do one job here; a :class:`SkysegError` or running out of memory costs this job only."""
    try:
        if job.error is not None:
            raise job.error
        return Outcome(report=process(job))
    except SkysegError as exc:
        return Outcome.of_error(exc)
    except MemoryError:
        return Outcome(
            lines=(f"{job.source}: out of memory",), exit_code=EXIT_INTERNAL, record=False
        )


def _run_captured(process: Process, job: Job) -> Outcome:
    """:func:`run_job` in a worker, holding what it prints until the batch shows it in order."""
    printed = io.StringIO()
    with contextlib.redirect_stderr(printed):
        outcome = run_job(process, job)
    return dataclasses.replace(outcome, printed=printed.getvalue())


def outcomes(
    jobs: Sequence[Job],
    process: Process,
    *,
    workers: int = 1,
    cluster: Any = None,
    finished: Callable[[], Any] = lambda: None,
) -> Generator[Outcome, None, None]:
    """The outcome of each job, in the order of ``jobs`` (close it to stop the workers early).

    ``workers``: processes on this machine (1: in this process); ``cluster``: a Dask client
    (:func:`connect`) to run them on instead. ``finished`` is called as each job ends,
    in the order they end (a progress bar).
    """
    if cluster is not None:
        return _on_cluster(jobs, process, cluster, finished)
    workers = min(workers, len(jobs))
    if workers > 1:
        return _in_processes(jobs, process, workers, finished)
    return _in_this_process(jobs, process, finished)


def _in_this_process(jobs, process, finished) -> Generator[Outcome, None, None]:
    for job in jobs:
        outcome = run_job(process, job)
        finished()
        yield outcome


@dataclasses.dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: multiprocessing.connection.Connection
    task: int | None = None


def _worker_main(conn, pickled: bytes, threads: int) -> None:
    """A worker process: jobs in, outcomes out, until told to stop or interrupted."""
    import cloudpickle

    limit_threads(threads)
    process: Process = cloudpickle.loads(pickled)
    try:
        with signals_as_interrupt():  # SIGTERM unwinds through the .part files' clean-up
            while (task := conn.recv()) is not None:
                index, job = task
                try:
                    outcome: Outcome | BaseException = _run_captured(process, job)
                except Exception as exc:  # a bug: raised by the batch, as it is with one job
                    outcome = exc
                _send(conn, index, outcome)
    except (KeyboardInterrupt, EOFError, BrokenPipeError):
        pass  # the batch stops (Ctrl-C, SIGTERM) or is gone: its unfinished files went already
    finally:
        conn.close()


def _send(conn, index: int, outcome: Outcome | BaseException) -> None:
    try:
        conn.send((index, outcome))
    except (TypeError, AttributeError, pickle.PicklingError):  # an exception pickle cannot carry
        conn.send((index, RuntimeError(f"{type(outcome).__name__}: {outcome}")))


def _worker_context():
    """Fork server where there is one (workers start in milliseconds, the modules they need
    already imported), else spawn (macOS, Windows): never a fork of this process."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


_PRELOAD = ["skyseg_core.batch", "skyseg_core.pipeline", "skyseg_core.methods"]
"""Imported once by the fork server, so that no worker imports them again."""


def _start_worker(context, pickled: bytes, threads: int) -> _Worker:
    ours, theirs = context.Pipe()
    child = context.Process(target=_worker_main, args=(theirs, pickled, threads), daemon=True)
    child.start()
    theirs.close()
    return _Worker(child, ours)


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        return f"was killed ({name}{', out of memory?' if -exitcode == signal.SIGKILL else ''})"
    return f"stopped (exit status {exitcode})"


def _forget_worker(workers: list[_Worker], worker: _Worker) -> None:
    workers.remove(worker)
    worker.conn.close()
    worker.process.join(STOP_SECONDS)


def new_outputs(job: Job) -> tuple[Path, ...]:
    """The outputs of ``job`` not there before it ran: what only it may have written since."""
    return tuple(path for path in job.outputs.values() if not os.path.lexists(path))


def _clear(job: Job, written_by_it: tuple[Path, ...]) -> None:
    """Remove what an attempt at ``job`` whose worker died left: the ``.part`` files no
    ``finally`` removed, and the outputs it published before its report was lost (all or
    nothing: the job is done again, or reported as not written)."""
    from .io import remove_temporary_files

    for path in job.outputs.values():
        remove_temporary_files(path)
    for path in written_by_it:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _lost(job: Job, written_by_it: tuple[Path, ...], why: str) -> Outcome:
    _clear(job, written_by_it)
    return Outcome.lost(job, why)


def _in_processes(jobs, process, count: int, finished) -> Generator[Outcome, None, None]:
    import cloudpickle

    context = _worker_context()
    pickled = cloudpickle.dumps(process)
    threads = max(1, usable_cores() // count)
    waiting = collections.deque(range(len(jobs)))
    ready: dict[int, Outcome] = {}
    workers: list[_Worker] = []
    fresh = [new_outputs(job) for job in jobs]

    def hand_out() -> None:
        while waiting:
            idle = next((w for w in workers if w.task is None), None)
            if idle is None:
                if len(workers) >= count:
                    return
                idle = _start_worker(context, pickled, threads)
                workers.append(idle)
            index = waiting.popleft()
            try:
                idle.conn.send((index, jobs[index]))
            except (BrokenPipeError, EOFError, OSError):  # died idle: the job never started
                waiting.appendleft(index)
                _forget_worker(workers, idle)
                continue
            idle.task = index

    def collect() -> None:
        busy = [w for w in workers if w.task is not None]
        signalled = multiprocessing.connection.wait(
            [w.conn for w in busy] + [w.process.sentinel for w in busy]
        )
        for worker in busy:
            if worker.conn not in signalled and worker.process.sentinel not in signalled:
                continue
            try:
                message = worker.conn.recv() if worker.conn.poll() else None
            except (EOFError, OSError):  # it died before or while answering
                message = None
            if message is not None:
                index, outcome = message
                if isinstance(outcome, BaseException):
                    raise outcome
                ready[index] = outcome
                worker.task = None
                finished()
                continue
            task = worker.task
            _forget_worker(workers, worker)
            assert task is not None  # only busy workers are looked at
            ready[task] = _lost(jobs[task], fresh[task], _death(worker.process.exitcode))
            finished()

    stopped = True
    try:
        for index in range(len(jobs)):
            while index not in ready:
                hand_out()
                collect()
            yield ready.pop(index)
        stopped = False
    finally:
        _stop_workers(workers, jobs, fresh, interrupted=stopped)


def _stop_workers(workers: list[_Worker], jobs, fresh, interrupted: bool) -> None:
    """End the workers: told to stop after the batch, or sent SIGTERM when it was interrupted
    (each unwinds, removing its ``.part`` files); one that outlasts :data:`STOP_SECONDS` is
    killed and its photo's leftovers removed here."""
    for worker in workers:
        with contextlib.suppress(OSError):
            if interrupted and worker.process.pid is not None:
                os.kill(worker.process.pid, signal.SIGTERM)
            else:
                worker.conn.send(None)
    for worker in workers:
        worker.process.join(STOP_SECONDS)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
            if worker.task is not None:
                _clear(jobs[worker.task], fresh[worker.task])
        worker.conn.close()


_cluster_process: dict[str, Process] = {}
"""In a Dask worker process: the current batch's ``process`` (by batch token), unpickled once and
kept with what it loads (skies, and the models :func:`skyseg_core.methods.get` keeps)."""


def _cluster_task(
    token: str, pickled: bytes, threads_beside: dict, job: Job, written_by_it: tuple[Path, ...]
) -> Outcome:
    """One photo of a batch, run by a Dask worker. ``threads_beside``: worker address -> the
    threads of all the workers on its machine, which share its cores; ``written_by_it``: the
    job's outputs that were not there when the batch was planned, so any there now are an
    earlier attempt's."""
    import cloudpickle
    from distributed import get_worker

    process = _cluster_process.get(token)
    if process is None:
        worker = get_worker()
        sharing = threads_beside.get(worker.address, worker.state.nthreads)
        limit_threads(max(1, usable_cores() // max(1, sharing)))
        _cluster_process.clear()  # one batch at a time is kept
        process = _cluster_process[token] = cloudpickle.loads(pickled)
    _clear(job, written_by_it)  # an earlier attempt's, on a worker that died
    return _run_captured(process, job)


def connect(address: str):
    """A :class:`distributed.Client` of the scheduler at ``address``, or one :class:`InputError`
    saying why not (the extra is missing, nothing answers)."""
    try:
        from distributed import Client
    except ImportError:
        raise InputError(
            "--cluster needs Dask's distributed: pip install 'skyseg[cluster]'"
        ) from None
    try:
        return Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(f"cannot reach the Dask scheduler ({exc})", address) from None


def _threads_by_machine(client) -> dict[str, int]:
    """Worker address -> the threads of every worker on the same machine (a machine's worker
    processes share its cores)."""
    try:
        workers = client.scheduler_info(n_workers=-1)["workers"]  # all, not the first five
    except TypeError:  # distributed before n_workers: all of them
        workers = client.scheduler_info()["workers"]
    per_host: collections.Counter[str] = collections.Counter()
    for info in workers.values():
        per_host[info["host"]] += info["nthreads"]
    return {address: per_host[info["host"]] for address, info in workers.items()}


def _on_cluster(jobs, process, client, finished) -> Generator[Outcome, None, None]:
    import cloudpickle
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    token = uuid.uuid4().hex[:12]
    fresh = [new_outputs(job) for job in jobs]
    threads_beside = _threads_by_machine(client)
    futures = []
    try:
        [shared] = client.scatter([cloudpickle.dumps(process)], broadcast=True, hash=False)
        futures = [
            client.submit(
                _cluster_task,
                token,
                shared,
                threads_beside,
                job,
                fresh[i],
                key=f"skyseg-{token}-{i}",
                pure=False,
            )
            for i, job in enumerate(jobs)
        ]
        index_of = {future.key: i for i, future in enumerate(futures)}
        ready: dict[int, Outcome] = {}
        arriving = as_completed(futures, loop=client.loop)
        for index in range(len(jobs)):
            while index not in ready:
                future = next(arriving)
                done = index_of[future.key]
                try:
                    ready[done] = future.result()
                except KilledWorker:  # its worker died more times than the scheduler retries
                    ready[done] = _lost(jobs[done], fresh[done], "died on every attempt")
                finished()
            yield ready.pop(index)
    finally:  # tasks not started never start; running ones finish their files whole
        with contextlib.suppress(Exception):
            client.cancel(futures)


__all__ = ["Outcome", "connect", "outcomes", "run_job"]
