"""End to end in the real GIMP 3.0 (over 400 lines: the tests share module-scoped GIMP runs).

GIMP 3.0 in the Debian 13 chroot, gimp-console-3.0 batch mode, and its GUI under Xvfb.

The plug-in is installed by `skyseg install-plugin gimp` run with the chroot's skyseg venv; the
driver tests/hosts/gimp_e2e.py calls its registered PDB procedures, as a script would.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "hosts"))
import harness  # noqa: E402

from skyseg_core.io import load_image  # noqa: E402
from skyseg_core.ora import read_ora  # noqa: E402
from skyseg_core.segment import segment  # noqa: E402

pytestmark = [pytest.mark.hosts, pytest.mark.slow]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    harness.require_hosts()
    return harness.prepare(tmp_path_factory.mktemp("gimp"))


@pytest.fixture(scope="module")
def main_run(folder):
    return harness.run_gimp(folder, "main")


@pytest.fixture(scope="module")
def core_matte(folder):
    return np.round(segment(load_image(folder / "photo.png"), method=harness.METHOD) * 255)


def test_procedures_are_registered_and_succeed(main_run):
    assert main_run["registered"] == [
        "create-mask",
        "select-sky",
        "replace-sky",
        "tint-sky",
        "relight",
        "save-mask",
    ]
    for key in (
        "mask_status",
        "channel_status",
        "select_status",
        "replace_status",
        "tint_status",
        "relight_status",
    ):
        assert main_run[key] == ["success", ""], key


@pytest.mark.parametrize("name", ["gimp_mask", "gimp_channel", "gimp_selection"])
def test_mask_channel_and_selection_equal_core_matte(main_run, folder, core_matte, name):
    got = harness.read_pgm(folder / f"{name}.pgm").astype(np.float64)
    assert got.shape == core_matte.shape
    diff = np.abs(got - core_matte)
    assert diff.max() <= 2 and diff.mean() <= 0.25, (diff.max(), diff.mean())
    assert 0.2 < got.mean() / 255 < 0.9  # a real sky, not an empty or full matte


def test_create_sky_mask_adds_a_grey_layer_and_leaves_the_photo_and_its_mask_alone(main_run):
    """Create Sky Mask on a photo that has a mask of its own (a ramp): a new "Sky mask" layer
    directly above it, selected; the photo's pixels and its mask are byte-identical."""
    assert main_run["mask_status"] == ["success", ""]
    photo = {"name": "photo", "mask": True, "visible": True, "size": [384, 251], "offsets": [0, 0]}
    assert main_run["stack_after_mask"] == [dict(photo, name="Sky mask", mask=False), photo]
    assert main_run["selected_after_mask"] == ["Sky mask"]
    assert main_run["user_mask_is_a_ramp"]
    assert main_run["photo_unchanged"] and main_run["user_mask_unchanged"]


def test_dialog_look_moves_the_sliders_and_a_picked_file_is_the_sky(main_run):
    """The handlers the Replace Sky dialog connects, on a real config of the procedure: each Look
    sets every control to it (the declared defaults with its changes) and keeps the sky; picking
    a sky file chooses "Image file..." in the Sky menu."""
    from skyseg_core.effects.params import REPLACE_PRESETS, ReplaceParams

    defaults = ReplaceParams()
    for look, got in main_run["looks"].items():
        for key in ("lighting", "halo", "sky_brightness", "fade_edge", "defocus"):
            want = REPLACE_PRESETS[look].get(key, getattr(defaults, key))
            assert got[key.replace("_", "-")] == pytest.approx(want), (look, key)
        assert got["sky"] == "sunset"  # the sky the user chose stays
    assert main_run["looks"]["dramatic"]["lighting"] != main_run["looks"]["plain"]["lighting"]
    assert main_run["sky_after_file"] == "file"


def test_a_script_giving_a_sky_file_gets_that_sky(main_run):
    """replace-sky with sky-file and the Sky menu left alone: the new sky is the file's red."""
    assert main_run["sky_file_status"] == ["success", ""]
    red, green, blue = main_run["file_sky_mean"]
    assert abs(red - 200) < 8 and abs(green - 30) < 8 and abs(blue - 40) < 8, (red, green, blue)


def test_the_next_action_after_as_channel_works_on_the_photo(main_run):
    """Create Sky Mask "As channel" leaves the photo selected (the new channel took the
    selection, and the next action said "select a pixel layer first")."""
    assert main_run["channel_status"] == ["success", ""]
    assert main_run["selected_after_channel"] == ["photo"]
    assert main_run["next_after_channel"] == ["success", ""]


