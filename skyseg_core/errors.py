"""Typed errors. The library raises these; only the CLI turns them into messages and exit codes."""

from __future__ import annotations

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_NO_SKY = 0, 1, 2, 3
"""The command line's exit statuses: success, a bug, bad input or usage, a photo without sky."""

QUOTE_CHARS = 80
"""Longest prefix of a bad value an error message quotes (a request may carry megabytes)."""


def is_text(value: str) -> bool:
    """Whether ``value`` is valid text (UTF-8 encodable): a file name that is not decodes to
    lone surrogates, which strict JSON parsers and terminals refuse."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shorten(text: str) -> str:
    """``text`` cut to :data:`QUOTE_CHARS` characters for an error message, saying how long it was."""
    if len(text) <= QUOTE_CHARS:
        return text
    return f"{text[:QUOTE_CHARS]}... ({len(text):,} characters)"


class SkysegError(Exception):
    """Base class of every error skyseg raises on purpose.

    ``exit_code`` is what the CLI exits with: 2 for bad input or usage, 1 for internal errors.
    """

    exit_code = EXIT_USAGE


class InputError(SkysegError):
    """An input path or image that cannot be used (missing, unreadable, corrupt, unsupported)."""

    def __init__(self, message: str, path: object = None):
        self.path = None if path is None else str(path)
        super().__init__(f"{self.path}: {message}" if self.path else message)


class ImageTooLargeError(InputError):
    """The image has more pixels than the configured limit (decompression-bomb guard)."""

    def __init__(self, path: object, width: int, height: int, max_pixels: int):
        self.width, self.height, self.max_pixels = width, height, max_pixels
        super().__init__(
            f"image is {width}x{height} = {width * height:,} pixels, more than the limit of "
            f"{max_pixels:,} (raise it with --max-pixels or SKYSEG_MAX_PIXELS)",
            path,
        )


class OutputError(SkysegError):
    """An output that cannot be written (exists without overwrite, unwritable folder, same as input)."""

    def __init__(self, message: str, path: object = None):
        self.path = None if path is None else str(path)
        super().__init__(f"{self.path}: {message}" if self.path else message)


class PartsFailed(SkysegError):
    """Some of the outputs of one input could not be made while the others were written (one
    sky of ``replace --all`` unreadable): each failure is reported on its own.

    ``failures`` holds (the output not written, why) pairs; ``done`` is the report of what was
    written. ``exit_code`` is the worst of the failures'.
    """

    def __init__(self, failures: list[tuple[object, SkysegError]], done: dict):
        self.failures, self.done = failures, done
        self.exit_code = max(exc.exit_code for _, exc in failures)
        super().__init__("; ".join(self.lines()))

    def lines(self) -> list[str]:
        """One message per failure, naming the output it cost."""
        return [f"{what}: not written: {exc}" for what, exc in self.failures]


class SkysegNote(UserWarning):
    """Something left out or not applied while the work itself succeeded (a metadata block too
    large for the output format, a colour profile that cannot be converted into).

    Issued with :func:`warnings.warn`; the command line prints each as one ``skyseg: note:``
    line on stderr (none with ``--quiet``).
    """


class MatteError(SkysegError):
    """An array that is not a valid sky matte (wrong shape, dtype or range)."""

    exit_code = EXIT_INTERNAL


class UnknownMethodError(SkysegError):
    """A method name that is not registered; the message lists the valid names."""

    def __init__(self, name: str, valid: list[str]):
        import difflib

        self.name, self.valid = name, valid
        close = difflib.get_close_matches(str(name), valid, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        super().__init__(f"unknown method {name!r}; {hint}choose one of: {', '.join(valid)}")


class ModelFileError(SkysegError):
    """A model file that is missing, truncated or does not match its recorded SHA-256.

    ``absent`` is true when the file is simply not there and no place the user named was
    looked at (``auto`` then picks another method); a damaged file, or a file missing from a
    path or folder the user named, is not absent.
    """

    def __init__(
        self,
        message: str,
        path: object = None,
        tried: list[str] | None = None,
        absent: bool = False,
    ):
        self.path = None if path is None else str(path)
        self.tried = tried or []
        self.absent = absent
        super().__init__(f"{self.path}: {message}" if self.path else message)
