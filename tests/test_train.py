"""Training package: readers on tiny trees, the masked loss, augmentation, a one-step run,
resume, and export to ONNX with torch/ONNX agreement."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import synthetic_landscape

from skyseg_core.errors import InputError, ModelFileError, OutputError
from skyseg_core.train import (
    DEFAULT_CONFIG,
    ade20k_samples,
    build_cache,
    collect_samples,
    data_hash,
    folder_pair_samples,
    load_checkpoint,
    load_config,
    read_truth,
    shared_layout_samples,
    train,
)
from skyseg_core.train.augment import (
    SkyCompositor,
    build_transform,
    composite_sky,
    dramatic_sky,
    paste_window_view,
    procedural_sky,
    sky_strip,
)
from skyseg_core.train.data import load_cached
from skyseg_core.train.loop import hard_example_weights, window_candidates


def _write_pair(
    folder: Path, stem: str, seed: int, size=(60, 80), ignore_rows: int = 0, matte: bool = False
) -> None:
    image, sky = synthetic_landscape(*size, seed=seed)
    mask = np.where(sky, 255, 0).astype(np.uint8)
    mask[:ignore_rows] = 128
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "masks").mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / "images" / f"{stem}.jpg"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(folder / "masks" / f"{stem}.png"), mask)
    if matte:
        (folder / "mattes").mkdir(exist_ok=True)
        soft = cv2.GaussianBlur(sky.astype(np.float32), (5, 5), 0)
        cv2.imwrite(str(folder / "mattes" / f"{stem}.png"), np.round(soft * 255).astype(np.uint8))


@pytest.fixture
def shared_tree(tmp_path):
    root = tmp_path / "skyseg"
    for i in range(8):
        _write_pair(
            root / "ade20k_skyopt_cvprw2020", f"ADE_train_{i:08d}", i, ignore_rows=2, matte=True
        )
    for i in range(6):
        _write_pair(root / "camvid_segnet", f"test_0006R0_{i:06d}", 10 + i)
        _write_pair(root / "camvid_segnet", f"train_0016E5_{i:06d}", 20 + i)
    return root


def test_shared_layout_reader_keeps_the_fixed_split(shared_tree):
    train_s = shared_layout_samples(shared_tree, split="train")
    val_s = shared_layout_samples(shared_tree, split="val")
    assert len(train_s) + len(val_s) == 20
    assert not {(s.dataset, s.id) for s in train_s} & {(s.dataset, s.id) for s in val_s}
    camvid_val = {s.id.split("_")[1] for s in val_s if s.dataset == "camvid_segnet"}
    assert camvid_val == {"0006R0"}, "the held-out CamVid sequence goes to validation whole"
    ade = [s for s in train_s + val_s if s.dataset.startswith("ade20k")]
    assert all(s.matte for s in ade)


def test_read_truth_uses_soft_matte_and_ignore(shared_tree):
    sample = shared_layout_samples(shared_tree, datasets=["ade20k_skyopt_cvprw2020"])[0]
    target, valid = read_truth(sample)
    assert target.dtype == np.float32 and valid.dtype == bool
    assert not valid[:2].any() and valid[2:].all()
    assert ((target > 0) & (target < 1)).any(), "the soft matte, not the binary mask, is the target"


def test_read_truth_leaves_canopy_pixels_labelled_not_sky_out(shared_tree):
    folder = shared_tree / "camvid_segnet"
    stem = "train_0016E5_000000"
    mask = cv2.imread(str(folder / "masks" / f"{stem}.png"), cv2.IMREAD_GRAYSCALE)
    canopy = np.zeros_like(mask)
    canopy[:, : mask.shape[1] // 2] = 255  # a canopy over sky and ground alike
    (folder / "canopy").mkdir()
    cv2.imwrite(str(folder / "canopy" / f"{stem}.png"), canopy)
    sample = next(s for s in shared_layout_samples(shared_tree) if s.id == stem)
    target, valid = read_truth(sample)
    in_canopy = canopy > 0
    assert not valid[in_canopy & (mask == 0)].any(), "canopy labelled not-sky says nothing"
    assert valid[in_canopy & (mask == 255)].all(), "sky the label found in a canopy is kept"
    assert valid[~in_canopy].all()
    before = data_hash([sample])
    cv2.imwrite(str(folder / "canopy" / f"{stem}.png"), np.zeros_like(mask))
    assert data_hash([sample]) != before, "the canopy map is part of the training data"


def test_dramatic_sky_is_dark_or_warm_and_keeps_the_clouds():
    rng = np.random.default_rng(3)
    sky = procedural_sky(48, 64, rng)
    for _ in range(12):
        toned = dramatic_sky(sky, rng)
        assert toned.shape == sky.shape and toned.dtype == np.uint8
        r, g, b = toned.reshape(-1, 3).mean(axis=0)
        assert toned.mean() < sky.mean() or r > 1.3 * b, "storm and night darken; sunset warms"
        texture = np.corrcoef(toned.mean(axis=2).ravel(), sky.mean(axis=2).ravel())[0, 1]
        assert texture > 0.5, "the clouds' pattern survives the toning"


def test_folder_pair_reader(tmp_path):
    for i in range(3):
        _write_pair(tmp_path / "mine", f"p{i}", i)
    (tmp_path / "mine" / "images" / "orphan.jpg").write_bytes(b"no mask for this one")
    samples = folder_pair_samples(
        tmp_path / "mine" / "images", tmp_path / "mine" / "masks", name="mine"
    )
    assert sorted(s.id for s in samples) == ["p0", "p1", "p2"]
    assert {s.split for s in samples} <= {"train", "val"}
    with pytest.raises(InputError):
        folder_pair_samples(tmp_path / "nothing", tmp_path / "mine" / "masks")


def test_ade20k_reader_maps_class_3_to_sky_and_0_to_ignore(tmp_path):
    root = tmp_path / "ADEChallengeData2016"
    for folder, n in (("training", 3), ("validation", 2)):
        (root / "images" / folder).mkdir(parents=True)
        (root / "annotations" / folder).mkdir(parents=True)
        for i in range(n):
            stem = f"ADE_{folder[:5]}_{i:08d}"
            cv2.imwrite(
                str(root / "images" / folder / f"{stem}.jpg"), np.full((20, 30, 3), 100, np.uint8)
            )
            ann = np.full((20, 30), 5, np.uint8)  # some other class
            ann[:8] = 3  # sky
            ann[:, :4] = 0  # unlabelled
            cv2.imwrite(str(root / "annotations" / folder / f"{stem}.png"), ann)
    samples = ade20k_samples(tmp_path)  # the parent folder works too
    assert (
        sum(s.split == "train" for s in samples) == 3
        and sum(s.split == "val" for s in samples) == 2
    )
    target, valid = read_truth(samples[0])
    assert target[:8, 4:].min() == 1.0 and target[8:].max() == 0.0
    assert not valid[:, :4].any() and valid[:, 4:].all()
    assert len(collect_samples({"ade20k_root": str(root)}, split="val")) == 2
    with pytest.raises(InputError):
        ade20k_samples(tmp_path / "missing")


def test_cache_shrinks_once_and_hash_follows_the_data(shared_tree, tmp_path):
    samples = shared_layout_samples(shared_tree)[:3]
    paths = build_cache(samples, tmp_path / "cache", long_side=40, progress=False)
    item = load_cached(paths[0])
    assert max(item["image"].shape[:2]) == 40 and item["image"].dtype == np.uint8
    assert item["target"].shape == item["valid"].shape == item["image"].shape[:2]
    mtime = paths[0].stat().st_mtime_ns
    assert build_cache(samples, tmp_path / "cache", long_side=40, progress=False) == paths
    assert paths[0].stat().st_mtime_ns == mtime, "a cached sample is not rebuilt"
    before = data_hash(samples)
    cv2.imwrite(samples[0].mask, np.zeros((60, 80), np.uint8))
    assert data_hash(samples) != before


def test_loss_ignores_masked_pixels_and_accepts_soft_targets():
    import torch

    from skyseg_core.train.losses import masked_bce_dice

    torch.manual_seed(0)
    target = (torch.rand(2, 1, 8, 8) > 0.5).float()
    valid = torch.ones_like(target)
    valid[:, :, :3] = 0
    logits = torch.randn(2, 1, 8, 8, requires_grad=True)
    loss = masked_bce_dice(logits, target, valid)
    loss.backward()
    assert torch.all(logits.grad[:, :, :3] == 0), "ignored pixels get no gradient"
    changed = logits.detach().clone()
    changed[:, :, :3] = 50.0
    assert torch.isclose(masked_bce_dice(changed, target, valid), loss.detach())
    soft = torch.full((1, 1, 4, 4), 0.3)
    logit_soft = torch.logit(soft)
    ones = torch.ones_like(soft)
    at_target = masked_bce_dice(logit_soft, soft, ones, dice_weight=0.0)
    assert at_target < masked_bce_dice(logit_soft + 1.0, soft, ones, dice_weight=0.0)
    assert at_target < masked_bce_dice(logit_soft - 1.0, soft, ones, dice_weight=0.0)
    assert torch.isfinite(masked_bce_dice(logits, target, torch.zeros_like(valid)))


def test_composite_replaces_only_the_sky():
    rng = np.random.default_rng(0)
    image, sky = synthetic_landscape(40, 50)
    target = np.where(sky, 255, 0).astype(np.uint8)
    valid = np.ones_like(target)
    valid[:3] = 0
    new_sky = procedural_sky(40, 50, rng)
    out = composite_sky(image, target, valid, new_sky)
    assert np.array_equal(out[~sky], image[~sky]), "ground pixels untouched"
    assert np.array_equal(out[:3], image[:3]), "ignored pixels untouched"
    inside = sky.copy()
    inside[:3] = False
    assert np.abs(out[inside].astype(int) - new_sky[inside]).max() <= 1
    strip = sky_strip(image, target, np.ones_like(target))
    assert strip is not None and strip.shape[0] >= 8
    compositor = SkyCompositor([strip], [], p=1.0)
    assert not np.array_equal(compositor(image, target, np.ones_like(target), rng), image)
    no_sky = np.zeros_like(target)
    assert np.array_equal(compositor(image, no_sky, np.ones_like(target), rng), image)


def test_transform_moves_truth_with_the_photo():
    transform = build_transform(32, strength=0.0)
    transform.set_random_seed(3)
    image, sky = synthetic_landscape(48, 64)
    target = np.where(sky, 255, 0).astype(np.uint8)
    for _ in range(5):
        out = transform(image=image, masks=[target, np.ones_like(target)])
        assert out["image"].shape == (32, 32, 3)
        t = out["masks"][0] > 127
        blue = out["image"][..., 2] > 128  # sky blue >= 0.85, ground blue <= 0.1
        assert (t == blue).mean() > 0.97, "geometry applied to photo and truth alike"


def test_min_scale_sets_how_close_the_training_views_come():
    ramp = np.tile(np.arange(256, dtype=np.uint8), (256, 1))
    image = np.dstack([ramp] * 3)
    target = np.zeros((256, 256), np.uint8)

    def widths(min_scale: float) -> list[float]:
        transform = build_transform(32, strength=0.0, min_scale=min_scale)
        transform.set_random_seed(5)
        views = [transform(image=image, masks=[target, target])["image"][..., 0] for _ in range(60)]
        return [(int(v.max()) - int(v.min())) / 255 for v in views]  # share of the width seen

    assert min(widths(0.9)) > 0.8
    assert min(widths(0.05)) < 0.3


def _tiny_config(shared_tree: Path, out_dir: Path, epochs: int = 1) -> dict:
    return load_config(
        None,
        {
            "data": {
                "root": str(shared_tree),
                "skies_dir": "",
                "cache_dir": str(out_dir / "cache"),
                "long_side": 64,
            },
            "model": {"decoder_channels": [16, 16, 8, 8, 8]},
            "augment": {"crop": 64, "composite_p": 1.0},
            "train": {
                "out_dir": str(out_dir / "run"),
                "epochs": epochs,
                "epoch_size": 4,
                "batch_size": 2,
                "warmup_steps": 1,
                "num_workers": 0,
                "threads": 1,
                "device": "cpu",
            },
        },
    )


@pytest.fixture
def tiny_checkpoint(shared_tree, tmp_path):
    entry = train(_tiny_config(shared_tree, tmp_path), progress=False)
    assert np.isfinite(entry["train_loss"])
    return tmp_path / "run" / "last.pt"


def test_one_step_training_run_writes_checkpoints_curves_and_resumes(
    shared_tree, tmp_path, tiny_checkpoint
):
    run = tmp_path / "run"
    for name in ("last.pt", "best.pt", "history.json", "curves.png"):
        assert (run / name).is_file(), name
    state = load_checkpoint(tiny_checkpoint)  # weights_only=True
    assert state["epoch"] == 1 and len(state["data_hash"]) == 64
    val = state["history"][0]["val"]
    assert {"overall", "ordinary", "camvid_segnet"} <= set(val)
    assert 0.0 <= val["overall"]["micro_iou"] <= 1.0
    before = {k: v.clone() for k, v in state["model"].items()}
    train(_tiny_config(shared_tree, tmp_path, epochs=2), resume="auto", progress=False)
    resumed = load_checkpoint(run / "last.pt")
    assert [h["epoch"] for h in resumed["history"]] == [1, 2]
    assert any(
        not np.allclose(before[k].numpy(), v.numpy())
        for k, v in resumed["model"].items()
        if v.is_floating_point()
    )
    assert json.loads((run / "history.json").read_text())[-1]["epoch"] == 2


def test_training_crops_come_from_finer_photos_than_validation(shared_tree, tmp_path):
    from skyseg_core.train.export import export_onnx

    config = _tiny_config(shared_tree, tmp_path)
    config["data"].update(long_side=32, train_long_side=64)
    train(config, progress=False)
    cache = tmp_path / "cache"
    train_files = {p.name for p in (cache / "long64").rglob("*.npz")}
    val_files = {p.name for p in (cache / "long32").rglob("*.npz")}
    assert train_files and val_files and not train_files & val_files
    for path in (cache / "long64").rglob("*.npz"):
        assert max(np.load(path)["image"].shape[:2]) == 64
    metadata = export_onnx(tmp_path / "run" / "last.pt", tmp_path / "tiny.onnx")
    assert metadata["working_size"] == "32", "the product works at validation's size"


def test_export_agrees_with_torch_and_runs_as_the_unet_method(tiny_checkpoint, tmp_path):
    import onnxruntime as ort
    import torch

    from skyseg_core import segment
    from skyseg_core.methods.unet import UnetMethod
    from skyseg_core.train.export import export_onnx, model_from_checkpoint

    out = tmp_path / "model.onnx"
    meta = export_onnx(tiny_checkpoint, out)
    assert (tmp_path / "model.onnx.sha256").read_text().split()[0] == meta["sha256"]
    model, _ = model_from_checkpoint(tiny_checkpoint)
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(1, 3, 64, 96)).astype(np.float32))
    with torch.no_grad():
        expected = torch.sigmoid(model(x)).numpy()
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"image": x.numpy()})
    np.testing.assert_allclose(got, expected, atol=1e-4)
    stored = session.get_modelmeta().custom_metadata_map
    assert json.loads(stored["mean"]) == pytest.approx([0.485, 0.456, 0.406])
    assert stored["divisor"] == "32" and "sigmoid sky probability" in stored["output"]
    assert stored["training_data_sha256"] == load_checkpoint(tiny_checkpoint)["data_hash"]

    method = UnetMethod(model_path=out)
    image, _ = synthetic_landscape(37, 101)
    matte = method(image)
    assert matte.shape == (37, 101) and matte.dtype == np.float32
    assert 0.0 <= matte.min() and matte.max() <= 1.0
    tall = segment(np.repeat(image[:1], 5, axis=0)[:, :3], method="color")  # odd sizes are fine too
    assert tall.shape == (5, 3)
    assert UnetMethod(model_path=out).coarse(np.zeros((1, 7, 3), np.uint8)).shape == (1, 7)

    averaged = UnetMethod(model_path=out, flip_average=True)
    small = np.ascontiguousarray(image[:32, :64])
    np.testing.assert_allclose(averaged(small[:, ::-1].copy()), averaged(small)[:, ::-1], atol=1e-5)

    with pytest.raises(OutputError):
        export_onnx(tiny_checkpoint, out)  # exists, no overwrite
    (tmp_path / "model.onnx.sha256").write_text("0" * 64 + "  model.onnx\n")
    with pytest.raises(ModelFileError, match="SHA-256"):
        UnetMethod(model_path=out)


@pytest.mark.slow
def test_torchrun_ddp_two_cpu_processes(shared_tree, tmp_path):
    """The scale-out path: two gloo processes under torchrun train one epoch together."""
    import subprocess
    import sys

    config = tmp_path / "ddp.toml"
    config.write_text(f"""
