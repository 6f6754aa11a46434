"""Where the bundled assets and plug-ins are, in a source checkout and in an installed wheel.

In a checkout (and an editable install) they are the repository's ``assets/`` and ``plugins/``;
a wheel carries the same folders as the data packages ``skyseg_assets`` and ``skyseg_plugins``
(see ``[tool.setuptools.package-dir]`` in pyproject.toml).
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[1]


@cache
def _bundled(folder: str, package: str) -> Path:
    in_checkout = _CHECKOUT / folder
    if in_checkout.is_dir():
        return in_checkout
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return in_checkout  # absent: callers report what they looked for


def assets_dir() -> Path:
    """The bundled ``assets/`` folder (models, sample photos, replacement skies)."""
    return _bundled("assets", "skyseg_assets")


def plugins_dir() -> Path:
    """The bundled ``plugins/`` folder (GIMP and Krita plug-ins and their client)."""
    return _bundled("plugins", "skyseg_plugins")
