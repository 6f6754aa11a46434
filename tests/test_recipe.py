"""The effect recipe: declared parameters, matte clean-up, no-sky refusal, looks, the pipeline,
and the command line built from the declarations (tests/test_recipe_sync.py checks the editor
and the plug-ins against the same declarations)."""

from __future__ import annotations

import json
import typing

import cv2
import numpy as np
import pytest
from conftest import require_shared_data, synthetic_landscape

from skyseg_core import effects
from skyseg_core.cli import build_parser, main
from skyseg_core.effects import (
    EFFECTS,
    MIN_SKY_SHARE,
    REPLACE_PRESETS,
    NoSkyError,
    RelightParams,
    ReplaceParams,
    TintParams,
    clean_matte,
    replace_preset,
)
from skyseg_core.effects import _color as C
from skyseg_core.effects._replace import COLOR_MATCH_MAX_EXPOSURE, COLOR_MATCH_MAX_GAIN
from skyseg_core.effects.params import controls, describe, schema
from skyseg_core.errors import InputError
from skyseg_core.io import load_image, save_image
from skyseg_core.ora import composite
from skyseg_core.pipeline import render
from skyseg_core.skygen import SKY_PRESETS, make_sky

PLAIN = replace_preset("plain")


@pytest.fixture
def sunset():
    return make_sky("sunset", 160, 90, seed=1)


# ------------------------------------------------------------------------------ declarations


@pytest.mark.parametrize("cls", list(EFFECTS.values()))
def test_every_field_is_declared_with_a_default_in_its_range(cls):
    params = cls()
    hints = typing.get_type_hints(cls)
    for name, (_, ctl) in controls(cls).items():
        assert ctl.label and ctl.help, name
        value = getattr(params, name)
        if hints[name] is float:
            assert ctl.low <= value <= ctl.high, name
            below = ctl.low - max(1.0, abs(ctl.low))
            with pytest.raises(
                InputError, match=rf"{name} must be in {ctl.low:g}\.\.{ctl.high:g}.*got {below:g}"
            ):
                cls(**{name: below})
            with pytest.raises(InputError, match=name):
                cls(**{name: float("nan")})
        if ctl.choices is not None:
            assert value in ctl.choices
            with pytest.raises(InputError, match=rf"{name} must be one of"):
                cls(**{name: "no-such-choice"})
    assert [d["name"] for d in describe(cls)] == list(controls(cls))


def test_values_are_normalised_and_unknown_names_refused():
    params = ReplaceParams(halo=1, position=[0, 1])
    assert params.halo == 1.0 and isinstance(params.halo, float) and params.position == (0.0, 1.0)
    tint = TintParams(stops=((1, (0, 0, 255)), (0, "#FF0000")))
    assert tint.stops == ((0.0, "#ff0000"), (1.0, "#0000ff"))
    assert TintParams(stops="0:#ff9a50,1:#3a4f9a") == TintParams()
    with pytest.raises(InputError, match="unknown replace parameter 'hallo'"):
        params.replace(hallo=0.5)
    with pytest.raises(InputError, match="flip must be true or false"):
        ReplaceParams(flip="yes")
    with pytest.raises(InputError, match="stops must be two or more"):
        TintParams(stops=((0, "#ff0000"),))
    with pytest.raises(InputError, match="unknown look 'moody'"):
        replace_preset("moody")


def test_looks_change_only_declared_fields():
    for name, changes in REPLACE_PRESETS.items():
        assert set(changes) <= set(controls(ReplaceParams)), name
        assert replace_preset(name) == ReplaceParams(**changes)
    assert replace_preset("natural") == ReplaceParams()
    assert replace_preset("dramatic", halo=0.1).halo == 0.1


def test_schema_is_json_and_lists_everything_a_dialog_needs():
    data = json.loads(json.dumps(schema()))
    assert set(data["effects"]) == set(EFFECTS)
    assert data["skies"] == list(SKY_PRESETS)
    assert {"natural", "plain"} <= set(data["looks"])
    assert any(m["name"] == "auto" for m in data["methods"])
    modes = next(f for f in data["effects"]["tint"] if f["name"] == "mode")
    assert modes["choices"] == list(effects.BLEND_MODES) and modes["default"] == TintParams().mode


# ------------------------------------------------------------------------------ matte clean-up


