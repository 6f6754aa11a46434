"""The training loop: config, data, model, optimisation, validation, checkpoints, curves (one
module of about 600 lines: :func:`train` is one long loop, its helpers beside it).

One function, :func:`train`, runs on CPU or on the GPU when one is present (same config), and
under ``torchrun`` with DDP when ``WORLD_SIZE > 1`` (each rank samples its own share of the
weighted epoch; validation is sharded by a ``DistributedSampler`` and the counts summed).
"""

from __future__ import annotations

import copy
import json
import logging
import math
import os
import random
import time
from pathlib import Path

import numpy as np

from .. import __version__
from ..depth import to_float
from ..evaluate import ImageMetrics, confusion, summarize_group
from ..methods.unet import prior_channel
from .augment import (
    SkyCompositor,
    build_transform,
    load_sky_folder,
    paste_window_view,
    sky_strip,
)
from .data import build_cache, collect_samples, data_hash, load_cached
from .losses import masked_bce_dice
from .model import (
    DEFAULT_MODEL,
    DIVISOR,
    IMAGENET_MEAN,
    IMAGENET_STD,
    build_model,
    parameter_groups,
    preprocessing,
)
from .prior import build_priors, load_prior, prior_model_sha256

log = logging.getLogger("skyseg.train")

ORDINARY = ("ade20k_skyopt_cvprw2020", "stanford_background_iccv09", "ade20k")
"""Datasets of ordinary photos, reported together as ``ordinary``."""

DEFAULT_CONFIG: dict = {
    "data": {
        "root": "../shared/data/skyseg",
        "datasets": [],
        "ade20k_root": "",
        "folders": [],
        "skies_dir": "../shared/data/skies",
        "cache_dir": "cache/skyseg-train",
        "long_side": 320,
        "train_long_side": 0,
        "weights": {"ade20k_skyopt_cvprw2020": 3.0, "camvid_segnet": 0.25, "ade20k": 1.0},
        "opening_weight": 1.0,
        "glare_room_weight": 1.0,
    },
    "model": dict(DEFAULT_MODEL),
    "augment": {
        "crop": 256,
        "strength": 1.0,
        "min_scale": 0.25,
        "composite_p": 0.5,
        "composite_weights": [0.4, 0.2, 0.4],
        "dramatic_p": 0.0,
        "window_p": 0.0,
        "window_rooms": [],
        "window_overexposed_p": 0.5,
        "window_max_gamma": 4.0,
        "window_blown_p": 0.0,
    },
    "train": {
        "out_dir": "runs/unet_small",
        "epochs": 20,
        "epoch_size": 0,
        "batch_size": 8,
        "lr": 3e-3,
        "min_lr": 3e-5,
        "warmup_steps": 100,
        "weight_decay": 1e-4,
        "lr_scales": {},
        "dice_weight": 1.0,
        "seed": 0,
        "num_workers": 1,
        "threads": 0,
        "val_every": 1,
        "val_stride": 1,
        "max_minutes": 0,
        "device": "auto",
    },
}


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "weights":
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_config(path: str | Path | None = None, overrides: dict | None = None) -> dict:
    """The defaults, updated by a TOML file and then by ``overrides`` (nested dicts)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    config = copy.deepcopy(DEFAULT_CONFIG)
    if path is not None:
        with open(path, "rb") as f:
            config = _merge(config, tomllib.load(f))
    if overrides:
        config = _merge(config, overrides)
    return config


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    torch.manual_seed(seed)  # numpy draws come from Generators seeded per worker (TrainSet)


def pick_device(name: str = "auto"):
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def normalize(
    image_uint8: np.ndarray,
    prior_uint8: np.ndarray | None = None,
    mean=IMAGENET_MEAN,
    std=IMAGENET_STD,
) -> np.ndarray:
    """uint8 HWC RGB -> float32 CHW normalised with ``mean``/``std`` (the model's
    :func:`~skyseg_core.train.model.preprocessing`); a uint8 prior (255 = sky) becomes a fourth
    channel in [-1, 1]."""
    x: np.ndarray = to_float(image_uint8)
    x = (x - np.array(mean, np.float32)) / np.array(std, np.float32)
    if prior_uint8 is not None:
        x = np.concatenate([x, prior_channel(to_float(prior_uint8))[..., None]], axis=2)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def pad_to_divisor(x: np.ndarray, divisor: int = DIVISOR) -> tuple[np.ndarray, tuple[int, int]]:
    """Reflect-pad a CHW array at the bottom/right to multiples of ``divisor``; returns (padded, (h, w))."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % divisor, (-w) % divisor
    if ph or pw:
        x = np.pad(
            x,
            [(0, 0)] * (x.ndim - 2) + [(0, ph), (0, pw)],
            mode="reflect" if ph < h and pw < w else "edge",
        )
    return x, (h, w)