def test_saved_sky_mask_is_what_skyseg_mask_writes(main_run, folder):
    import subprocess

    assert main_run["save_mask_status"] == ["success", ""]
    # a name without an extension is saved as .png (GIMP's exports do the same)
    assert main_run["save_mask_no_suffix"] == ["success", ""]
    assert not (folder / "gimp_saved_mask_plain").exists()
    plain = folder / "gimp_saved_mask_plain.png"
    status, message = main_run["save_mask_jpg"]
    assert status == "execution-error" and "choose a name ending in .png" in message
    subprocess.run(
        [
            sys.executable,
            "-m",
            "skyseg_core",
            "mask",
            str(folder / "photo.png"),
            "--method",
            harness.METHOD,
            "-o",
            str(folder / "cli_mask.png"),
            "--overwrite",
            "--quiet",
        ],
        check=True,
    )
    from PIL import Image

    for name in (folder / "gimp_saved_mask.png", plain):
        with Image.open(name) as saved, Image.open(folder / "cli_mask.png") as cli:
            # 8-bit grey, values as computed (no gamma, no 16 bits)
            assert saved.mode == cli.mode == "L"
            assert np.array_equal(np.asarray(saved), np.asarray(cli))


REPLACE_GROUP = [  # top first: what `skyseg replace --layers` writes, as GIMP layers
    ("sky matte", "normal", False, False),
    ("new sky", "normal", True, True),  # the matte as its editable layer mask
    ("edge light", "screen", True, False),
    ("foreground light", "normal", True, False),
    ("original photo", "normal", True, False),
]


def test_replace_makes_a_layer_group_mirroring_the_layered_file(main_run):
    photo = {"name": "photo", "mask": False, "visible": True, "size": [384, 251], "offsets": [0, 0]}
    assert main_run["stack"] == [dict(photo, name="Sky replaced"), photo]  # top first
    assert main_run["group_is_group"] and main_run["selected_after_replace"] == ["Sky replaced"]
    group = main_run["group"]
    assert [(c["name"], c["mode"], c["visible"], c["mask"]) for c in group] == REPLACE_GROUP
    # blended on the stored values, as the core's layered files and their composite
    assert {c["composite_space"] for c in group} == {"rgb-perceptual"}
    assert {c["opacity"] for c in group} == {100.0} and not any(c["group"] for c in group)
    assert main_run["xcf_stack"] == main_run["stack"] and main_run["xcf_channels"] == ["Sky"]
    # each result goes directly above the layer it came from (here always the photo)
    assert main_run["stack_after_effects"] == ["Sky replaced", "Sky tinted", "Relit", "photo"]
    assert not main_run["selection_empty"]


def test_a_second_run_reads_the_original_photo(main_run):
    """Run again with the result group, then a layer inside it, selected: the new group's source
    is the photo itself (its "original photo" is byte-identical to it), and it goes above."""
    for run in main_run["second_runs"]:
        assert run["status"] == ["success", ""]
        assert run["top_level"][1:] == ["Sky replaced", "photo"], run["top_level"]
        assert run["source_is_the_photo"]
        # GIMP keeps names unique in an image: the second group's layers get " #1"
        assert run["children"][-1].startswith("original photo"), run["children"]
    # a run on that second group reads the photo too, and goes above it
    assert main_run["third_run"] == ["success", ""] and main_run["third_source_is_the_photo"]
    assert len(main_run["third_top_level"]) == 4


def test_group_merges_to_the_core_result(main_run, folder):
    """The flattened image (the group over the photo) is the composite of the core's layers
    within rounding, and `skyseg replace`'s output as closely as the core's own layered file
    is (the core mixes the sky in linear light, a layer stack on the stored values)."""
    png = load_image(folder / "gimp_result.png").astype(np.int16)
    layers = harness.gimp_core_replace(folder, layers=True).astype(np.int16)
    assert np.abs(png - layers).max() <= 2, np.abs(png - layers).max()
    expected = harness.gimp_core_replace(folder).astype(np.int16)
    diff = np.abs(png - expected)
    core = np.abs(layers - expected)
    print(
        "GIMP group vs the core's layers: max",
        int(np.abs(png - layers).max()),
        "| vs skyseg replace: max",
        int(diff.max()),
        "mean",
        round(float(diff.mean()), 3),
        "share > 2",
        round(float(np.mean(diff > 2)), 4),
        "| core's layered file vs skyseg replace: max",
        int(core.max()),
        "mean",
        round(float(core.mean()), 3),
        "share > 2",
        round(float(np.mean(core > 2)), 4),
    )
    assert diff.mean() <= core.mean() + 0.05 and np.mean(diff > 2) <= np.mean(core > 2) + 0.001
    assert np.mean(diff > 2) < 0.01
    assert (
        np.abs(png - load_image(folder / "photo.png").astype(np.int16)).mean() > 5
    )  # the sky did change