def test_clean_matte_levels_and_keeps_only_connected_sky():
    matte = np.zeros((60, 80), np.float32)
    matte[:20] = 1.0
    matte[20:30] = np.linspace(1.0, 0.0, 10, dtype=np.float32)[:, None]  # the soft edge band
    matte[45:55, 10:30] = 0.45  # a faint patch on the grass, away from the sky
    matte[45:50, 50:60] = 0.15  # a faint tail
    alpha = clean_matte(matte, 0.2)
    assert alpha.dtype == np.float32 and np.array_equal(alpha[:20], matte[:20])
    band = alpha[20:30, 0]
    assert band[0] == 1.0 and band[-1] == 0.0 and np.all(np.diff(band) <= 0) and 0 < band[4] < 1
    assert np.allclose(band[2:8], np.clip((matte[22:28, 0] - 0.2) / 0.6, 0, 1), atol=1e-6)
    assert not alpha[40:].any()
    assert clean_matte(matte, 0.0) is matte


def test_clean_matte_on_a_large_matte_decides_connectivity_on_blocks():
    matte = np.zeros((1500, 2100), np.float32)
    matte[:400] = 1.0
    matte[400:430] = 0.5  # edge band, connected
    matte[1000:1100, 200:400] = 0.5  # a faint island far from the sky
    matte[1200:1210, 1500:1510] = 0.6  # a small one
    alpha = clean_matte(matte, 0.2)
    assert alpha[:400].min() == 1.0 and np.allclose(alpha[400:430], 0.5)
    assert not alpha[900:].any()


def test_confident_sky_seen_through_a_gap_is_kept():
    matte = np.zeros((50, 50), np.float32)
    matte[:10] = 1.0
    matte[30:34, 20:24] = 0.95  # sky through the branches: confident, so kept though not connected
    alpha = clean_matte(matte, 0.2)
    assert alpha[30:34, 20:24].min() == 1.0


def test_faint_pixels_get_no_new_sky(scene, sunset):
    image, matte, truth = scene
    faint = matte.copy()
    faint[~truth] = 0.18  # the faint tail a refined matte leaves on the ground
    out = effects.replace_sky(image, faint, sunset, PLAIN)
    assert np.array_equal(out[~truth], image[~truth])
    # with the default foreground light the faint pixels are exactly the adjusted foreground
    default = effects.replace_sky(image, faint, sunset)
    lit = effects.replace_sky(image, matte, sunset)
    assert np.array_equal(default[~truth], lit[~truth])
    # without the clean-up the same matte paints the sky in faintly
    leaky = effects.replace_sky(image, faint, sunset, PLAIN, cleanup=0.0)
    assert np.abs(leaky[~truth].astype(int) - image[~truth]).mean() > 5


def test_no_sky_is_refused_by_replace_and_tint_not_by_relight(scene, sunset):
    image, _, _ = scene
    matte = np.zeros(image.shape[:2], np.float32)
    matte[0, :5] = 1.0  # a few pixels: less than MIN_SKY_SHARE of the frame
    assert matte.mean() < MIN_SKY_SHARE
    with pytest.raises(NoSkyError, match="no sky found.*nothing replaced") as info:
        effects.replace_sky(image, matte, sunset)
    assert info.value.exit_code == 3 and info.value.share < MIN_SKY_SHARE
    with pytest.raises(NoSkyError, match="nothing tinted"):
        effects.tint_sky(image, matte)
    assert effects.relight(image, matte, 3200.0).shape == image.shape  # relights evenly


# ------------------------------------------------------------------------------ sky and light controls


def test_sky_brightness_and_temperature_change_only_the_sky(scene, sunset):
    image, matte, truth = scene
    base = effects.replace_sky(image, matte, sunset, PLAIN).astype(float)
    bright = effects.replace_sky(image, matte, sunset, PLAIN, sky_brightness=1.0).astype(float)
    warm = effects.replace_sky(image, matte, sunset, PLAIN, sky_temperature=60).astype(float)
    cool = effects.replace_sky(image, matte, sunset, PLAIN, sky_temperature=-60).astype(float)
    sky = truth
    assert bright[sky].mean() > base[sky].mean() + 10
    ratio = lambda im: (im[sky][:, 0] + 1).mean() / (im[sky][:, 2] + 1).mean()  # noqa: E731
    assert ratio(warm) > ratio(base) > ratio(cool)
    for out in (bright, warm, cool):
        assert np.array_equal(out[~sky], base[~sky])


def test_lighting_relights_the_foreground_toward_the_new_sky(scene, sunset):
    image, matte, truth = scene
    plain = effects.replace_sky(image, matte, sunset, PLAIN)
    lit = effects.replace_sky(image, matte, sunset, PLAIN, lighting=1.0)
    ground = ~truth
    warmth = lambda im: (im[ground][:, 0].astype(int) - im[ground][:, 2]).mean()  # noqa: E731
    assert np.array_equal(plain[ground], image[ground])
    assert warmth(lit) > warmth(image) + 3


