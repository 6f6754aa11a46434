"""Termination signals handled like Ctrl-C, so an interrupted write cleans up after itself.

``timeout``, ``kill`` and a closed terminal send SIGTERM or SIGHUP, whose default action ends
the process on the spot: the ``finally`` blocks that remove a half-written ``.part`` file never
run. Inside :func:`signals_as_interrupt` they raise :class:`Terminated` (a KeyboardInterrupt)
instead, which unwinds through those blocks like SIGINT does.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

TERMINATION_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Terminated(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM or SIGHUP; ``exit_code`` is 128 + the signal number."""

    def __init__(self, signum: int):
        self.signum = signum
        self.exit_code = 128 + signum
        super().__init__(signal.Signals(signum).name)


def _raise(signum: int, frame) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def signals_as_interrupt() -> Iterator[None]:
    """Inside the block, SIGTERM and SIGHUP raise :class:`Terminated` (main thread only; a
    signal the caller chose to ignore stays ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in TERMINATION_SIGNALS:
        current = signal.getsignal(signum)
        if current is signal.SIG_IGN:  # e.g. started under nohup: keep ignoring
            continue
        previous[signum] = current
        signal.signal(signum, _raise)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


__all__ = ["TERMINATION_SIGNALS", "Terminated", "signals_as_interrupt"]
