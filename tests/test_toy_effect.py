"""An effect registered at run time shows on every surface, with nothing else written for it.

The toy effect below is what a new effect module holds (its declaration, its identity, its
functions, one ``register`` call); registering it is all it takes for the command line, the
worker and its schema, the editor and both plug-ins to offer it.
"""

from __future__ import annotations

import importlib
import json
import typing
from dataclasses import dataclass

import numpy as np
import pytest
from conftest import synthetic_landscape
from test_recipe_sync import _gimp_arguments, _gimp_plugin, _krita_plugin
from test_recipe_sync import editor as editor  # noqa: F401 - the editor fixture

from skyseg_core.declare import Declared, control
from skyseg_core.effects.registry import REGISTRY, Effect, register, unregister
from skyseg_core.io import load_image, save_image, save_matte
from skyseg_core.ora import Layer


@dataclass(frozen=True)
class DarkenParams(Declared):
    """Darken the sky (the toy effect)."""

    effect: typing.ClassVar[str] = "darken"
    amount: float = control(0.4, "Amount", "how much darker the sky gets", 0.0, 1.0)
    mode: str = control("even", "Falloff", "where it darkens most", choices=("even", "top"))


def darken(image, matte, p: DarkenParams, skies=None):
    weight = matte * np.float32(p.amount)
    if p.mode == "top":
        weight = weight * np.linspace(1.0, 0.0, image.shape[0], dtype=np.float32)[:, None]
    out = image.astype(np.float32) * (1.0 - weight[..., None])
    return np.round(out).astype(image.dtype)


def darken_layers(image, matte, p: DarkenParams, skies=None):
    result = darken(image, matte, p)
    grey = np.repeat((matte * 255).astype(np.uint8)[..., None], 3, axis=2)
    return result, [
        Layer("original photo", image),
        Layer("darkened", result),
        Layer("sky matte", grey, visible=False),
    ]


TOY = Effect(
    name="darken",
    params=DarkenParams,
    run=darken,
    run_layers=darken_layers,
    title="Darken sky",
    short="Darken",
    verb="darkened",
    layer_name="Sky darkened",
    needs_sky=False,
    summary="darken the sky (a toy effect)",
    description="Darken the sky of each photo.",
    switch="Darken the sky",
    hint="A toy effect, registered by a test.",
)


@pytest.fixture
def toy():
    register(TOY)
    yield TOY
    unregister(TOY.name)


@pytest.fixture
def photo(tmp_path):
    image, truth = synthetic_landscape(48, 64)
    path = save_image(tmp_path / "photo.png", image)
    matte = save_matte(tmp_path / "matte.png", truth.astype(np.float32))
    return path, matte, image, truth


def test_it_is_a_command_with_its_options_and_runs(toy, photo, tmp_path, capsys):
    from skyseg_core.cli import build_parser, main

    path, matte, image, truth = photo
    with pytest.raises(SystemExit):
        build_parser().parse_args(["darken", "--help"])
    text = capsys.readouterr().out
    assert "Darken the sky of each photo. Writes <stem>_darkened.<ext>." in text
    assert "--amount N" in text and "how much darker the sky gets (0..1); default 0.4" in text
    assert "{even,top}" in text and "--method" in text and "--layers" in text
    out = tmp_path / "out.png"
    argv = ["darken", str(path), "--matte", str(matte), "-o", str(out), "--amount", "1"]
    assert main([*argv, "--mode", "top", "--layers", str(tmp_path / "out.ora")]) == 0
    result = load_image(out)
    assert result[~truth].tolist() == image[~truth].tolist(), "the foreground is kept"
    assert result[truth].mean() < image[truth].mean() / 2, "the sky is darker"
    assert (tmp_path / "out.ora").is_file()


def test_it_is_a_worker_op_in_the_schema(toy, photo, tmp_path):
    from skyseg_core.worker import OPS, Worker, answer, ready_line, schema

    path, matte, image, truth = photo
    assert OPS["darken"] is OPS["tint"] and "darken" in ready_line()["ops"]
    declared = schema()
    assert [f["name"] for f in declared["effects"]["darken"]] == ["amount", "mode"]
    assert declared["steps"]["darken"]["layer_name"] == "Sky darkened"
    out = tmp_path / "out.png"
    request = {
        "id": 1,
        "op": "darken",
        "input": str(path),
        "output": str(out),
        "params": {"matte": str(matte), "amount": 1.0},
    }
    reply, _ = answer(Worker(), json.dumps(request))
    assert reply["ok"], reply
    assert load_image(out)[truth].mean() < image[truth].mean() / 2
    chain = dict(request, op="render", output=str(tmp_path / "chain.png"))
    chain["params"] = {"matte": str(matte), "steps": [{"effect": "darken", "mode": "top"}]}
    assert answer(Worker(), json.dumps(chain))[0]["ok"]
    bad = dict(request, params={"amount": 2.0})
    reply, _ = answer(Worker(), json.dumps(bad))
    assert not reply["ok"] and "amount must be in 0..1, got 2.0" in reply["error"]