def test_colour_match_is_bounded_so_a_wall_stays_its_colour():
    """A brick wall under a blue sky, the new sky a deep orange sunset: at full colour match no
    channel moves by more than the declared bound, and at the default the wall keeps its hue."""
    image = np.zeros((80, 100, 3), np.uint8)
    image[:30] = (110, 160, 230)  # blue sky
    image[30:] = (150, 70, 50)  # brick
    matte = np.zeros((80, 100), np.float32)
    matte[:30] = 1.0
    orange = np.broadcast_to(np.array((255, 110, 20), np.uint8), (40, 60, 3)).copy()
    wall = lambda out: C.to_linear(out[60:, :]).reshape(-1, 3).mean(axis=0)  # noqa: E731
    before = wall(image)
    full = wall(effects.replace_sky(image, matte, orange, PLAIN, color_match=1.0))
    gains = full / before
    assert gains.max() <= COLOR_MATCH_MAX_GAIN * COLOR_MATCH_MAX_EXPOSURE * 1.01
    assert (
        gains.max() / gains.min() <= COLOR_MATCH_MAX_GAIN**2 * 1.03
    )  # 8-bit rounding of the dark blue
    default = effects.replace_sky(
        image, matte, orange, PLAIN, color_match=ReplaceParams().color_match
    )
    h_before = cv2.cvtColor(image[60:61, :1], cv2.COLOR_RGB2HSV)[0, 0, 0]
    h_after = cv2.cvtColor(default[60:61, :1], cv2.COLOR_RGB2HSV)[0, 0, 0]
    assert abs(int(h_after) - int(h_before)) <= 3  # OpenCV hue is 0..180: within 6 degrees


# ------------------------------------------------------------------------------ the pipeline


def test_render_chains_steps_and_its_layers_composite_to_the_result(scene, sunset):
    image, matte, _ = scene
    steps = [ReplaceParams(sky="sunset"), TintParams(strength=0.4), RelightParams(temperature=4000)]
    skies = {"sunset": sunset}.__getitem__
    rendered = render(image, matte, steps, skies, layers=True)
    chained = effects.relight(
        effects.tint_sky(effects.replace_sky(image, matte, sunset), matte, strength=0.4),
        matte,
        4000.0,
    )
    assert np.array_equal(rendered.image, chained)
    names = [layer.name for layer in rendered.layers]
    assert (
        names[0] == "original photo"
        and names[-1] == "sky matte"
        and "new sky" in names
        and "relight" in names
    )
    merged = composite(rendered.layers, (image.shape[1], image.shape[0]))
    assert np.abs(merged[..., :3] * 255.0 - rendered.image).mean() < 2.0


# ------------------------------------------------------------------------------ command line


def _subparser(name: str):
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices[name]


@pytest.mark.parametrize("command", ["replace", "tint", "relight"])
def test_cli_options_are_the_declared_fields(command):
    cls = EFFECTS[command]
    sub = _subparser(command)
    options = {a.dest: a for a in sub._actions}
    hints = typing.get_type_hints(cls)
    for name, (field, ctl) in controls(cls).items():
        action = options[name]
        assert action.option_strings == ["--" + name.replace("_", "-")] or name == "flip"
        if ctl.choices is not None:
            assert tuple(action.choices) == ctl.choices
        if hints[name] is float:
            assert (
                f"{ctl.low:g}..{ctl.high:g}" in action.help
                and f"default {field.default:g}" in action.help
            )
    with_defaults = sub.parse_args(["photo.jpg"])
    from skyseg_core.cli._effects import given_params

    assert given_params(with_defaults, cls) == {}