@pytest.mark.parametrize(
    ("kind", "env", "message"),
    [
        ("crash", {"SKYSEG_WORKER_PYTHON": "/e2e/crash_worker.sh"}, "exit status 7"),
        (
            "hang",
            {"SKYSEG_WORKER_PYTHON": "/e2e/hang_worker.sh", "SKYSEG_WORKER_TIMEOUT": "3"},
            "did not answer within 3 s",
        ),
    ],
)
def test_worker_failure_is_an_error_and_gimp_stays_alive(folder, kind, env, message):
    result = harness.run_gimp(folder, f"error-{kind}", env)
    for key in ("mask_status", "replace_status"):
        status, text = result[key]
        assert status == "execution-error" and message in text, result[key]
        assert "\n" not in text, text  # one line; the worker's own lines are in its log
    if kind == "crash":
        log = folder / f"gimp-home-error-{kind}" / ".cache" / "skyseg" / "worker.log"
        assert (
            "the worker's messages are in /e2e/gimp-home-error-crash/.cache/skyseg/worker.log"
            in result["mask_status"][1]
        )
        assert "fake worker: simulated crash" in log.read_text()
    assert result["alive"] and not result["mask_after_error"]
    assert [layer["name"] for layer in result["stack_after_error"]] == ["photo"]
    assert result["dirty_after_error"] is False  # a failed run leaves no undo step


def test_calls_share_one_worker(main_run, folder):
    """GIMP runs each call in a new plug-in process; all of them used one shared worker."""
    log = (folder / "gimp-home-main" / ".cache" / "skyseg" / "worker.log").read_text()
    assert (
        log.count("starts the shared worker") == 1 and "not using the shared worker" not in log
    ), log
    seconds = dict(main_run["seconds"][:2])  # create-mask twice: with the worker's start, then warm
    first, second = (t for _, t in main_run["seconds"][:2])
    harness.TIMINGS["gimp first call"], harness.TIMINGS["gimp second call"] = first, second
    assert second < first, (seconds, main_run["seconds"])


def test_registered_arguments_are_the_declared_ones(main_run):
    """What GIMP registered (read back from the PDB) is the recipe's declarations."""
    from test_recipe_sync import PLUGIN_EFFECTS, _expected_arguments

    for proc, effect in PLUGIN_EFFECTS.items():
        args = main_run["arguments"][proc.removeprefix("plug-in-skyseg-")]
        got = {a["name"].replace("-", "_"): a for a in args}
        assert list(got)[:2] == ["method", "refine"]
        assert got.pop("method")["kind"] == "choice" and got.pop("refine")["default"] is True
        expected = _expected_arguments(effect)
        assert list(got) == list(expected), proc
        for key, (kind, default, low, high, choices) in expected.items():
            a = got[key]
            if (
                kind == "colour" and a["default"] is None
            ):  # GIMP 3.0 keeps colour defaults in the plug-in
                a["default"] = (
                    default  # (checked by test_tint_with_colours_unset_is_the_declared_gradient)
                )
            assert (a["kind"], a.get("default"), a.get("low"), a.get("high"), a.get("choices")) == (
                kind,
                default,
                low,
                high,
                choices,
            ), (proc, key)
    # methods by their plain names, the technical name in each one's help; none that cannot run
    from skyseg_core.methods import PLAIN_NAMES, describe_methods

    method = main_run["arguments"]["replace-sky"][0]
    assert method["name"] == "method"
    runnable = [m["name"] for m in describe_methods() if m["available"]]
    assert method["choices"] == runnable and "ade20k" not in runnable  # no model here
    assert method["choice_labels"] == [PLAIN_NAMES[n] for n in runnable]
    assert method["choice_helps"] == [f"{PLAIN_NAMES[n]} (technical name: {n})" for n in runnable]
    labels = {a["name"]: a["label"].replace("_", "", 1) for a in main_run["arguments"]["tint-sky"]}
    assert (labels["stops-0"], labels["stops-1"]) == ("Horizon colour", "Top colour")