class TrainSet:
    """Weighted, augmented training crops from the cache (a torch ``Dataset`` by duck typing)."""

    def __init__(self, paths, config: dict, strips, folder_skies, seed: int, prior_paths=None):
        self.paths = paths
        self.prior_paths = prior_paths
        aug = config["augment"]
        self.transform = build_transform(aug["crop"], aug["strength"], aug["min_scale"])
        self.compositor = SkyCompositor(
            strips,
            folder_skies,
            aug["composite_p"],
            tuple(aug["composite_weights"]),
            aug["dramatic_p"],
        )
        self.window_p = float(aug["window_p"])
        self.window_looks = [
            float(aug[key])
            for key in ("window_overexposed_p", "window_max_gamma", "window_blown_p")
        ]
        self.rooms, self.views = (
            window_candidates(paths, aug["window_rooms"] or None) if self.window_p else (set(), [])
        )
        self.seed = seed
        self.threads = int(config["train"].get("threads") or 0)
        prep = preprocessing(config["model"])
        self.mean, self.std = prep["mean"], prep["std"]
        self._rng: np.random.Generator | None = None

    def __len__(self) -> int:
        return len(self.paths)

    def _generator(self) -> np.random.Generator:
        if self._rng is None:
            import torch

            if self.threads:
                import cv2

                cv2.setNumThreads(self.threads)
            worker_seed = torch.initial_seed() % 2**32
            self._rng = np.random.default_rng([self.seed, worker_seed])
            self.transform.set_random_seed(int(self._rng.integers(2**31)))
        return self._rng

    def __getitem__(self, index: int):
        import torch

        rng = self._generator()
        item = load_cached(self.paths[index])
        image = self.compositor(item["image"], item["target"], item["valid"], rng)
        if index in self.rooms and self.views and rng.random() < self.window_p:
            view = load_cached(self.views[rng.integers(len(self.views))])
            image, item["target"], item["valid"] = paste_window_view(
                image,
                item["target"],
                item["valid"],
                view["image"],
                view["target"],
                view["valid"],
                rng,
            )
        masks = [item["target"], item["valid"]]
        if self.prior_paths:
            masks.append(load_prior(self.prior_paths[index]))
        out = self.transform(image=image, masks=masks)
        target, valid, *prior = out["masks"]
        return (
            torch.from_numpy(
                normalize(out["image"], prior[0] if prior else None, self.mean, self.std)
            ),
            torch.from_numpy(to_float(target)[None]),
            torch.from_numpy(valid.astype(np.float32)[None]),
        )


SKY_FREE_SHARE = 0.005
"""A training photo with less sky than this share of its pixels counts as sky-free."""


def cached_sky(item: dict) -> np.ndarray:
    """The true-sky pixels of a cached training item (ignored pixels are not sky)."""
    return (item["target"] > 127) & (item["valid"] > 0)


