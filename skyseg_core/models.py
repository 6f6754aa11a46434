"""Checked model files: find a model file and make sure it is the one that was recorded.

Lookup order (STYLE.md point 6, local files first, nothing downloads):

1. an explicit path given by the caller (``--model PATH`` or a method parameter),
2. an environment variable named by the caller (for example ``SKYSEG_CLASSIFIER_MODEL``),
3. the bundled folder ``assets/models/`` (or ``SKYSEG_MODELS_DIR`` when set).

Every shipped model file is pinned by SHA-256 in a sidecar ``<file>.sha256`` beside it
(``sha256sum`` format: ``<hex>  <file name>``). A bundled file without its sidecar, or whose
digest differs, raises :class:`~skyseg_core.errors.ModelFileError` with a hint on how to restore
it. A file the user points to explicitly is checked against its sidecar when it has one, and
otherwise trusted (it is the user's own model).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from .errors import ModelFileError
from .resources import assets_dir

MODELS_DIR_ENV = "SKYSEG_MODELS_DIR"
"""Environment variable overriding the bundled models folder."""

_verified: dict[tuple[str, int, int, str], bool] = {}


def models_dir() -> Path:
    """The folder bundled models are read from: ``$SKYSEG_MODELS_DIR`` or ``assets/models``."""
    env = os.environ.get(MODELS_DIR_ENV)
    return Path(env) if env else assets_dir() / "models"


def resolve_model_file(
    name: str, explicit: str | os.PathLike | None = None, env_var: str | None = None
) -> Path:
    """Find model file ``name``: explicit path, then ``$env_var``, then the bundled folder.

    Parameters
    ----------
    name : str
        File name inside the bundled models folder, e.g. ``"classifier.onnx"``.
    explicit : path, optional
        A path the caller insists on; if given it must exist (no fallback).
    env_var : str, optional
        Name of an environment variable that may hold a path to the file.

    Returns
    -------
    path : Path
        An existing file.

    Raises
    ------
    ModelFileError
        Nothing found; the message and ``tried`` list every place looked at.
    """
    from .io import path_kind

    tried: list[str] = []
    if explicit is not None:
        path = Path(explicit).expanduser()
        if path_kind(path, ModelFileError) == "file":
            return path
        raise ModelFileError("model file not found (given explicitly)", path, tried=[str(path)])
    if env_var:
        value = os.environ.get(env_var)
        if value:
            path = Path(value).expanduser()
            if path_kind(path, ModelFileError) == "file":
                return path
            raise ModelFileError(
                f"model file not found (from ${env_var})", path, tried=[f"${env_var}={path}"]
            )
        tried.append(f"${env_var} (not set)")
    path = models_dir() / name
    tried.append(str(path))
    if path_kind(path, ModelFileError) == "file":
        return path
    named = os.environ.get(MODELS_DIR_ENV)
    if named:  # a folder the user named must hold models: an empty or missing one is a mistake
        folder = Path(named)
        state = "does not exist" if path_kind(folder, ModelFileError) != "folder" else None
        if state is None and not any(_model_files(folder)):
            state = "is empty"
        if state is not None:
            raise ModelFileError(
                f"model file {name!r} not found; tried: {'; '.join(tried)}. ${MODELS_DIR_ENV}={folder} {state}",
                tried=tried,
            )
    raise ModelFileError(
        f"model file {name!r} not found; tried: {'; '.join(tried)}. {restore_hint(name)}",
        tried=tried,
        absent=True,
    )


def _model_files(folder: Path) -> list[Path]:
    """What ``folder`` holds besides hidden files (an empty folder holds no models)."""
    try:
        return [p for p in folder.iterdir() if not p.name.startswith(".")]
    except OSError:
        return []


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def restore_hint(name: str) -> str:
    """How to get a bundled model file back."""
    rel = f"assets/models/{name}"
    return f"Restore it with `git checkout -- {rel}`, or re-create it with its training script (see assets/models/)."


def verify_sha256(path: str | os.PathLike, expected: str, hint: str | None = None) -> Path:
    """Check that ``path`` has SHA-256 ``expected`` (hex); return it as a Path.

    Raises :class:`ModelFileError` (saying both digests and how to restore the file) if not.
    A successful check is cached by (path, size, mtime), so a model is hashed once per process.
    """
    path = Path(path)
    expected = expected.strip().lower()
    try:
        stat = path.stat()
    except OSError:
        raise ModelFileError("model file not found", path, tried=[str(path)]) from None
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, expected)
    if _verified.get(key):
        return path
    actual = sha256_of(path)
    if actual != expected:
        raise ModelFileError(
            f"model file is damaged or not the recorded one: SHA-256 {actual[:16]}..., "
            f"expected {expected[:16]}... ({stat.st_size:,} bytes). {hint or restore_hint(path.name)}",
            path,
        )
    _verified[key] = True
    return path


def sidecar_path(path: str | os.PathLike) -> Path:
    """The checksum sidecar of a model file: ``<file>.sha256``."""
    path = Path(path)
    return path.with_name(path.name + ".sha256")


def read_recorded_sha256(path: str | os.PathLike) -> str | None:
    """The SHA-256 recorded in the sidecar of ``path``, or None if it has no sidecar."""
    from .io import path_kind

    side = sidecar_path(path)
    if path_kind(side, ModelFileError) != "file":
        return None
    text = side.read_text(encoding="utf-8").split()
    if not text or len(text[0]) != 64:
        raise ModelFileError("checksum file is malformed (expected '<sha256>  <name>')", side)
    return text[0].lower()


def write_sha256_sidecar(path: str | os.PathLike) -> Path:
    """Record the SHA-256 of ``path`` in its sidecar (used by training/export scripts)."""
    path = Path(path)
    side = sidecar_path(path)
    side.write_text(f"{sha256_of(path)}  {path.name}\n", encoding="utf-8")
    return side


def checked_model_file(
    name: str,
    explicit: str | os.PathLike | None = None,
    env_var: str | None = None,
    expected_sha256: str | None = None,
    hint: str | None = None,
) -> Path:
    """Resolve model file ``name`` (see :func:`resolve_model_file`) and verify its SHA-256.

    The expected digest is ``expected_sha256`` if given, else the file's sidecar. A bundled
    file (from the models folder) must have one; an explicit or environment path without a
    sidecar is trusted as the user's own model.
    """
    path = resolve_model_file(name, explicit=explicit, env_var=env_var)
    expected = expected_sha256 or read_recorded_sha256(path)
    if expected is None:
        bundled = path.resolve().parent == models_dir().resolve()
        if bundled:
            raise ModelFileError(
                f"no recorded SHA-256 ({sidecar_path(path).name} is missing). {hint or restore_hint(name)}",
                path,
            )
        return path
    return verify_sha256(path, expected, hint)


_problems: contextvars.ContextVar[list[ModelFileError] | None] = contextvars.ContextVar(
    "skyseg_model_problems", default=None
)


@contextlib.contextmanager
def collect_model_problems() -> Iterator[list[ModelFileError]]:
    """Collect what :func:`is_model_available` finds wrong inside the block.

    The list receives every :class:`ModelFileError` that is not plain absence: a damaged file,
    a file missing from a path or folder the user named. ``auto`` raises the first instead of
    quietly falling back to another method.
    """
    found: list[ModelFileError] = []
    token = _problems.set(found)
    try:
        yield found
    finally:
        _problems.reset(token)


def is_model_available(
    name: str, explicit: str | os.PathLike | None = None, env_var: str | None = None
) -> bool:
    """Whether :func:`checked_model_file` would succeed (no exception escapes).

    Inside :func:`collect_model_problems` a file that is there but damaged, or missing where
    the user pointed, is also recorded.
    """
    try:
        checked_model_file(name, explicit=explicit, env_var=env_var)
    except ModelFileError as exc:
        problems = _problems.get()
        if problems is not None and not exc.absent:
            problems.append(exc)
        return False
    return True


__all__ = [
    "checked_model_file",
    "collect_model_problems",
    "is_model_available",
    "models_dir",
    "read_recorded_sha256",
    "resolve_model_file",
    "sha256_of",
    "sidecar_path",
    "verify_sha256",
    "write_sha256_sidecar",
]


def onnx_session(path: str | os.PathLike, what: str, threads: int, *, spinning: bool = True):
    """An ONNX Runtime session of the model file ``path`` on the CPU, its own warnings silenced.

    ``threads``: ONNX Runtime's intra-op threads (0: its own choice); ``spinning=False`` stops
    idle threads from busy-waiting between runs. A file ONNX Runtime cannot load raises
    :class:`ModelFileError` "cannot load the ``what`` (why)".
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        why = str(exc).strip().splitlines()  # its first line: one clear error line
        raise ModelFileError(
            f"cannot load the {what} ({why[0] if why else type(exc).__name__})", path
        ) from None
