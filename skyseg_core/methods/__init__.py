"""Registry of sky methods.

Each method lives in its own module here and registers its class with :func:`register`.
Adding a method is one module plus one entry in ``_METHOD_MODULES``. The CLI choices, the
editor's method list and the plug-in menus all read :func:`list_methods`.
"""

from __future__ import annotations

import importlib
import os

from ..errors import SkysegError, UnknownMethodError
from ._base import SkyMethod

_METHOD_MODULES = (
    "color",
    "contour",
    "gradient",
    "classifier",
    "unet",
    "deeplab",
    "ade20k",
    "blend",
)
"""Modules imported to fill the registry; each must import without torch."""

AUTO_PREFERENCE = ("deeplab", "blend", "classifier", "unet", "color")
"""What ``auto`` resolves to: the first of these that is available (best first).

Measured on the validation split (micro IoU, refined; ``skyseg eval --data ../shared/data/skyseg
--method NAME``, onnxruntime 1.32): ``deeplab`` 0.903 (TF DeepLab's ADE20K network fine-tuned
here, int8; see ``assets/models/sky_deeplab.md``), ``blend`` 0.896 (1.3 % false positives on
sky-free photos), ``classifier`` 0.886 (1.8 %), ``unet`` 0.861 (3.5 %)."""

_REGISTRY: dict[str, type[SkyMethod]] = {}
_instances: dict[tuple, SkyMethod] = {}
_loaded = False


def register(cls: type[SkyMethod]) -> type[SkyMethod]:
    """Class decorator that adds a method to the registry under ``cls.name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    _REGISTRY[cls.name] = cls
    return cls


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    for module in _METHOD_MODULES:
        try:
            importlib.import_module(f"{__name__}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{module}":
                raise
    _loaded = True


def _ordered() -> list[str]:
    """Registered names in ``_METHOD_MODULES`` order, then any others by name: the same order
    in every process, whichever module happened to be imported first."""
    rank = {name: i for i, name in enumerate(_METHOD_MODULES)}
    return sorted(_REGISTRY, key=lambda name: (rank.get(name, len(rank)), name))


def method_names() -> list[str]:
    """Registered method names, plus ``auto``."""
    _load_all()
    return ["auto", *_ordered()]


def resolve_name(name: str) -> str:
    """Map ``auto`` to the best available method; validate any other name.

    ``auto`` skips a method whose model file is simply absent, but raises the
    :class:`~skyseg_core.errors.ModelFileError` of one that is damaged, or missing from a path
    or folder the user named (``$SKYSEG_MODELS_DIR``, a model environment variable).
    """
    _load_all()
    if name == "auto":
        from ..models import collect_model_problems

        for candidate in AUTO_PREFERENCE:
            cls = _REGISTRY.get(candidate)
            if cls is None:
                continue
            with collect_model_problems() as problems:
                if cls.available():
                    return candidate
            if (
                problems
            ):  # present but damaged, or missing where the user pointed: no quiet fallback
                raise problems[0]
        raise UnknownMethodError(name, method_names())
    if name not in _REGISTRY:
        raise UnknownMethodError(name, method_names())
    return name


def get_method(name: str = "auto", **params) -> SkyMethod:
    """A method by name (``auto`` for the best shipped one).

    Without ``params`` the same instance is returned each time, so models load once, as long
    as the settings that say where models are (``SKYSEG_*`` variables) stay the same.
    """
    resolved = resolve_name(name)
    if params:
        return _REGISTRY[resolved](**params)
    key = (resolved, _model_settings())
    if key not in _instances:
        _instances[key] = _REGISTRY[resolved]()
    return _instances[key]


def _model_settings() -> tuple[tuple[str, str], ...]:
    """The environment variables that may point at model files: a method loaded under other
    values is another method."""
    return tuple(
        sorted(
            (name, value)
            for name, value in os.environ.items()
            if name.startswith("SKYSEG_") and ("_MODEL" in name or name.startswith("SKYSEG_ADE"))
        )
    )


def list_methods() -> list[tuple[str, str]]:
    """(name, one-line description) for ``auto`` and every registered method."""
    _load_all()
    try:
        auto = f"the best shipped method (now: {resolve_name('auto')})"
    except SkysegError as exc:  # listing must work even when auto cannot
        auto = f"the best shipped method (now unusable: {exc})"
    return [("auto", auto)] + [(name, _REGISTRY[name].description) for name in _ordered()]


PLAIN_NAMES: dict[str, str] = {
    "auto": "Automatic (best available)",
    "color": "Sky colour",
    "contour": "Bright sky outline",
    "gradient": "Sky edge, column by column",
    "classifier": "Colour and texture",
    "unet": "Neural network (fast)",
    "deeplab": "Neural network (detailed)",
    "ade20k": "Scene parser (downloaded model)",
    "blend": "Network and texture mixed",
}
"""What a photographer sees for each method (menus of the editor and the plug-ins); the
technical name goes in the tooltip. A method without one here shows its name."""


def method_label(name: str) -> str:
    """The plain name of method ``name`` (:data:`PLAIN_NAMES`), else ``name`` itself."""
    return PLAIN_NAMES.get(name, name)


def describe_methods() -> list[dict]:
    """Every method as ``{"name", "label", "description", "available"}``: what ``skyseg methods
    --json``, the worker's ``methods`` reply and the plug-ins' schema show (built here, once);
    ``label`` is its plain name (:func:`method_label`)."""
    return [
        {
            "name": name,
            "label": method_label(name),
            "description": description,
            "available": method_available(name),
        }
        for name, description in list_methods()
    ]


def method_available(name: str) -> bool:
    """Whether ``name`` can run here (its model files present and intact); ``auto`` when any can."""
    _load_all()
    if name == "auto":
        try:
            resolve_name("auto")
        except SkysegError:
            return False
        return True
    if name not in _REGISTRY:
        raise UnknownMethodError(name, method_names())
    return bool(_REGISTRY[name].available())


__all__ = [
    "PLAIN_NAMES",
    "SkyMethod",
    "describe_methods",
    "register",
    "get_method",
    "list_methods",
    "method_available",
    "method_label",
    "method_names",
    "resolve_name",
]