def test_tint_with_colours_unset_is_the_declared_gradient(main_run, folder):
    got = harness.read_ppm(folder / "gimp_tint.ppm").astype(np.int16)
    expected = harness.gimp_core_replace(folder, "tint", layers=True).astype(np.int16)
    assert np.abs(got - expected).max() <= 2


def test_16_bit_layer_is_replaced_at_16_bits(main_run, folder):
    assert main_run["replace16_status"] == ["success", ""]
    assert (
        main_run["replace16"]["name"] == "Sky replaced"
        and main_run["replace16"]["precision"] == "u16-non-linear"
    )
    assert [c["name"] for c in main_run["replace16"]["group"]] == [g[0] for g in REPLACE_GROUP]
    width, height = main_run["replace16"]["size"]
    got = np.frombuffer((folder / "gimp_replace16.raw").read_bytes(), np.uint16).reshape(
        height, width, 3
    )
    expected = harness.gimp_core_replace(folder, "replace16", layers=True)
    assert expected.dtype == np.uint16
    assert np.abs(got.astype(np.int32) - expected.astype(np.int32)).max() <= 2 * 257
    assert np.count_nonzero(got % 257) > got.size // 4  # 16-bit values, not 8-bit ones widened


def test_photo_without_sky_is_one_readable_error(folder):
    result = harness.run_gimp(folder, "nosky")
    for name, action in (
        ("replace-sky", "replaced"),
        ("tint-sky", "tinted"),
        ("create-mask", "no sky mask added"),
        ("create-mask-channel", "no sky mask added"),
        ("select-sky", "nothing selected"),
        ("cut-out-sky", 'no "Photo without sky" layer added'),
    ):
        status, message = result[name]
        assert status == "execution-error", result[name]
        assert (
            message.startswith("skyseg: no sky found in layer 'ground' (")
            and (action if " " in action else f"nothing {action}") in message
        )
        assert "\n" not in message and "/tmp" not in message
    assert [layer["name"] for layer in result["stack_after"]] == ["ground"]
    assert result["channels_after"] == [] and result["selection_empty"]


@pytest.fixture(scope="module")
def cutout_run(folder):
    return harness.run_gimp(folder, "cutout")


@pytest.mark.parametrize("case", ["srgb", "plain", "profile", "grey16"])
def test_cut_out_sky_adds_the_cores_cutout_as_a_new_layer(cutout_run, folder, case):
    """Cut Out Sky: one new layer "Photo without sky" above the photo, selected, with
    transparency; the photo byte-identical; its alpha the core's `skyseg cutout` of the samples
    the worker was given (8-bit sRGB, or 16-bit grey), its colours where opaque the core's too
    (through GIMP's conversion for the Adobe RGB image)."""
    made = cutout_run["cutout"][case]
    assert made["status"] == ["success", ""], made
    assert made["stack"] == ["Photo without sky", "photo"] and made["selected"] == made["stack"][:1]
    assert made["photo_unchanged"] and made["has_alpha"] and made["offsets"] == [0, 0]
    width, height = made["size"]
    deep = case == "grey16"
    dtype = np.dtype(np.uint16 if deep else np.uint8)
    given = np.frombuffer((folder / f"gimp_cutout_{case}_photo.raw").read_bytes(), dtype)
    given = (
        np.repeat(given.reshape(height, width, 1), 3, 2)
        if deep
        else given.reshape(height, width, 3)
    )
    options = ["--no-decontaminate"] if case == "plain" else []
    core = harness.core_cutout(folder, given, f"cutout_{case}", *options).astype(np.int32)
    got = np.frombuffer((folder / f"gimp_cutout_{case}.raw").read_bytes(), dtype)
    got = got.reshape(height, width, 4).astype(np.int32)
    assert core.shape == got.shape
    level = 257 if deep else 1
    alpha = np.abs(got[..., 3] - core[..., 3])
    print(case, "alpha vs skyseg cutout: max", alpha.max() / level, "mean", alpha.mean() / level)
    assert alpha.max() <= 2 * level and alpha.mean() <= 0.25 * level, (alpha.max(), alpha.mean())
    assert 0.2 < 1 - got[..., 3].mean() / (255 * level) < 0.9  # a real sky made transparent
    opaque = (got[..., 3] == 255 * level) & (core[..., 3] == 255 * level)
    colours = np.abs(got[..., :3] - core[..., :3])[opaque]
    print(
        case,
        "opaque colours vs skyseg cutout: max",
        colours.max() / level,
        "mean",
        colours.mean() / level,
    )
    assert colours.mean() <= 0.5 * level and colours.max() <= 3 * level, (
        colours.max(),
        colours.mean(),
    )