def test_replace_help_lists_the_presets_and_looks(capsys):
    with pytest.raises(SystemExit):
        main(["replace", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name in (*SKY_PRESETS, *REPLACE_PRESETS):
        assert name in text


@pytest.fixture
def two_photos(tmp_path):
    with_sky, _ = synthetic_landscape(64, 80, seed=4)
    sky_free = np.full((64, 80, 3), (60, 110, 40), np.uint8)  # a lawn
    folder = tmp_path / "in"
    folder.mkdir()
    save_image(folder / "a_sky.png", with_sky)
    save_image(folder / "b_lawn.png", sky_free)
    return folder


def test_cli_reports_a_photo_without_sky_and_exits_3(tmp_path, two_photos, capsys):
    out = tmp_path / "out"
    status = main(
        ["replace", str(two_photos), "--sky", "sunset", "--out-dir", str(out), "--method", "color"]
    )
    err = capsys.readouterr().err
    assert status == 3
    assert [line for line in err.splitlines() if "no sky found" in line] == [
        line for line in err.splitlines() if "b_lawn.png" in line
    ]
    assert "nothing replaced" in err
    assert sorted(p.name for p in out.iterdir()) == ["a_sky_replaced.png"]
    status = main(
        [
            "replace",
            str(two_photos),
            "--sky",
            "sunset",
            "--out-dir",
            str(tmp_path / "out2"),
            "--method",
            "color",
            "--keep-going",
        ]
    )
    assert status == 0 and "no sky found" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out2").iterdir()) == ["a_sky_replaced.png"]


def test_cli_sky_folder_by_name_and_all(tmp_path, capsys):
    image, _ = synthetic_landscape(64, 80, seed=5)
    photo = save_image(tmp_path / "p.png", image)
    skies = tmp_path / "my skies"
    skies.mkdir()
    save_image(skies / "evening.jpg", make_sky("sunset", 120, 60))
    save_image(skies / "noon.png", make_sky("clear_day", 120, 60))
    assert (
        main(
            [
                "replace",
                str(photo),
                "--sky",
                str(skies),
                "--all",
                "--out-dir",
                str(tmp_path / "all"),
                "--method",
                "color",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == [
        "p_replaced_evening.png",
        "p_replaced_noon.png",
    ]
    evening = load_image(tmp_path / "all" / "p_replaced_evening.png")
    assert (
        main(
            [
                "replace",
                str(photo),
                "--sky",
                str(skies / "evening"),
                "-o",
                str(tmp_path / "one.png"),
                "--method",
                "color",
            ]
        )
        == 0
    )
    assert np.array_equal(load_image(tmp_path / "one.png"), evening)
    assert (
        main(
            [
                "replace",
                str(photo),
                "--sky",
                str(skies),
                "-o",
                str(tmp_path / "x.png"),
                "--method",
                "color",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "add --all" in err and "evening, noon" in err and not (tmp_path / "x.png").exists()


# ------------------------------------------------------------------------------ real photos


def _sky_free_and_white(n_each: int = 3):
    """Validation photos without sky, and photos with sky whose ground has bright areas."""
    from skyseg_core.datasets import find_samples

    samples = find_samples(require_shared_data(), split="val")
    sky_free, bright = [], []
    for sample in samples:
        truth = cv2.imread(str(sample.mask), cv2.IMREAD_GRAYSCALE)
        if not (truth == 255).any():
            sky_free.append(sample)
        elif len(bright) < n_each and sample.dataset.startswith(("stanford", "ade20k")):
            image = load_image(sample.image)
            ground = truth == 0
            if (
                ground.any() and (image[ground].min(axis=1) > 180).mean() > 0.05
            ):  # white walls, snow
                bright.append(sample)
        if len(sky_free) >= n_each and len(bright) >= n_each:
            break
    return sky_free[:n_each], bright


def test_real_photos_get_no_faint_sky():
    """On sky-free validation photos replace refuses or changes only pixels the method is sure
    of; on photos with white walls or snow, no ground pixel with a faint matte gets new sky."""
    from skyseg_core import segment

    sky_free, bright = _sky_free_and_white()
    assert sky_free and bright
    sky = make_sky("sunset", 320, 180)
    for sample in sky_free + bright:
        image = load_image(sample.image)
        matte = segment(image)
        cleanup = PLAIN.cleanup
        try:
            out = effects.replace_sky(image, matte, sky, PLAIN)
        except (
            NoSkyError
        ):  # right for a sky-free photo; else only where the method missed a sliver of sky
            truth = cv2.imread(str(sample.mask), cv2.IMREAD_GRAYSCALE)
            assert sample in sky_free or (truth == 255).mean() < 0.02, sample.id
            continue
        unchanged = matte <= cleanup
        assert np.array_equal(out[unchanged], image[unchanged]), sample.id
        changed = np.any(out != image, axis=2)
        assert not (
            changed
            & (matte < 0.5)
            & ~cv2.dilate(
                (matte >= 1 - cleanup).astype(np.uint8), np.ones((61, 61), np.uint8)
            ).astype(bool)
        ).any()


def test_a_mistyped_sky_gets_a_suggestion(tmp_path, capsys):
    image, _ = synthetic_landscape(40, 50, seed=6)
    photo = save_image(tmp_path / "p.png", image)
    assert main(["replace", str(photo), "--sky", "sunst", "-o", str(tmp_path / "o.png")]) == 2
    assert "did you mean sunset?" in capsys.readouterr().err and not (tmp_path / "o.png").exists()


def test_a_mistyped_method_gets_a_suggestion():
    from skyseg_core.methods import resolve_name

    with pytest.raises(Exception, match="did you mean deeplab"):
        resolve_name("deeplb")