def test_it_has_an_editor_panel(toy, qtbot, tmp_path, monkeypatch, request):
    editor = request.getfixturevalue("editor")
    panel = editor.darken_panel
    titles = [editor.tabs.tabText(i) for i in range(editor.tabs.count())]
    assert titles[-1] == "Darken" and panel.enabled.text() == "Darken the sky"
    assert list(panel.controls) == ["amount", "mode"]
    assert panel.controls["amount"].value() == 0.4 and not panel.controls["amount"].isEnabled()
    m = editor.model
    assert m.edit.darken == DarkenParams() and not m.edit.darken_enabled
    m.set_params("darken", enabled=True, amount=0.9)
    assert [s.effect for s in m.steps()] == ["darken"] and m.steps()[0].amount == 0.9
    assert panel.controls["amount"].isEnabled() and panel.controls["amount"].value() == 0.9
    assert m.undo_stack.undoText() == "Darken: Amount"


def test_it_is_a_gimp_procedure(toy, tmp_path, monkeypatch):
    module, _ = _gimp_plugin(tmp_path, monkeypatch)
    plugin = module.SkysegPlugIn()
    names = plugin.do_query_procedures()
    assert names[-2:] == ["plug-in-skyseg-darken-sky", "plug-in-skyseg-save-mask"]
    labels = [module.procedures()[name][0] for name in names]
    assert labels == [  # the shipped menu labels, mnemonics as they were, and the toy's
        "Create Sky _Mask...",
        "_Cut Out Sky...",  # the shipped RGBA step, next to Create Sky Mask
        "_Sky",
        "_Replace Sky...",
        "_Tint Sky...",
        "Re_light...",
        "_Darken Sky...",
        "Sa_ve Sky Mask...",
    ]
    label, menu, title, _, effect = module.procedures()["plug-in-skyseg-darken-sky"]
    assert (label.replace("_", ""), menu, title, effect) == (
        "Darken Sky...",
        "<Image>/Filters/Sky",
        "Darken Sky",
        "darken",
    )
    arguments = _gimp_arguments(plugin.do_create_procedure("plug-in-skyseg-darken-sky"))
    assert list(arguments) == ["method", "refine", "amount", "mode"]
    assert arguments["amount"][:4] == ("float", 0.4, 0.0, 1.0)
    assert arguments["mode"][:5] == ("choice", "even", None, None, ["even", "top"])


def test_it_is_a_krita_action_and_docker_section(toy, tmp_path, monkeypatch, qtbot):
    with _krita_plugin(tmp_path, monkeypatch) as package:
        actions = package.extension.actions_list()
        assert ("skyseg_darken_sky", "skyseg: Darken sky", "darken_sky") in actions
        assert actions[-1][0] == "skyseg_save_mask"
        schema = package.extension.settings.schema
        assert package.logic.sections(schema)[-1] == (
            "Darken sky",
            "darken",
            (("Darken sky", "darken_sky"),),
            False,
        )
        docker = importlib.import_module("skyseg_krita.docker").SkysegDocker()
        qtbot.addWidget(docker)
        assert [k for k in docker.fields if k.startswith("darken.")] == [
            "darken.amount",
            "darken.mode",
        ]
        assert docker.fields["darken.amount"].value() == pytest.approx(0.4)
        assert package.extension.settings.params("darken")["mode"] == "even"


def test_unregistered_it_is_gone(toy):
    assert "darken" in REGISTRY
    unregister("darken")
    from skyseg_core.worker import OPS

    assert "darken" not in OPS and list(REGISTRY) == ["replace", "tint", "relight"]


# -- a step whose output is not an RGB picture (as the cut-out) -----------------------------------


@dataclass(frozen=True)
class PunchParams(Declared):
    """Make the sky transparent (the toy RGBA step)."""

    effect: typing.ClassVar[str] = "punch"
    keep: float = control(0.0, "Keep", "how much of the sky stays opaque", 0.0, 1.0)


def punch(image, matte, p: PunchParams, skies=None):
    alpha = np.round((1.0 - matte * np.float32(1.0 - p.keep)) * 255).astype(np.uint8)
    return np.concatenate([image, alpha[..., None]], axis=2)


