"""``skyseg methods``: list the registered sky methods."""

from __future__ import annotations

import json


def register(subparsers) -> None:
    parser = subparsers.add_parser("methods", help="list the sky methods")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..methods import describe_methods

    rows = describe_methods()
    if args.json:
        print(json.dumps(rows))
    else:
        width = max(len(row["name"]) for row in rows)
        for row in rows:
            print(f"{row['name']:<{width}}  {row['description']}")
    return 0
