"""How many threads one process's numeric libraries may use.

A batch spread over N worker processes (``--jobs``, a Dask worker) gives each of them a share of
the cores; left alone, every ONNX Runtime session and OpenCV would each take all the cores, and
N jobs would run N times as many threads as there are cores. The share travels in an environment
variable, so that it holds in whichever process builds a session.
"""

from __future__ import annotations

import os

THREADS_ENV = "SKYSEG_THREADS"
"""Threads this process may use for one photo (set by :func:`limit_threads`)."""


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, which a batch system may narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no sched_getaffinity (macOS, Windows)
        return os.cpu_count() or 1


def compute_threads(default: int) -> int:
    """The intra-op thread count for a new ONNX Runtime session: the process's share when one
    was set, else ``default``."""
    share = os.environ.get(THREADS_ENV, "")
    return int(share) if share.isdigit() and int(share) > 0 else default


def share_threads(count: int) -> None:
    """ONNX Runtime sessions built in this process from now on use ``count`` threads."""
    os.environ[THREADS_ENV] = str(max(1, count))


def limit_threads(count: int) -> None:
    """Give this process ``count`` threads: OpenCV now, ONNX Runtime sessions built from now on."""
    import cv2

    share_threads(count)
    cv2.setNumThreads(max(1, count))


__all__ = [
    "THREADS_ENV",
    "compute_threads",
    "limit_threads",
    "share_threads",
    "usable_cores",
]
