"""What the sub-commands share: the per-input batch loop (:func:`run_batch`).

The options they declare are in :mod:`._options`, the planning of inputs and outputs in
:mod:`._inputs`, what they print in :mod:`._lines`; the names other modules took from here
are re-exported below.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from .._threads import usable_cores
from ..batch import Outcome, connect, outcomes
from ..errors import EXIT_OK, EXIT_USAGE, InputError, OutputError, SkysegError
from ..io import path_kind, remove_temporary_files, subfolders, walk_inputs, write_failure
from ..outputs import Job, plan_outputs
from ._inputs import (
    Run,
    as_given,
    check_pipes,
    current_run,
    read_stdin,
    spool_folder,
)
from ._lines import error_line, json_line, notes_as_lines, printable
from ._options import (
    create_folder,
    jobs_argument,
    make_folder,
    quality_argument,
    whole_number_argument,
)

__all__ = [  # run_batch, and the names cli/_video.py and the tests import from here
    "error_line",
    "jobs_argument",
    "json_line",
    "make_folder",
    "printable",
    "quality_argument",
    "run_batch",
    "whole_number_argument",
]


def _make_parents(job: Job, args: argparse.Namespace) -> None:
    """Create the mirrored sub-folders of ``--out-dir`` the job's outputs go into."""
    out_dir = getattr(args, "out_dir", None)
    if not out_dir:
        return
    for path in job.outputs.values():
        parent = path.parent
        if path_kind(parent, OutputError) != "folder" and Path(
            os.path.commonpath([os.path.abspath(parent), os.path.abspath(out_dir)])
        ) == Path(os.path.abspath(out_dir)):
            create_folder(parent, f"the folder {parent}", path)


def _send_stdout(path: Path) -> None:
    try:
        with open(path, "rb") as fh:
            shutil.copyfileobj(fh, sys.stdout.buffer, 1 << 20)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        raise OutputError("standard output was closed before the image was written", "-") from None
    except OSError as exc:  # a full disk or file-size limit behind stdout (> out.png, /dev/full)
        reason = write_failure(exc, "the image there is incomplete")
        raise OutputError(f"cannot write to standard output ({reason})", "-") from None
    finally:
        path.unlink(missing_ok=True)


def run_batch(
    inputs: list[str],
    process: Callable[[Job], dict],
    args: argparse.Namespace,
    what: str = "images",
    plan: Callable[[Path], Job] | None = None,
    shared_reads: tuple[Path, ...] = (),
) -> int:
    """Run ``process`` on each input (files, folders of images, ``-`` for stdin) with a progress bar.

    ``plan(path)`` says what each input reads and writes (default: nothing); every output of the
    batch is planned before any is written (:func:`skyseg_core.outputs.plan_outputs`), and an
    input whose output would destroy an input, a side input or another output is refused. A
    :class:`SkysegError` on one input prints one line on stderr and the batch goes on.
    ``--recursive`` reads sub-folders (outputs mirrored under ``--out-dir``); an output planned
    at ``-o -`` is streamed to stdout once ``process`` has written it. Messages, notes and the
    progress bar go to stderr only.
    Returns the exit status: 0 if all succeeded, else the worst failure's code.
    """
    started = time.monotonic()
    try:
        check_pipes(list(inputs), args)
    except SkysegError as exc:
        error_line(exc)
        return EXIT_USAGE
    pipes = "-" in inputs or getattr(args, "output", None) == "-"
    with spool_folder(pipes) as spool:
        run = Run(spool=spool)
        token = current_run.set(run)
        try:
            return _run_jobs(inputs, process, args, what, plan, shared_reads, run, started)
        finally:
            current_run.reset(token)