def test_cut_out_sky_frees_edge_colours_when_chosen(cutout_run, folder):
    """The option changes the soft edges' colours, not the alpha (the core's decontaminate)."""
    width, height = cutout_run["cutout"]["srgb"]["size"]
    freed, plain = (
        np.frombuffer((folder / f"gimp_cutout_{case}.raw").read_bytes(), np.uint8).reshape(
            height, width, 4
        )
        for case in ("srgb", "plain")
    )
    assert np.array_equal(freed[..., 3], plain[..., 3])
    edge = (freed[..., 3] > 0) & (freed[..., 3] < 255)
    assert edge.any() and not np.array_equal(freed[edge, :3], plain[edge, :3])


def test_opens_ora_from_skyseg_replace(folder):
    result = harness.run_gimp(folder, "ora")
    layers = read_ora(folder / "layers.ora")
    assert result["ora_size"] == list(layers.size)
    assert [layer["name"] for layer in result["ora_stack"]] == [
        layer.name for layer in reversed(list(layers))
    ]
    assert [layer["visible"] for layer in result["ora_stack"]] == [
        layer.visible for layer in reversed(list(layers))
    ]
    assert not result["ora_stack"][0]["visible"]  # the matte, on top, hidden


@pytest.mark.skipif(
    not os.environ.get("SKYSEG_HOST_BENCH"), reason="a benchmark: set SKYSEG_HOST_BENCH=1"
)
def test_bench_12_mp(folder):
    """Create Sky Mask twice on a 640 x 480 photo (the first call starts the shared worker), then
    Create Sky Mask and Replace Sky twice each on a 12 MP photo, in one real GIMP batch."""
    import cv2

    from skyseg_core.io import save_image

    photo = load_image(folder / "photo.png")
    for name, size in (("photo_vga.png", (640, 480)), ("photo12.png", (4000, 3000))):
        save_image(
            folder / name,
            cv2.resize(
                photo,
                size,
                interpolation=cv2.INTER_AREA if size[0] < photo.shape[1] else cv2.INTER_CUBIC,
            ),
            overwrite=True,
        )
    method = os.environ.get("SKYSEG_HOST_BENCH_METHOD", "auto")
    result = harness.run_gimp(folder, "bench", {"SKYSEG_E2E_BENCH_METHOD": method})
    assert result["sizes"] == [[640, 480], [4000, 3000]] and all(
        s == ["success", ""] for s in result["statuses"]
    ), result
    print(f"GIMP 640x480 then 12 MP ({method}):", result["seconds"])
    (folder.parent / "bench_gimp.json").write_text(__import__("json").dumps(result["seconds"]))


@pytest.mark.skipif(
    not os.environ.get("SKYSEG_HOST_SCREENSHOTS"),
    reason="writes docs/: set SKYSEG_HOST_SCREENSHOTS=1",
)
def test_replace_dialog_screenshot(folder):
    """docs/gimp_replace_dialog.png: GIMP's Replace Sky dialog (every control from the schema) on a
    1920 x 1080 screen; the dialog's rows end well above the bottom of the screen."""
    import cv2

    shot = cv2.imread(str(harness.gimp_dialog_screenshot(folder)))
    assert shot.shape[:2] == (1080, 1920)
    dialog = shot[:800, :440]  # without a window manager the dialog sits at the top left
    assert (shot[800:, :440] == 0).all()  # nothing below it: the whole dialog is on screen
    cv2.imwrite(
        str(harness.ROOT / "docs" / "gimp_replace_dialog.png"),
        dialog,
        [cv2.IMWRITE_PNG_COMPRESSION, 9],
    )


PREVIEW_CLICKS = {  # where a user clicks in Replace Sky's dialog (1920 x 1080, no window manager)
    "refine edges": (24, 58),  # off: the preview then runs the method alone, as fast as it can
    "preview": (24, 624),
    "cancel": (216, 741),
    "ok": (310, 741),
}