def window_candidates(paths, room_datasets=None) -> tuple[set[int], list]:
    """Indices of sky-free training photos (rooms a window can be cut into; only those of
    ``room_datasets`` when given: sets with indoor photos) and the paths of photos with a sky
    along their top (views seen through it). Cache paths are ``<dataset>/<id>-<key>.npz``."""
    rooms, views = set(), []
    for index, path in enumerate(paths):
        sky = cached_sky(load_cached(path))
        if sky.mean() < SKY_FREE_SHARE:
            if room_datasets and Path(path).parent.name not in room_datasets:
                continue
            rooms.add(index)
        elif sky.mean() > 0.15 and sky[: max(1, sky.shape[0] // 10)].mean() > 0.5:
            views.append(path)
    return rooms, views


def sample_weights(samples, weights: dict) -> np.ndarray:
    """Per-sample sampling weight: the dataset's weight from the config (default 1)."""
    return np.array([float(weights.get(s.dataset, 1.0)) for s in samples], np.float64)


def hard_example_weights(
    paths, opening_weight: float = 1.0, glare_room_weight: float = 1.0
) -> np.ndarray:
    """Per-sample weight factors for two rare kinds of photo the network otherwise learns wrong.

    - Sky seen through an opening (a room's window, an arch): a little sky (under 8 % of the
      photo) that does not reach the top edge. Rare in the data, so without weight the network
      learns that a room never shows sky.
    - Sky-free photos with blown white (2 % or more of the pixels at 245+ in every channel): a
      window's glare or a lit wall, the negatives that keep a white window from becoming sky.
    """
    factors = np.ones(len(paths), np.float64)
    if opening_weight == 1.0 and glare_room_weight == 1.0:
        return factors
    for index, path in enumerate(paths):
        item = load_cached(path)
        sky = cached_sky(item)
        share = sky.mean()
        if 0 < share < 0.08 and sky[: max(1, sky.shape[0] // 20)].mean() < 0.02:
            factors[index] = opening_weight
        elif (
            share < SKY_FREE_SHARE
            and (np.asarray(item["image"]).min(axis=-1) >= 245).mean() >= 0.02
        ):
            factors[index] = glare_room_weight
    return factors


class _WeightedShardSampler:
    """Weighted sampling with replacement; each DDP rank draws its own share with its own seed."""

    def __init__(
        self, weights: np.ndarray, num_samples: int, seed: int, rank: int = 0, world: int = 1
    ):
        self.p = weights / weights.sum()
        self.num_samples = math.ceil(num_samples / world)
        self.seed, self.rank, self.epoch = seed, rank, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch, self.rank])
        return iter(rng.choice(len(self.p), size=self.num_samples, p=self.p).tolist())

    def __len__(self) -> int:
        return self.num_samples


def validate(model, paths, names, device, indices=None, prior_paths=None, prep=None) -> list:
    """Per-image pixel counts on cached validation images at cache resolution (threshold 0.5).

    Only the counts (micro IoU, false positives) are measured here, to keep epochs short; the
    full report (boundary F, matte error, the product's refinement) is ``skyseg eval``'s job.
    """
    import torch

    prep = prep or preprocessing(DEFAULT_MODEL)
    model.eval()
    records = []
    indices = range(len(paths)) if indices is None else indices
    with torch.no_grad():
        for i in indices:
            item = load_cached(paths[i])
            prior = load_prior(prior_paths[i]) if prior_paths else None
            x, (h, w) = pad_to_divisor(
                normalize(item["image"], prior, prep["mean"], prep["std"]), prep["divisor"]
            )
            logits = model(torch.from_numpy(x)[None].to(device))
            prob = torch.sigmoid(logits)[0, 0, :h, :w].float().cpu().numpy()
            truth = np.where(
                item["valid"] > 0, np.where(item["target"] >= 128, 255, 0), 128
            ).astype(np.uint8)
            counts = confusion(prob.astype(np.float32), truth)
            records.append(ImageMetrics.from_counts(*counts, dataset=names[i], id=str(i)))
    model.train()
    return records


def summarize_validation(records) -> dict:
    """``{group: summary dict}`` for each dataset, ``ordinary`` (ADE20K + Stanford) and ``overall``."""
    out = {}
    for name in sorted({r.dataset for r in records}):
        out[name] = summarize_group([r for r in records if r.dataset == name]).as_dict()
    ordinary = [r for r in records if r.dataset in ORDINARY]
    if ordinary:
        out["ordinary"] = summarize_group(ordinary).as_dict()
    out["overall"] = summarize_group(records).as_dict()
    return out


def plot_curves(history: list[dict], path: Path) -> None:
    """Training loss and validation micro IoU per epoch, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import write_bytes_atomic

    epochs = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(epochs, [h["train_loss"] for h in history], marker="o")
    ax1.set(xlabel="epoch", ylabel="train loss (BCE + Dice)", title="training loss")
    for group in ("overall", "ordinary", "ade20k_skyopt_cvprw2020"):
        values = [h.get("val", {}).get(group, {}).get("micro_iou") for h in history]
        if any(v is not None for v in values):
            ax2.plot(epochs, [np.nan if v is None else v for v in values], marker="o", label=group)
    ax2.set(xlabel="epoch", ylabel="micro IoU", title="validation")
    ax2.grid(alpha=0.3)
    ax2.legend()
    fig.tight_layout()
    import io as _io

    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    write_bytes_atomic(path, lambda f: f.write(buf.getvalue()), overwrite=True)


def _lr_at(step: int, total: int, cfg: dict, time_fraction: float = 0.0) -> float:
    """Linear warm-up, then cosine decay to ``min_lr`` by the step count or the time budget,
    whichever is further along."""
    if step < cfg["warmup_steps"]:
        return cfg["lr"] * (step + 1) / cfg["warmup_steps"]
    t = max((step - cfg["warmup_steps"]) / max(1, total - cfg["warmup_steps"]), time_fraction)
    return cfg["min_lr"] + 0.5 * (cfg["lr"] - cfg["min_lr"]) * (1 + math.cos(math.pi * min(1.0, t)))


def save_checkpoint(path: Path, **state) -> None:
    import torch

    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | os.PathLike) -> dict:
    """A checkpoint written by :func:`train` (``torch.load(..., weights_only=True)``)."""
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)


def train(config: dict, resume: str | Path | None = None, progress: bool = True) -> dict:
    """Train a sky U-Net as ``config`` says; returns the final history entry.

    Writes ``<out_dir>/last.pt`` and ``best.pt`` (state dicts, config, history, data hash),
    ``history.json`` and ``curves.png`` after every epoch. ``resume`` continues from a
    checkpoint (``"auto"``: ``<out_dir>/last.pt`` if it exists).
    """
    import torch
    from torch.utils.data import DataLoader
    from tqdm import tqdm

    tc, dc = config["train"], config["data"]
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    distributed = world > 1
    if distributed:
        import torch.distributed as dist

        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if torch.cuda.is_available():
            torch.cuda.set_device(local_rank)
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        device = (
            torch.device("cuda", local_rank) if torch.cuda.is_available() else torch.device("cpu")
        )
    else:
        device = pick_device(tc["device"])
    if tc.get("threads"):
        import cv2

        torch.set_num_threads(int(tc["threads"]))
        cv2.setNumThreads(int(tc["threads"]))
    seed_everything(tc["seed"] + rank)
    main = rank == 0
    out_dir = Path(tc["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)

    train_samples = collect_samples(dc, split="train")
    val_samples = collect_samples(dc, split="val")
    if not train_samples:
        from ..errors import InputError

        raise InputError(
            "no training samples found; check [data] root / ade20k_root / folders in the config"
        )
    # Training crops may come from finer photos than validation's (the product's working size):
    # close crops then show real pixels, the grain and texture a close video frame has.
    train_long_side = dc["train_long_side"] or dc["long_side"]
    if main:
        build_cache(train_samples, dc["cache_dir"], train_long_side, progress=progress)
        build_cache(val_samples, dc["cache_dir"], dc["long_side"], progress=progress)
    if distributed:
        dist.barrier()
    train_paths = build_cache(train_samples, dc["cache_dir"], train_long_side, progress=False)
    val_paths = build_cache(val_samples, dc["cache_dir"], dc["long_side"], progress=False)
    digest = data_hash(train_samples)
    train_priors = val_priors = None
    prior_sha = prior_model_sha256(config["model"]["prior"]) if config["model"].get("prior") else ""
    if prior_sha:
        if main:
            train_priors, val_priors = build_priors(
                train_samples, train_paths, val_paths, dc["cache_dir"], progress=progress
            )
        if distributed:
            dist.barrier()
        if not main:
            train_priors, val_priors = build_priors(
                train_samples, train_paths, val_paths, dc["cache_dir"], progress=False
            )
    log.info(
        "train %d, val %d samples on %s (world %d); data sha256 %s",
        len(train_samples),
        len(val_samples),
        device,
        world,
        digest[:16],
    )

    strips = []
    for p in train_paths:
        item = load_cached(p)
        strip = sky_strip(item["image"], item["target"], item["valid"])
        if strip is not None:
            strips.append(strip)
    folder_skies = load_sky_folder(dc.get("skies_dir"))
    dataset = TrainSet(
        train_paths, config, strips, folder_skies, tc["seed"] + 1000 * rank, train_priors
    )
    weights = sample_weights(train_samples, dc["weights"]) * hard_example_weights(
        train_paths, dc["opening_weight"], dc["glare_room_weight"]
    )
    epoch_size = tc["epoch_size"] or len(train_samples)
    sampler = _WeightedShardSampler(weights, epoch_size, tc["seed"], rank, world)
    loader = DataLoader(
        dataset,
        batch_size=tc["batch_size"],
        sampler=sampler,
        num_workers=tc["num_workers"],
        drop_last=True,
        persistent_workers=tc["num_workers"] > 0,
        pin_memory=device.type == "cuda",
    )

    model = build_model(**config["model"]).to(device)
    optimizer = torch.optim.AdamW(
        parameter_groups(model, tc.get("lr_scales")), lr=tc["lr"], weight_decay=tc["weight_decay"]
    )
    start_epoch, best, history, step, elapsed = 0, -1.0, [], 0, 0.0
    if resume == "auto":
        resume = out_dir / "last.pt" if (out_dir / "last.pt").exists() else None
    if resume:
        state = load_checkpoint(resume)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start_epoch, best, history, step = (
            state["epoch"],
            state["best"],
            state["history"],
            state["step"],
        )
        elapsed = float(state.get("elapsed", 0.0))
        log.info("resumed from %s at epoch %d", resume, start_epoch)
    net = model
    if distributed:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )

    steps_per_epoch = len(loader)
    total = tc["epochs"] * steps_per_epoch
    val_names = [s.dataset for s in val_samples]
    budget = 60.0 * float(tc.get("max_minutes") or 0)
    val_indices = list(range(0, len(val_paths), max(1, int(tc["val_stride"]))))
    entry: dict = {}
    lr = math.nan
    for epoch in range(start_epoch, tc["epochs"]):
        if budget and elapsed >= budget:
            log.info(
                "time budget of %s minutes used; stopping after epoch %d", tc["max_minutes"], epoch
            )
            break
        sampler.set_epoch(epoch)
        net.train()
        started, losses = time.time(), []
        bar = tqdm(
            loader,
            desc=f"epoch {epoch + 1}/{tc['epochs']}",
            unit="batch",
            disable=not (progress and main),
            mininterval=1.0 if os.isatty(2) else 30.0,
        )
        for x, target, valid in bar:
            if budget and not distributed and elapsed + time.time() - started >= budget:
                break  # the time budget ends the run mid-epoch (DDP ranks stop at epoch ends together)
            lr = _lr_at(
                step, total, tc, (elapsed + time.time() - started) / budget if budget else 0.0
            )
            for group in optimizer.param_groups:
                group["lr"] = lr * group.get("lr_scale", 1.0)
            x, target, valid = x.to(device), target.to(device), valid.to(device)
            loss = masked_bce_dice(net(x), target, valid, dice_weight=tc["dice_weight"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
            step += 1
            bar.set_postfix(
                loss=f"{np.mean(losses[-50:]):.4f}",
                lr=f"{optimizer.param_groups[0]['lr']:.2e}",
                refresh=False,
            )
        elapsed += time.time() - started
        if distributed:  # all ranks agree on the clock, so they stop together
            clock = torch.tensor([elapsed], dtype=torch.float64, device=device)
            dist.all_reduce(clock, op=dist.ReduceOp.MAX)
            elapsed = float(clock.item())
        last = epoch + 1 == tc["epochs"] or bool(budget and elapsed >= budget)
        entry = {
            "epoch": epoch + 1,
            "train_loss": float(np.mean(losses)) if losses else math.nan,
            "train_seconds": time.time() - started,
            "lr": lr,
        }
        if (epoch + 1) % tc["val_every"] == 0 or last:
            t0 = time.time()
            indices = val_indices[rank::world]
            records = validate(
                model,
                val_paths,
                val_names,
                device,
                indices,
                val_priors,
                preprocessing(config["model"]),
            )
            if distributed:
                gathered: list = [None] * world
                dist.all_gather_object(gathered, records)
                records = [r for part in gathered for r in part]
            entry["val"] = summarize_validation(records)
            entry["val_seconds"] = time.time() - t0
        history.append(entry)
        if main:
            score = entry.get("val", {}).get("overall", {}).get("micro_iou") or -1.0
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "epoch": epoch + 1,
                "step": step,
                "elapsed": elapsed,
                "best": max(best, score),
                "history": history,
                "config": config,
                "data_hash": digest,
                "version": __version__,
                "prior_model_sha256": prior_sha,
            }
            save_checkpoint(out_dir / "last.pt", **state)
            if score > best:
                best = score
                save_checkpoint(out_dir / "best.pt", **state)
            (out_dir / "history.json").write_text(json.dumps(history, indent=1))
            plot_curves(history, out_dir / "curves.png")
            val = entry.get("val", {})
            log.info(
                "epoch %d loss %.4f (%.0fs) | val micro IoU overall %s ordinary %s ade20k %s | fp(sky-free) %s",
                epoch + 1,
                entry["train_loss"],
                entry["train_seconds"],
                *(
                    _fmt(val.get(g, {}).get("micro_iou"))
                    for g in ("overall", "ordinary", "ade20k_skyopt_cvprw2020")
                ),
                _fmt(val.get("overall", {}).get("fp_rate")),
            )
    if distributed:
        dist.destroy_process_group()
    return entry


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.4f}"