def _run_jobs(inputs, process, args, what, plan, shared_reads, run: Run, started: float) -> int:
    from tqdm import tqdm

    quiet = getattr(args, "quiet", False)
    recursive = getattr(args, "recursive", False)
    given = list(inputs)
    if "-" in given:
        assert run.spool is not None  # a "-" input made the batch open its spool
        try:
            run.stdin = read_stdin(run.spool, getattr(args, "max_pixels", None))
        except SkysegError as exc:
            error_line(exc)
            return EXIT_USAGE
        given = [str(run.stdin) if item == "-" else item for item in given]
    out_dir = getattr(args, "out_dir", None)
    entries = walk_inputs(given, recursive, skip=(out_dir,) if out_dir else ())
    if not entries:
        print("skyseg: error: no input images found", file=sys.stderr)
        return EXIT_USAGE
    if not recursive and not quiet:
        for item in given:
            nested = subfolders(item)
            if nested:
                print(
                    f"skyseg: note: {printable(item)}: {len(nested)} sub-folder(s) not read (add --recursive)",
                    file=sys.stderr,
                )
    run.folders = {entry.path: entry.folder for entry in reversed(entries)}  # first mention wins
    if out_dir:
        try:
            make_folder(out_dir, "--out-dir")
        except OutputError as exc:
            error_line(exc)
            return EXIT_USAGE
    jobs = []
    for path, _, error in entries:
        try:
            if error is not None:
                raise error
            jobs.append(plan(path) if plan is not None else Job(path))
        except SkysegError as exc:
            jobs.append(Job(path, error=exc))
    plan_outputs(jobs, shared_reads)
    refused = {  # settled here: never sent to a worker
        i: Outcome.of_error(job.error) for i, job in enumerate(jobs) if job.error is not None
    }
    skipped = {
        i
        for i, job in enumerate(jobs)
        if getattr(args, "skip_existing", False) and i not in refused and _all_exist(job)
    }
    todo = [job for i, job in enumerate(jobs) if i not in skipped and i not in refused]
    if getattr(args, "skip_existing", False):
        for job in todo:  # what a batch stopped outright (SIGKILL, a power cut) left half written
            for output in job.outputs.values():
                remove_temporary_files(output)
    client = None
    if getattr(args, "cluster", None) is not None and todo:
        try:
            client = connect(args.cluster)
        except SkysegError as exc:
            error_line(exc)
            return EXIT_USAGE
    status = EXIT_OK
    done = failed = 0
    show = not quiet and len(entries) > 1 and sys.stderr.isatty()
    bar = tqdm(total=len(jobs), desc=what, unit="img", disable=not show)

    def attempt(job: Job) -> dict:
        _make_parents(job, args)
        try:
            with notes_as_lines(quiet):  # in a worker process too, which main() never ran in
                return process(job)
        except OSError as exc:  # a file system refusal no check foresaw: this input only
            raise InputError(exc.strerror or str(exc), exc.filename or job.source) from None

    worked = outcomes(
        todo,
        attempt,
        workers=getattr(args, "jobs", None) or usable_cores(),
        cluster=client,
        finished=bar.update,
    )
    try:
        for i, job in enumerate(jobs):
            if i in skipped:
                bar.update()
                if args.json:
                    record = {
                        "input": as_given(job.source, run),
                        "ok": True,
                        "skipped": "outputs exist",
                    }
                    print(json_line(record), flush=True)
                continue
            if i in refused:
                outcome = refused[i]
                bar.update()
            else:
                outcome = next(worked)
            if outcome.printed:
                sys.stderr.write(outcome.printed)
                sys.stderr.flush()
            if outcome.ok:
                if run.stdout is not None and run.stdout in job.outputs.values():
                    try:
                        _send_stdout(run.stdout)
                    except SkysegError as exc:
                        outcome = Outcome.of_error(exc)
            _show(job, outcome, args, run)
            if outcome.ok:
                done += 1
            else:
                failed += 1
                status = max(status, outcome.exit_code)
    finally:
        worked.close()  # now, not when collected: an interrupt stops the workers here
        bar.close()
        if client is not None:
            client.close()
    if show:
        print(
            f"skyseg: {what}: {done} done, {failed} failed"
            + (f", {len(skipped)} skipped" if skipped else "")
            + f", {time.monotonic() - started:.1f} s",
            file=sys.stderr,
        )
    return status


def _all_exist(job: Job) -> bool:
    """Whether every output of ``job`` is there (``--skip-existing``: written by an earlier run;
    outputs appear whole or not at all)."""
    return bool(job.outputs) and all(os.path.lexists(path) for path in job.outputs.values())


def _show(job: Job, outcome: Outcome, args: argparse.Namespace, run: Run) -> None:
    """Print what came of one input: its error lines on stderr, its ``--json`` record."""
    for line in outcome.lines:  # one line per output that was not written
        error_line(as_given(line, run))
    if not args.json or not outcome.record:
        return
    if outcome.ok:
        assert outcome.report is not None  # a job that succeeded has its report
        record = {
            "input": as_given(job.source, run),
            "ok": True,
            **{k: as_given(v, run) if isinstance(v, str) else v for k, v in outcome.report.items()},
        }
    else:
        record = {
            "input": as_given(job.source, run),
            "ok": False,
            "error": as_given(outcome.error, run),
        }
        if outcome.done is not None:
            record["done"] = outcome.done
    print(json_line(record), flush=True)