def test_preview_in_the_real_gui_then_cancel_and_ok(tmp_path):
    """GIMP's GUI under Xvfb: Replace Sky's dialog, Preview ticked (a "skyseg preview" layer on
    the canvas), then Cancel: the image as before (only the photo, not marked changed: no undo
    step, the history on); again with Preview, then OK: the result group and no preview layer.
    With SKYSEG_HOST_SCREENSHOTS=1 the screen with the preview on goes to
    docs/gimp_replace_preview.jpg."""
    import cv2

    click = PREVIEW_CLICKS
    steps = [
        (45, "click", *click["refine edges"]),
        (1, "click", *click["preview"]),
        (30, "grab", "preview_on.png"),
        (1, "click", *click["cancel"]),
        (8, "click", *click["refine edges"]),
        (1, "click", *click["preview"]),
        (30, "grab", "preview_again.png"),
        (1, "click", *click["ok"]),
    ]
    run = harness.gimp_gui_preview(tmp_path, steps)
    assert run["cancel"] == {
        "status": "cancel",
        "layers": ["photo"],
        "dirty": False,
        "undo_enabled": True,
        "selected": ["photo"],
    }
    assert run["ok"]["status"] == "success" and run["ok"]["layers"] == ["Sky replaced", "photo"]
    assert run["ok"]["dirty"]
    shot = cv2.imread(str(tmp_path / "preview_on.png"))
    assert shot.shape[:2] == (1080, 1920)
    if os.environ.get("SKYSEG_HOST_SCREENSHOTS"):  # the dialog, the canvas and the Layers dock
        cv2.imwrite(
            str(harness.ROOT / "docs" / "gimp_replace_preview.jpg"),
            shot[:790, :860],
            [cv2.IMWRITE_JPEG_QUALITY, 90],
        )


def test_a_failed_run_shows_the_dialog_again_with_its_values(tmp_path):
    """GIMP's GUI, the worker crashing: Flip ticked, OK; the run fails and the dialog comes back
    (the call does not end with the error) with Flip still ticked; Escape then closes it, and
    the image is as before."""
    import cv2

    crash = tmp_path / "crash_worker.sh"
    crash.write_text("#!/bin/sh\necho 'fake worker: simulated crash' >&2\nexit 7\n")
    crash.chmod(0o755)
    flip = (24, 281)
    steps = [
        (45, "grab", "fresh.png"),
        (0, "click", *flip),
        (2, "grab", "flip_ticked.png"),
        (0, "click", *PREVIEW_CLICKS["ok"]),
        (15, "grab", "after_failure.png"),
        (0, "escape"),
    ]
    env = {"SKYSEG_WORKER_PYTHON": "/e2e/crash_worker.sh", "SKYSEG_E2E_DIALOGS": "failed"}
    run = harness.gimp_gui_preview(tmp_path, steps, env)
    assert run["failed"] == {
        "status": "cancel",  # not the crash's execution-error: the dialog came back first
        "layers": ["photo"],
        "dirty": False,
        "undo_enabled": True,
        "selected": ["photo"],
    }

    def box(name):
        shot = cv2.imread(str(tmp_path / name)).astype(np.int16)
        return shot[flip[1] - 8 : flip[1] + 8, flip[0] - 8 : flip[0] + 8]

    assert np.abs(box("fresh.png") - box("flip_ticked.png")).mean() > 10  # the click ticked it
    assert np.abs(box("after_failure.png") - box("flip_ticked.png")).mean() < 3  # still ticked


def test_two_runs_at_once_in_the_real_gui_are_two_undo_steps(tmp_path):
    """GIMP's GUI: two Replace Sky runs on one photo at once, each started as a user would (a
    shortcut, then OK; the worker's start slowed so both wait on it together), then Ctrl+Z twice
    in the image window. Both groups are made; the first Ctrl+Z takes away only the group made
    last (the other one whole), the second the other, and the image is then unchanged.
    (GIMP 3's API can neither undo nor read the undo history: Ctrl+Z is how a user undoes.)"""
    slow = tmp_path / "slow_worker.sh"
    slow.write_text('#!/bin/sh\nsleep 20\nexec /opt/skyseg-venv/bin/python "$@"\n')
    slow.chmod(0o755)
    shortcuts = tmp_path / "home" / ".config" / "GIMP" / "3.0" / "shortcutsrc"
    shortcuts.parent.mkdir(parents=True)
    shortcuts.write_text('(file-version 1)\n(action "plug-in-skyseg-replace-sky" "<Primary>F12")\n')
    env = {"SKYSEG_WORKER_PYTHON": "/e2e/slow_worker.sh"}
    run = harness.gimp_gui_preview(
        tmp_path, [(30, "wait", "done")], env, driver="gimp_gui_concurrent.py"
    )
    assert run["most_at_once"] == 2, run["running_then"]  # both runs' plug-ins alive at once
    made, after_one_undo, after_two = run["stacks"]
    *groups, photo = made
    assert len(groups) == 2 and photo["name"] == "photo" and not photo["children"]
    assert all(group["name"].startswith("Sky replaced") for group in groups)
    assert len(groups[0]["children"]) == len(groups[1]["children"]) == 5  # the layered file's
    assert after_one_undo == [min(groups, key=lambda group: group["id"]), photo]
    assert after_two == [photo]
    assert run["dirty"] and not run["dirty_after_undo"]


