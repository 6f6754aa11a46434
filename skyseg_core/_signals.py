"""Termination signals handled like Ctrl-C, so an interrupted write cleans up after itself.

``timeout``, ``kill`` and a closed terminal send SIGTERM or SIGHUP, whose default action ends
the process on the spot: the ``finally`` blocks that remove a half-written ``.part`` file never
run. Inside :func:`signals_as_interrupt` they raise :class:`Terminated` (a KeyboardInterrupt)
instead, which unwinds through those blocks like SIGINT does.

Those blocks cannot cover every moment: the exception comes at whichever line runs when the
signal is handled, which may be just after a ``.part`` file was created and before the ``try``
that removes it, or between the end of a group of writes and their publishing (a signal that
arrives while an encoder runs in C is handled as soon as it returns, wherever that is). So each
temporary file is registered here as it is created (:func:`created_unfinished`: a signal that
arrives between the two steps is held back until both are done) and forgotten once it is
published or removed (:func:`finished`); whatever is still registered when an interrupt leaves
:func:`signals_as_interrupt` is removed then.
"""

from __future__ import annotations

import contextlib
import os
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


_holding = 0
"""How deep the main thread is in :func:`held_back` blocks."""
_held: list[int] = []
"""Signals that arrived while held back."""


def _interrupt(signum: int) -> KeyboardInterrupt:
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


def _raise(signum: int, frame) -> None:
    if _holding:  # (handlers run in the main thread, between two of its lines)
        _held.append(signum)
        return
    raise _interrupt(signum)


@contextlib.contextmanager
def held_back() -> Iterator[None]:
    """A signal that arrives in the block is raised when the block ends (main thread only: the
    handlers run there), for steps that must not be parted: a file made and registered, a file
    published and recorded as such."""
    global _holding
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _holding += 1
    try:
        yield
    finally:
        _holding -= 1
        if not _holding and _held:
            signum = _held[0]
            _held.clear()
            raise _interrupt(signum)


@contextlib.contextmanager
def signals_as_interrupt() -> Iterator[None]:
    """Inside the block, SIGTERM and SIGHUP raise :class:`Terminated` (main thread only; a
    signal the caller chose to ignore stays ignored). When an interrupt (these, or Ctrl-C)
    leaves the block, the temporary files still registered are removed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in (*TERMINATION_SIGNALS, signal.SIGINT):
        current = signal.getsignal(signum)
        if current is signal.SIG_IGN:  # e.g. started under nohup: keep ignoring
            continue
        if signum == signal.SIGINT and current is not signal.default_int_handler:
            continue  # the caller handles Ctrl-C its own way
        previous[signum] = current
        signal.signal(signum, _raise)
    try:
        yield
    except KeyboardInterrupt:
        for signum in previous:  # a second signal must not stop the removal half-way
            signal.signal(signum, signal.SIG_IGN)
        remove_unfinished()
        raise
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


_unfinished: set[str] = set()
"""Temporary files this process created and has not yet published or removed."""


def created_unfinished(path: str | os.PathLike, flags: int, mode: int = 0o666) -> None:
    """Create ``path`` (``os.open`` with ``flags``, then closed) and register it, no signal
    handled in between: an interrupt at any later moment finds it registered."""
    with held_back():
        os.close(os.open(path, flags, mode))
        _unfinished.add(os.fspath(path))


def finished(path: str | os.PathLike) -> None:
    """``path`` was published (moved onto its name) or removed: no longer ours to remove."""
    _unfinished.discard(os.fspath(path))


def remove_unfinished() -> None:
    """Remove every registered temporary file (an interrupt is ending the work)."""
    for path in list(_unfinished):
        with contextlib.suppress(OSError):
            os.unlink(path)
        _unfinished.discard(path)


__all__ = [
    "TERMINATION_SIGNALS",
    "Terminated",
    "created_unfinished",
    "finished",
    "held_back",
    "remove_unfinished",
    "signals_as_interrupt",
]