[data]
root = "{shared_tree}"
skies_dir = ""
cache_dir = "{tmp_path / "cache"}"
long_side = 64
[model]
decoder_channels = [16, 16, 8, 8, 8]
[augment]
crop = 64
[train]
out_dir = "{tmp_path / "run"}"
epochs = 1
epoch_size = 8
batch_size = 2
warmup_steps = 1
num_workers = 0
threads = 1
device = "cpu"
""")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node=2",
            "-m",
            "skyseg_core",
            "train",
            "--config",
            str(config),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**__import__("os").environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    state = load_checkpoint(tmp_path / "run" / "last.pt")
    assert state["epoch"] == 1
    assert state["history"][0]["val"]["overall"]["images"] == len(
        shared_layout_samples(shared_tree, split="val")
    )


def test_cli_train_and_export_refuse_bad_input(tmp_path, capsys):
    from skyseg_core.cli import main

    assert main(["train", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "config file not found" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "missing.pt"), "-o", str(tmp_path / "m.onnx")]) == 2
    assert "checkpoint not found" in capsys.readouterr().err
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    assert main(["export", str(junk), "-o", str(tmp_path / "m.onnx")]) == 2
    assert "checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["train", "--config", "x.toml"],
        ["export", "x.pt", "-o", "m.onnx"],
        ["export-ade20k", "weights", "-o", "m.onnx"],
    ],
)
def test_cli_names_the_train_extra_when_a_module_is_missing(command, monkeypatch, tmp_path, capsys):
    import importlib.util

    from skyseg_core.cli import main

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "onnx" else real_find_spec(name, *a),
    )
    monkeypatch.chdir(tmp_path)
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "needs the train extra" in err and "missing: onnx" in err
    assert list(tmp_path.iterdir()) == []


def test_cli_export_writes_model_and_sidecar(tiny_checkpoint, tmp_path, capsys):
    from skyseg_core.cli import main

    out = tmp_path / "cli.onnx"
    assert main(["export", str(tiny_checkpoint), "-o", str(out), "--json"]) == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["format"] == "skyseg-sky-unet/1" and meta["bytes"] == out.stat().st_size
    assert (tmp_path / "cli.onnx.sha256").is_file()


def test_folds_keep_correlated_frames_together():
    from skyseg_core.train.prior import FOLDS, fold_of

    assert len({fold_of("camvid_segnet", f"train_0016E5_{i:06d}") for i in range(50)}) == 1
    assert len({fold_of("skyfinder_subset_bakkopi", f"65_{i}") for i in range(20)}) == 1
    spread = {fold_of("stanford_background_iccv09", str(i)) for i in range(50)}
    assert spread == set(range(FOLDS))


def test_prior_model_starts_from_the_prior():
    import torch

    from skyseg_core.train.model import PRIOR_CLAMP, build_model

    model = build_model(decoder_channels=[16, 16, 8, 8, 8], prior="classifier").eval()
    x = torch.zeros(2, 4, 64, 64)
    x[:, 3] = torch.linspace(-1, 1, 64)  # prior 0 .. 1 across the columns
    with torch.no_grad():
        prob = torch.sigmoid(model(x))
    expected = (x[:, 3:4] * 0.5 + 0.5).clamp(PRIOR_CLAMP, 1 - PRIOR_CLAMP)
    torch.testing.assert_close(prob, expected, atol=1e-5, rtol=0)


def test_prior_training_exports_a_four_channel_model_the_unet_method_feeds(shared_tree, tmp_path):
    import onnxruntime as ort
    import torch

    from skyseg_core.matte import resize_matte
    from skyseg_core.methods.classifier import MODEL_NAME as CLASSIFIER_MODEL
    from skyseg_core.methods.classifier import ClassifierMethod
    from skyseg_core.methods.unet import UnetMethod
    from skyseg_core.models import checked_model_file, sha256_of
    from skyseg_core.train.export import export_onnx, model_from_checkpoint
    from skyseg_core.train.loop import normalize
    from skyseg_core.train.prior import load_prior

    config = _tiny_config(shared_tree, tmp_path)
    config["model"]["prior"] = "classifier"
    train(config, progress=False)
    checkpoint = tmp_path / "run" / "last.pt"
    state = load_checkpoint(checkpoint)
    classifier_sha = sha256_of(checked_model_file(CLASSIFIER_MODEL))
    assert state["prior_model_sha256"] == classifier_sha

    # validation priors are the shipped classifier's answer on the cached photo
    (prior_dir,) = (tmp_path / "cache").glob("prior-classifier-*")
    val_samples = collect_samples(config["data"], split="val")
    cached = build_cache(val_samples, config["data"]["cache_dir"], 64, progress=False)[0]
    stored = (
        load_prior(prior_dir / cached.parent.name / (cached.stem + ".npy")).astype(np.float32) / 255
    )
    photo = load_cached(cached)["image"]
    classifier = ClassifierMethod()
    expected = resize_matte(classifier.coarse(photo), photo.shape[:2])
    assert np.abs(stored - expected).max() <= 1 / 255 + 1e-6
    train_priors = list(prior_dir.glob("*/*.npy"))
    assert len(train_priors) == len(collect_samples(config["data"])), "one prior per cached photo"

    out = tmp_path / "prior.onnx"
    meta = export_onnx(checkpoint, out)
    assert meta["prior"] == "classifier" and meta["prior_model_sha256"] == classifier_sha
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape[1] == 4
    model, _ = model_from_checkpoint(checkpoint)
    image, _ = synthetic_landscape(64, 96)
    prior = np.round(classifier.coarse(image) * 255).astype(np.uint8)
    prior = cv2.resize(prior, (96, 64), interpolation=cv2.INTER_LINEAR)
    x = normalize(image, prior)[None]
    with torch.no_grad():
        torch_prob = torch.sigmoid(model(torch.from_numpy(x))).numpy()
    (onnx_prob,) = session.run(None, {"image": x})
    np.testing.assert_allclose(onnx_prob, torch_prob, atol=1e-4)

    method = UnetMethod(model_path=out, working_size=96)
    got = method.coarse(image)
    assert got.shape == (64, 96)
    assert (
        np.abs(got - torch_prob[0, 0]).mean() < 0.02
    )  # same inputs up to the prior's uint8 rounding

    mismatched = tmp_path / "mismatched.onnx"
    export_onnx(checkpoint, mismatched, extra_metadata={"prior_model_sha256": "0" * 64})
    with pytest.raises(
        ModelFileError, match="trained on the priors of classifier model 000000000000"
    ):
        UnetMethod(model_path=mismatched)


@pytest.mark.parametrize(
    "path", sorted((Path(__file__).parents[1] / "configs").rglob("*.toml")), ids=lambda p: p.name
)
def test_shipped_configs_load_and_build_their_model(path):
    from skyseg_core.train.model import build_model

    config = load_config(path)
    unknown = {
        section: set(config[section]) - set(DEFAULT_CONFIG[section]) for section in DEFAULT_CONFIG
    }
    assert not any(unknown.values()), f"keys the loop never reads: {unknown}"
    model_config = dict(config["model"])
    if model_config["init"].startswith("runs/"):
        # continues another config's run (its export, named in the header): that file exists
        # only after training, so build the architecture alone
        assert model_config["init"] in path.read_text().split("[data]")[0]
        model_config["init"] = ""
    model = build_model(**model_config)
    assert sum(p.numel() for p in model.parameters()) > 1e6


def test_window_view_pastes_the_views_sky_behind_bars_into_the_room():
    rng = np.random.default_rng(5)
    room = np.full((60, 80, 3), 90, np.uint8)
    room_target, room_valid = np.zeros((60, 80), np.uint8), np.ones((60, 80), np.uint8)
    view, sky = synthetic_landscape(120, 160)
    view_target = np.where(sky, 255, 0).astype(np.uint8)
    for _ in range(20):
        image, target, valid = paste_window_view(
            room, room_target, room_valid, view, view_target, np.ones_like(view_target), rng
        )
        changed = (image != room).any(axis=2)
        ys, xs = np.nonzero(changed)
        window = np.zeros_like(changed)
        window[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] = True
        assert np.array_equal(target[~window], room_target[~window]), "the room outside stays"
        assert target[window].max() == 255, "the view's sky shows through the window"
        assert ys.min() < 0.55 * 60, "windows sit in the upper part of the room"
        # the frame around the window is not sky, and its pixels count in the loss
        for edge in (target[ys.min()], target[ys.max()], target[:, xs.min()], target[:, xs.max()]):
            assert edge.max() == 0
        assert valid.all()
        assert (room_target == 0).all(), "the inputs are not modified"


def test_window_rooms_are_the_sky_free_photos_of_the_named_sets(tmp_path):
    paths = []
    for name, sky_rows in (("rooms", 0), ("rooms", 30), ("streets", 0), ("views", 40)):
        folder = tmp_path / name
        folder.mkdir(exist_ok=True)
        target = np.zeros((60, 80), np.uint8)
        target[:sky_rows] = 255
        path = folder / f"p{len(paths)}.npz"
        np.savez(
            path, image=np.zeros((60, 80, 3), np.uint8), target=target, valid=np.ones_like(target)
        )
        paths.append(path)
    rooms, views = window_candidates(paths, ["rooms"])
    assert rooms == {0}
    assert views == [paths[1], paths[3]]
    assert window_candidates(paths)[0] == {0, 2}


def test_rare_photos_are_weighted_up_sky_through_an_opening_and_rooms_with_glare(tmp_path):
    def cached(name, sky=None, white=None):
        image = np.full((60, 80, 3), 90, np.uint8)
        target = np.zeros((60, 80), np.uint8)
        if sky is not None:
            target[sky] = 255
        if white is not None:
            image[white] = 250
        path = tmp_path / f"{name}.npz"
        np.savez(path, image=image, target=target, valid=np.ones_like(target))
        return path

    paths = [
        cached("window", sky=np.s_[10:20, 50:70]),  # 4 % sky, clear of the top edge
        cached("landscape", sky=np.s_[:20]),  # sky along the top
        cached("skylight", sky=np.s_[:6, 30:40]),  # a little sky, but at the top
        cached("lit window", white=np.s_[10:30, 20:40]),  # sky-free, blown white
        cached("room"),  # sky-free, nothing blown
        cached("big opening", sky=np.s_[5:40, 5:75]),  # too much sky to be a window
    ]
    factors = hard_example_weights(paths, opening_weight=4.0, glare_room_weight=3.0)
    assert factors.tolist() == [4.0, 1.0, 1.0, 3.0, 1.0, 1.0]
    assert hard_example_weights(paths).tolist() == [1.0] * 6


def test_training_crops_of_a_room_show_a_window_of_sky(tmp_path):
    import copy

    from skyseg_core.train.loop import TrainSet

    paths = []
    for name, sky_rows in (("rooms", 0), ("views", 40)):
        (tmp_path / name).mkdir()
        target = np.zeros((64, 64), np.uint8)
        target[:sky_rows] = 255
        path = tmp_path / name / "p.npz"
        np.savez(
            path,
            image=np.full((64, 64, 3), 90, np.uint8),
            target=target,
            valid=np.ones_like(target),
        )
        paths.append(path)
    config = copy.deepcopy(DEFAULT_CONFIG)
    config["augment"].update(crop=64, strength=0.0, composite_p=0.0, window_p=1.0)
    config["augment"]["window_rooms"] = ["rooms"]
    with_window = TrainSet(paths, config, [], [], seed=0)
    config["augment"]["window_p"] = 0.0
    without = TrainSet(paths, config, [], [], seed=0)
    # the random crop can miss the window: of a few crops, some show it
    assert max(float(with_window[0][1].max()) for _ in range(6)) == 1.0, "sky through a window"
    assert max(float(without[0][1].max()) for _ in range(6)) == 0.0


def test_a_blown_out_window_is_glare_and_not_sky():
    rng = np.random.default_rng(2)
    room = np.full((60, 80, 3), 60, np.uint8)
    view, sky = synthetic_landscape(120, 160)
    zeros = np.zeros((60, 80), np.uint8)
    image, target, valid = paste_window_view(
        room,
        zeros,
        np.ones_like(zeros),
        view,
        np.where(sky, 255, 0).astype(np.uint8),
        np.ones(sky.shape, np.uint8),
        rng,
        blown_p=1.0,
    )
    window = (image != room).any(axis=2)
    assert window.any() and image[window].mean() > 150, "a bright window"
    assert target.max() == 0 and valid.all(), "nothing seen through glare is sky"