def test_your_own_look_is_in_gimps_look_menu_and_used(folder):
    """A look saved by the editor (a file in ~/.config/skyseg/looks before GIMP starts) is in
    Replace Sky's Look menu, moves the dialog's controls and is taken by a script's call."""
    from skyseg_core.effects.params import ReplaceParams

    misty = {"halo": 0.7, "horizon_haze": 0.5, "sky_opacity": 0.8}
    run = harness.run_gimp(
        folder,
        "looks",
        looks={"Misty": {"skyseg_look": 1, "effect": "replace", "changes": misty}},
    )
    assert run["look_argument"]["choices"][-1] == "Misty"
    assert run["look_argument"]["choices"][:4] == ["natural", "plain", "soft", "dramatic"]
    assert run["misty"] == pytest.approx(
        {"halo": 0.7, "horizon-haze": 0.5, "sky-opacity": 0.8, "lighting": ReplaceParams().lighting}
    )
    assert run["replace_status"] == ["success", ""]


def test_a_look_saved_after_gimp_registered_the_plug_in_is_listed_at_its_next_start(
    folder, monkeypatch
):
    """GIMP keeps a plug-in's registered procedures, Look menu included, until the plug-in's file
    changes; saving a look marks the installed plug-in changed, so the next start lists it
    (without that the second start's menu had the bundled looks only)."""
    from skyseg_core.effects.looks import save_look
    from skyseg_core.effects.params import ReplaceParams

    bundled = ["natural", "plain", "soft", "dramatic"]
    first = harness.run_gimp(folder, "looks")
    assert first["look_argument"]["choices"] == bundled
    with monkeypatch.context() as patch:  # the user's config folder is that GIMP's HOME's
        patch.setenv("XDG_CONFIG_HOME", str(folder / "gimp-home-looks" / ".config"))
        save_look("Misty", ReplaceParams(halo=0.7))
    second = harness.run_gimp(folder, "looks", again=True)
    assert second["look_argument"]["choices"] == [*bundled, "Misty"]
    assert second["misty"]["halo"] == pytest.approx(0.7)


def test_effects_change_only_the_selection(folder):
    """With a selection, Replace/Tint/Relight each make their group with the selection as its
    mask: the merged image is the photo outside it, exactly, and the core's result inside."""
    run = harness.run_gimp(folder, "selection")
    for name in ("replace-sky", "tint-sky", "relight"):
        assert run[name] == ["success", ""], run[name]
    assert [(item["name"], item["mask"]) for item in run["stack"]] == [
        ("Sky replaced", True),
        ("Sky tinted", True),
        ("Relit", True),
        ("photo", False),
    ]
    mask = harness.read_pgm(folder / "gimp_selection_mask.pgm")
    inside = np.zeros(mask.shape, bool)
    inside[20:140, 40:240] = True
    assert (mask[inside] == 255).all() and (mask[~inside] == 0).all()
    merged = harness.read_ppm(folder / "gimp_selection_merged.ppm").astype(np.int16)
    photo = harness.read_ppm(folder / "gimp_selection_photo.ppm").astype(np.int16)
    core = harness.gimp_core_replace(folder, layers=True).astype(np.int16)
    assert np.array_equal(merged[~inside], photo[~inside])
    assert np.abs(merged[inside] - core[inside]).max() <= 2
    assert np.abs(merged[inside] - photo[inside]).mean() > 5  # the sky did change there