PUNCH = Effect(
    name="punch",
    params=PunchParams,
    run=punch,
    run_layers=darken_layers,
    title="Punch out sky",
    short="Punch",
    verb="punched",
    layer_name="Sky punched",
    needs_sky=False,
    summary="make the sky transparent (a toy RGBA step)",
    description="Make the sky of each photo transparent.",
    output="rgba",
)


@pytest.fixture
def rgba_toy():
    register(PUNCH)
    yield PUNCH
    unregister(PUNCH.name)


def test_an_rgba_step_is_a_worker_op_and_runs(rgba_toy, photo, tmp_path):
    from PIL import Image

    from skyseg_core.worker import OPS, Worker, answer, ready_line, schema

    path, matte, image, truth = photo
    assert "punch" in OPS and "punch" in ready_line()["ops"]
    declared = schema()
    assert declared["rgba_steps"]["punch"]["output"] == "rgba"
    assert [f["name"] for f in declared["rgba_steps"]["punch"]["fields"]] == ["keep"]
    assert "punch" not in declared["effects"] and "punch" not in declared["steps"]
    out = tmp_path / "out.png"
    request = {
        "op": "punch",
        "input": str(path),
        "output": str(out),
        "params": {"matte": str(matte)},
    }
    reply, _ = answer(Worker(), json.dumps(request))
    assert reply["ok"], reply
    with Image.open(out) as picture:
        rgba = np.asarray(picture)
    assert rgba.shape[2] == 4 and (rgba[truth, 3] == 0).all() and (rgba[~truth, 3] == 255).all()


def test_an_rgba_step_is_a_gimp_procedure_and_krita_action_and_on_no_rgb_surface(
    rgba_toy, tmp_path, monkeypatch, qtbot, request
):
    """GIMP and Krita add an RGBA step's picture as a new layer (as Cut Out Sky does), its options
    the step's declared fields and no canvas preview; the surfaces that composite an RGB result
    (the effect commands, the editor's panels) leave it off."""
    from skyseg_core.cli import build_parser

    assert "punch" not in REGISTRY and list(REGISTRY) == ["replace", "tint", "relight"]
    with pytest.raises(SystemExit) as stop:  # no effect command
        build_parser().parse_args(["punch", "x.png"])
    assert stop.value.code == 2
    module, _ = _gimp_plugin(tmp_path / "gimp", monkeypatch)
    plugin = module.SkysegPlugIn()
    names = plugin.do_query_procedures()
    assert names[:3] == [
        "plug-in-skyseg-create-mask",
        "plug-in-skyseg-cut-out-sky",
        "plug-in-skyseg-punch-out-sky",
    ]
    label, menu, title, body, step = module.procedures()["plug-in-skyseg-punch-out-sky"]
    assert (label, menu, title, step) == (
        "_Punch Out Sky...",
        module.SKY_MENU,
        "Punch Out Sky",
        "punch",
    )
    assert body.__qualname__ == module.procedures()["plug-in-skyseg-cut-out-sky"][3].__qualname__
    procedure = plugin.do_create_procedure("plug-in-skyseg-punch-out-sky")
    arguments = _gimp_arguments(procedure)
    assert list(arguments) == ["method", "refine", "keep"]
    assert arguments["keep"][:4] == ("float", 0.0, 0.0, 1.0)
    assert not [c for c, _ in procedure.calls if "_aux_" in c], "no canvas preview"
    with _krita_plugin(tmp_path / "krita", monkeypatch) as package:
        actions = package.extension.actions_list()
        assert [a[0] for a in actions[:4]] == [
            "skyseg_create_mask",
            "skyseg_select_sky",
            "skyseg_cut_out_sky",
            "skyseg_punch_out_sky",
        ]
        assert actions[3] == ("skyseg_punch_out_sky", "skyseg: Punch out sky", "punch_out_sky")
        schema = package.extension.settings.schema
        assert package.logic.rgba_actions(schema)["punch_out_sky"] == "punch"
        find = package.logic.sections(schema)[0]  # its button by the matte's controls
        assert ("Punch out sky", "punch_out_sky") in find[2] and find[1] is None
        assert "punch" not in [s[1] for s in package.logic.sections(schema)]  # no RGB section
        assert package.extension.settings.params("punch") == {
            "method": "auto",
            "refine": True,
            "keep": 0.0,
        }
        docker = importlib.import_module("skyseg_krita.docker").SkysegDocker()
        qtbot.addWidget(docker)
        assert [k for k in docker.fields if k.startswith("punch.")] == ["punch.keep"]
    editor = request.getfixturevalue("editor")
    assert "Punch" not in [editor.tabs.tabText(i) for i in range(editor.tabs.count())]
    assert not hasattr(editor, "punch_panel") and "punch" not in editor.model.edit.__dict__
