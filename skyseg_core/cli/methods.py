"""``skyseg methods``: list the registered sky methods."""

from __future__ import annotations

import json


def register(subparsers) -> None:
    parser = subparsers.add_parser("methods", help="list the sky methods")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..methods import _REGISTRY, list_methods

    rows = list_methods()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": n,
                        "description": d,
                        "available": n == "auto" or _REGISTRY[n].available(),
                    }
                    for n, d in rows
                ]
            )
        )
    else:
        width = max(len(n) for n, _ in rows)
        for name, description in rows:
            print(f"{name:<{width}}  {description}")
    return 0
