"""Where the bundled assets and plug-ins are, in a source checkout and in an installed wheel.

In a checkout (and an editable install) they are the repository's ``assets/`` and ``plugins/``;
a wheel carries the same folders as the data packages ``skyseg_assets`` and ``skyseg_plugins``
(see ``[tool.setuptools.package-dir]`` in pyproject.toml).
"""

from __future__ import annotations

import ast
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


CONTRACT_NAMES = ("CONFIG_NAME", "SCHEMA_NAME", "PROTOCOL_VERSION")
"""What the worker and the plug-ins must agree on, declared once in the plug-ins' client."""


@cache
def plugin_contract() -> dict:
    """``CONFIG_NAME``, ``SCHEMA_NAME`` and ``PROTOCOL_VERSION`` as the plug-ins' client
    (``plugins/common/skyseg_client/contract.py``) declares them.

    The client runs in the hosts' Pythons and cannot import skyseg, so it holds the one
    declaration and the core reads it from there (parsed, not run).
    """
    path = plugins_dir() / "common" / "skyseg_client" / "contract.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = {
        target.id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id in CONTRACT_NAMES
    }
    missing = [name for name in CONTRACT_NAMES if name not in found]
    if missing:
        raise RuntimeError(f"{path} declares no {', '.join(missing)}")
    return found
