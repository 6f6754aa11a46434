"""Output plans: every output of a run is decided before any is written.

A batch (``skyseg mask DIR``, an effect over several photos, one worker request with a side
matte) writes several files. Checking each output only against its own input is not enough:
``a.jpg`` and ``a.png`` in one folder both map to ``a.png``, and two ``a.jpg`` from two
folders map to one ``--out-dir/a.png``. :func:`plan_outputs` looks at the whole run at once
and refuses every job with an output that is an input of the run, a side input (matte, sky
file) or another output of the run; the other jobs still run.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from .errors import OutputError, SkysegError


@dataclasses.dataclass
class Job:
    """One unit of a run: what it reads and what it writes.

    ``outputs`` maps a role (``"output"``, ``"layers"``, ``"matte"``, ...) to a path; ``reads``
    are side inputs besides ``source`` (a matte file). ``error`` is set when the job must not
    run (by the caller, or by :func:`plan_outputs`).
    """

    source: Path | None
    outputs: dict[str, Path] = dataclasses.field(default_factory=dict)
    reads: tuple[Path, ...] = ()
    error: SkysegError | None = None


def file_keys(path: str | os.PathLike) -> set[tuple]:
    """What identifies the file ``path`` names: its resolved path, and its inode if it exists.

    Two paths that share a key are one file (the same name, a symlink, a hard link, ``..``).
    """
    path = os.fspath(path)
    keys: set[tuple] = {("name", os.path.normcase(os.path.abspath(path)))}
    try:
        keys.add(("name", os.path.normcase(os.path.realpath(path))))
    except (OSError, RuntimeError, ValueError):  # a symlink loop, an odd name
        pass
    try:
        info = os.stat(path)
        keys.add(("inode", info.st_dev, info.st_ino))
    except (OSError, ValueError):
        pass
    return keys


def _label(path: Path | None) -> str:
    return "(none)" if path is None else str(path)


def plan_outputs(jobs: list[Job], shared_reads: Iterable[str | os.PathLike] = ()) -> list[Job]:
    """Refuse (set ``error``) every job with an output that is not its own to write.

    Parameters
    ----------
    jobs : list of Job
        The whole run, in order. Jobs that already carry an error take part as readers only.
    shared_reads : paths
        Side inputs every job reads (the sky image of ``replace``, the target of ``relight``).

    Returns
    -------
    jobs : list of Job
        The same list. A refused job gets an :class:`OutputError` that names the output and
        what it would have destroyed; nothing may be written for it. No two outputs of the
        jobs left runnable name one file, and none names a file the run reads.
    """
    readers: dict[tuple, str] = {}
    for path in shared_reads:
        for key in file_keys(path):
            readers.setdefault(key, f"the side input {path}")
    for job in jobs:
        for path in job.reads:
            for key in file_keys(path):
                readers.setdefault(key, f"the side input {path} (read for {_label(job.source)})")
    for job in jobs:
        if job.source is not None:
            for key in file_keys(job.source):
                readers[key] = f"the input {job.source}"  # an input is named as such, first

    writers: dict[tuple, list[tuple[int, str, Path]]] = {}
    for index, job in enumerate(jobs):
        if job.error is not None:
            continue
        for role, path in job.outputs.items():
            keys = file_keys(path)
            if job.source is not None and keys & file_keys(job.source):
                which = "" if os.fspath(path) == os.fspath(job.source) else f" {job.source}"
                job.error = OutputError(
                    f"output would overwrite the input{which}; choose another name or folder", path
                )
                break
            hit = next((readers[key] for key in keys if key in readers), None)
            if hit is not None:
                job.error = OutputError(
                    f"output for {_label(job.source)} would overwrite {hit}; choose another name or folder",
                    path,
                )
                break
            for key in keys:
                writers.setdefault(key, []).append((index, role, path))
    for claims in writers.values():
        if len(claims) < 2:
            continue
        if len({index for index, _, _ in claims}) == 1:
            index, _, path = claims[0]
            roles = " and the ".join(role for _, role, _ in claims)
            if jobs[index].error is None:
                jobs[index].error = OutputError(
                    f"the {roles} of {_label(jobs[index].source)} would be the same file; give them different names",
                    path,
                )
            continue
        sources = list(dict.fromkeys(_label(jobs[index].source) for index, _, _ in claims))
        whose = (
            " and ".join(sources) if len(sources) > 1 else f"{sources[0]} (given more than once)"
        )
        for index, _, path in claims:
            if jobs[index].error is None:
                jobs[index].error = OutputError(
                    f"outputs of {whose} would all be written to this file; nothing is written "
                    "for them: give them different names or folders",
                    path,
                )
    return jobs


def distinct_names(names: Sequence[str]) -> list[str]:
    """Short names for one set of variants of an output (the skies of ``replace --all``), no
    two alike, even where the file system ignores case.

    Each is the name's stem (``sunset`` for ``sunset.jpg``); where stems clash, the whole name
    with its dots as ``_`` (``a_jpg``, ``a_png``); a name still taken gets ``-2``, ``-3``, ...
    So no two variants of one photo can be given one output name.
    """
    stems = [Path(name).stem or name for name in names]
    counts = Counter(stem.casefold() for stem in stems)
    taken: set[str] = set()
    out = []
    for name, stem in zip(names, stems, strict=True):
        base = name.replace(".", "_") if counts[stem.casefold()] > 1 else stem
        candidate, n = base, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{base}-{n}"
        taken.add(candidate.casefold())
        out.append(candidate)
    return out


def plan_one(job: Job, shared_reads: Iterable[str | os.PathLike] = ()) -> Job:
    """Plan a run of one job; raise its :class:`OutputError` if it must not run."""
    plan_outputs([job], shared_reads)
    if job.error is not None:
        raise job.error
    return job


__all__ = ["Job", "distinct_names", "file_keys", "plan_one", "plan_outputs"]
