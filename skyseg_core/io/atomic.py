"""Atomic writes: a hidden ``.part`` file in the target folder, then a rename or hard link.

A failed or interrupted write never leaves a partial file (the ``.part`` files are registered with
:mod:`skyseg_core._signals` and removed on the way out); :func:`all_or_nothing` publishes several
outputs together or none of them.
"""

from __future__ import annotations

import contextlib
import contextvars
import io as _io
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

from .._signals import created_unfinished, finished, held_back
from ..errors import OutputError
from .paths import check_output


def _temporary_file(folder: Path, path: Path) -> Path:
    """Create an empty hidden ``.<name>.<random>.part`` file in ``folder`` (mode from the umask),
    registered for removal should an interrupt end the process before it is published
    (:mod:`skyseg_core._signals`)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = folder / _temporary_name(path.name)
        try:
            created_unfinished(tmp, flags)
            return tmp
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(
                f"cannot write in the folder {folder} ({exc.strerror or exc})", path
            ) from None
        except ValueError:  # a NUL byte in the name
            raise OutputError("not a valid file name", path) from None
    raise OutputError(f"cannot create a temporary file in {folder}", path)


NAME_MAX = 255
"""Longest file name (bytes) most file systems take."""


def _temporary_name(name: str) -> str:
    """``.<name>.<random>.part``, with ``name`` shortened so the whole fits in :data:`NAME_MAX` bytes
    (an output named with 241-255 bytes is fine; its temporary name must be too)."""
    token = secrets.token_hex(4)
    room = NAME_MAX - len(f"..{token}.part")
    while name and len(os.fsencode(name)) > room:
        name = name[:-1]
    return f".{name}.{token}.part"


def remove_temporary_files(path: str | os.PathLike) -> None:
    """Remove the ``.part`` files of the output ``path`` that a writer killed outright (SIGKILL,
    the out-of-memory killer: no ``finally`` ran) left behind. Only for an output that no live
    process is writing."""
    import glob

    path = Path(path)
    head = _temporary_name(path.name)[: -len("01234567.part")]  # without its random token
    for leftover in (path.parent if str(path.parent) else Path(".")).glob(
        glob.escape(head) + "????????.part"
    ):
        with contextlib.suppress(OSError):
            leftover.unlink()


def _publish(tmp: Path, path: Path, overwrite: bool) -> None:
    """Move the finished temporary file onto ``path``; without ``overwrite``, never replace a file.

    The no-overwrite case uses a hard link, which fails atomically if ``path`` appeared in the
    meantime; file systems without hard links fall back to check-then-rename.
    """
    if overwrite:
        os.replace(tmp, path)
        finished(tmp)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise OutputError("already exists (use --overwrite to replace it)", path) from None
    except OSError:
        if os.path.lexists(path):
            raise OutputError("already exists (use --overwrite to replace it)", path) from None
        os.replace(tmp, path)
        finished(tmp)
        return
    os.unlink(tmp)
    finished(tmp)


_pending_group: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "skyseg_pending_outputs", default=None
)
"""The finished temporary files of an :func:`all_or_nothing` block, waiting to be published."""


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike, overwrite: bool = False, source: str | os.PathLike | None = None
) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` if the block succeeds.

    Refuses to replace an existing file unless ``overwrite``, and refuses to write over
    ``source`` (the input the output was made from) even then. The temporary file is hidden
    (``.<name>.<random>.part``) and removed on any error or interrupt, so no partial output is
    ever left behind. Inside :func:`all_or_nothing` the finished file waits for the others.
    """
    path = check_output(path, overwrite=overwrite, source=source)
    tmp = _temporary_file(path.parent if str(path.parent) else Path("."), path)
    try:
        yield tmp
        group = _pending_group.get()
        if group is None:
            _publish(tmp, path, overwrite)
        else:
            group.append((tmp, path, overwrite))
    except OSError as exc:
        _remove_part(tmp)
        raise OutputError(f"cannot write file ({write_failure(exc)})", path) from None
    except BaseException:
        _remove_part(tmp)
        raise


@contextlib.contextmanager
def all_or_nothing() -> Iterator[None]:
    """Write several outputs together: all of them appear, or none does.

    Atomic writes inside the block (:func:`save_image`, :func:`save_matte`, ``write_ora``,
    ...) finish into their temporary files; only when the block succeeds are they moved into
    place. If the block fails, or one move fails (a file appeared meanwhile), the temporary
    files are removed and the outputs already moved that did not exist before are taken back.
    """
    pending: list[tuple[Path, Path, bool]] = []
    token = _pending_group.set(pending)
    try:
        yield
    except BaseException:
        _discard(pending)
        raise
    finally:
        _pending_group.reset(token)
    published: list[Path] = []
    try:
        for i, (tmp, path, overwrite) in enumerate(pending):
            existed = os.path.lexists(path)
            with held_back():  # published and recorded as such: no interrupt in between
                try:
                    _publish(tmp, path, overwrite)
                except OSError as exc:
                    raise OutputError(f"cannot write file ({exc.strerror or exc})", path) from None
                if not existed:
                    published.append(path)
            pending[i] = (tmp, path, False)
    except BaseException:
        _discard(pending)
        for path in published:
            with contextlib.suppress(OSError):
                path.unlink()
        raise


def _discard(pending: list[tuple[Path, Path, bool]]) -> None:
    for tmp, _, _ in pending:
        _remove_part(tmp)


def _remove_part(tmp: Path) -> None:
    """Remove a temporary file (already gone once published) and forget it."""
    with contextlib.suppress(OSError):
        tmp.unlink()
    finished(tmp)


def write_bytes_atomic(
    path: str | os.PathLike,
    write: Callable[[_io.BufferedWriter], object],  # a return value (bytes written) is ignored
    overwrite: bool = False,
    source: str | os.PathLike | None = None,
) -> Path:
    """Write a file atomically: ``write`` receives an open binary file (see :func:`atomic_output`).

    The data is flushed to disk before the rename, so a crash leaves the old file or the new
    one, never a torn one.
    """
    with atomic_output(path, overwrite=overwrite, source=source) as tmp:
        try:
            with open(tmp, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise OutputError(f"cannot write file ({write_failure(exc)})", path) from None
    return Path(path)


def write_failure(exc: OSError, outcome: str = "nothing was written") -> str:
    """Why a write failed, in words: a full disk or quota, and a file-size limit, say so
    followed by ``outcome`` (what the user is left with)."""
    import errno

    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return f"{exc.strerror}: the disk is full; {outcome}"
    if exc.errno == errno.EFBIG:
        return f"{exc.strerror}: over the file size limit of this file system or process; {outcome}"
    return str(exc.strerror or exc)
