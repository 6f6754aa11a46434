"""``skyseg train --config FILE``: train the sky U-Net (needs the ``train`` extra)."""

from __future__ import annotations

import json

from ._options import require_modules


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train the sky U-Net from a config file (needs: pip install 'skyseg[train]')",
        description="Train the sky U-Net. Uses a GPU when one is present; under torchrun, DDP across processes.",
    )
    parser.add_argument(
        "--config", required=True, metavar="FILE", help="TOML config (see configs/unet_small.toml)"
    )
    parser.add_argument(
        "--resume",
        nargs="?",
        const="auto",
        default=None,
        metavar="CHECKPOINT",
        help="continue from a checkpoint (default: <out_dir>/last.pt)",
    )
    parser.add_argument("--out-dir", metavar="DIR", help="override [train] out_dir")
    parser.add_argument("--epochs", type=int, metavar="N", help="override [train] epochs")
    parser.add_argument(
        "--max-minutes", type=float, metavar="M", help="override [train] max_minutes (0 = no limit)"
    )
    parser.add_argument(
        "--device", metavar="NAME", help="override [train] device (auto, cpu, cuda, cuda:1)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args) -> int:
    import logging
    import sys

    from ..errors import InputError

    require_modules("skyseg train")
    from ..io import path_kind
    from ..train import load_config, train

    if path_kind(args.config) != "file":
        raise InputError("config file not found", args.config)
    overrides: dict = {"train": {}}
    for key, value in (
        ("out_dir", args.out_dir),
        ("epochs", args.epochs),
        ("max_minutes", args.max_minutes),
        ("device", args.device),
    ):
        if value is not None:
            overrides["train"][key] = value
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    config = load_config(args.config, overrides)
    entry = train(config, resume=args.resume, progress=not args.quiet)
    print(json.dumps(entry.get("val", {}).get("overall", {})))
    return 0