def test_an_image_with_its_own_colour_profile_gets_the_layer_group(folder, core_matte):
    """A photo converted to Adobe RGB: Replace Sky makes the same layer group as in sRGB, its
    merged image (read back in sRGB through GIMP's conversion) the core's layered result of the
    photo's colours; the sky mask is the core's matte of them."""
    from skyseg_core.effects import replace_sky_layers
    from skyseg_core.ora import composite
    from skyseg_core.skygen import load_sky

    run = harness.run_gimp(folder, "profile")
    assert run["stored_differs_from_srgb"]  # the layer really holds Adobe RGB values
    assert run["replace_status"] == ["success", ""] and run["mask_status"] == ["success", ""]
    assert [(c["name"], c["mode"], c["visible"], c["mask"]) for c in run["group"]] == REPLACE_GROUP
    assert run["profile_kept"]
    photo = harness.read_ppm(folder / "gimp_profile_photo.ppm")
    matte = segment(photo, method=harness.METHOD)
    mask = harness.read_pgm(folder / "gimp_profile_mask.pgm").astype(np.float64)
    assert np.abs(mask - np.round(matte * 255)).max() <= 2
    _, stack = replace_sky_layers(photo, matte, load_sky(harness.SKY))
    expected = np.round(composite(stack, photo.shape[1::-1])[..., :3] * 255).astype(np.int16)
    got = harness.read_ppm(folder / "gimp_profile_merged.ppm").astype(np.int16)
    diff = np.abs(got - expected)
    print("GIMP Adobe RGB group vs the core's layers: max", diff.max(), "mean", diff.mean())
    assert diff.mean() <= 1.0 and np.mean(diff > 3) < 0.01, (diff.max(), diff.mean())


@pytest.fixture(scope="module")
def preview_run(folder):
    return harness.run_gimp(folder, "preview")


def test_dialog_preview_shows_the_effect_over_the_photo_and_leaves_nothing(preview_run, folder):
    """Replace Sky's preview, driven as its toggle and a control drive it: a "skyseg preview"
    layer directly above the photo showing what `skyseg replace` makes (the photo is smaller
    than the working size, so the working copy is the photo itself), updated when a control
    moves; stopped (OK, Cancel, toggle cleared), the image is as it was: same layers, same
    selected layer, photo untouched, not marked changed (no undo step), history on."""
    run = preview_run
    assert run["preview_status"] in ([], [""]), run["preview_status"]
    photo = {"name": "photo", "mask": False, "visible": True, "size": [384, 251], "offsets": [0, 0]}
    assert run["preview_stack"] == [dict(photo, name="skyseg preview"), photo]
    assert run["preview_selected"] == ["photo"]
    shown = harness.read_ppm(folder / "gimp_preview.ppm").astype(np.int16)
    diff = np.abs(shown - harness.gimp_core_replace(folder).astype(np.int16))
    print("GIMP preview vs skyseg replace: max", diff.max(), "mean", round(float(diff.mean()), 4))
    # the preview's cached matte is an 8-bit file, the core's a float: edges differ slightly
    assert diff.max() <= 10 and diff.mean() <= 0.1, (diff.max(), diff.mean())
    assert run["preview_changed"]
    assert run["preview_layers_while_shown"] == ["skyseg preview", "photo"]  # one, replaced
    assert run["after_stop"] == {
        "stack": [photo],
        "dirty": False,
        "photo_unchanged": True,
        "selected": ["photo"],
        "undo_enabled": True,
    }


def test_tint_and_relight_dialogs_preview_too(preview_run):
    """Each shows a preview that differs from the photo, then leaves one layer, unchanged."""
    assert preview_run["other_previews"] == {
        "tint": [True, [""], 1, False],
        "relight": [True, [""], 1, False],
    }


def test_dialog_preview_of_a_greyscale_16_bit_image(preview_run):
    assert preview_run["grey_preview"] == {"shown": True, "status": [""], "after": [1, False]}


def test_dialog_preview_is_limited_to_the_selection(preview_run):
    assert preview_run["selection_preview_mask"]
    assert preview_run["selection_mask_inside_outside"] == [255, 0]
    assert [item["name"] for item in preview_run["after_selection_stop"][0]] == ["photo"]
    assert preview_run["after_selection_stop"][1] is False


def test_dialog_preview_at_24_mp(preview_run):
    """A 6000 x 4000 photo: the preview layer covers it; the seconds are printed (measured in
    the real GIMP, not asserted: a unit test holds no time)."""
    assert preview_run["preview_24mp_size"] == [6000, 4000]
    assert preview_run["after_24mp_stop"] == [1, False]
    print("GIMP preview at 24 MP (seconds):", preview_run["preview_24mp_timings"])
