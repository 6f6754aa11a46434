"""The registered effects, one module each (see :mod:`skyseg_core.effects.registry`).

Each module declares its parameters, its identity and its functions, and registers them. Adding
an effect is one module here plus one entry in ``STEP_MODULES``.
"""

from __future__ import annotations

import importlib

STEP_MODULES = ("replace", "tint", "relight", "cutout")
"""Imported in this order to fill the registry (its order is the order every surface shows;
``cutout``, whose output is RGBA, is run by the pipeline and the worker only)."""

for _name in STEP_MODULES:
    importlib.import_module(f"{__name__}.{_name}")
