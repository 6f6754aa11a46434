"""What can go wrong talking to the worker: one base class, a subclass per kind of failure."""

from __future__ import annotations


class WorkerError(Exception):
    """Anything that went wrong talking to the worker.

    ``str()`` is the whole story (with the worker's last stderr lines, when there are any);
    :meth:`for_user` is the one line a host shows: the message, and the log file that holds
    the worker's stderr instead of its lines.
    """

    def __init__(self, message: str, details: str = "", log_path: str | None = None):
        self.message, self.details, self.log_path = message, details, log_path
        super().__init__(message + (f":\n{details}" if details else ""))

    def for_user(self) -> str:
        if self.log_path:
            return f"{self.message} (the worker's messages are in {self.log_path})"
        return self.message


class WorkerNotConfigured(WorkerError):
    """No interpreter recorded: ``skyseg install-plugin`` was not run."""


class WorkerDied(WorkerError):
    """The worker process exited (crashed, killed, or could not start)."""


class SharedUnavailable(WorkerError):
    """The shared worker's socket cannot be used (another user's, refused...): a private worker
    is started instead."""


class WorkerTimeout(WorkerError):
    """The worker did not answer in time; it has been stopped."""


class RequestFailed(WorkerError):
    """The worker answered with an error (bad input, bad parameters...); it is still running."""

    def __init__(self, message: str, kind: str = ""):
        self.kind = kind
        super().__init__(message)
