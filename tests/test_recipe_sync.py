"""Every surface shows the effect recipe as declared (skyseg_core/effects/params.py).

Each surface's check is its own test function: the editor's panels here (built for real,
offscreen); the plug-ins' dialogs are checked in their own functions.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from skyseg_core.effects.params import EFFECTS, REPLACE_PRESETS, controls, describe

ROOT = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------- the editor
EDITOR_PANELS = {"replace": "sky_panel", "tint": "tint_panel", "relight": "relight_panel"}
CHOSEN_ELSEWHERE = {("replace", "sky")}
"""Fields with no control in their panel: the replacement's sky is chosen in the sky palette."""


@pytest.fixture
def editor(qtbot, tmp_path, monkeypatch):
    from PyQt6.QtCore import QSettings
    from PyQt6.QtWidgets import QMessageBox

    # pytest-qt closes the window before this fixture's teardown: never a modal "save?" question
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    QSettings.setPath(
        QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "settings")
    )
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME"):  # the sky library and its thumbnails
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    from effects_gui.window import MainWindow

    window = MainWindow(proxy_long_side=256)
    qtbot.addWidget(window)
    yield window
    window.shutdown()


@pytest.mark.parametrize("effect", list(EDITOR_PANELS))
def test_editor_controls_are_the_declared_ones(editor, effect):
    """Each declared field has one control with the declared default, range, label and help."""
    panel = getattr(editor, EDITOR_PANELS[effect])
    declared = [f for f in describe(EFFECTS[effect]) if (effect, f["name"]) not in CHOSEN_ELSEWHERE]
    assert list(panel.controls) == [f["name"] for f in declared], (
        "every field, in declaration order"
    )
    for field in declared:
        name = field["name"]
        control = panel.controls[name]
        default = control.value()
        if isinstance(default, tuple):
            default = [list(v) if isinstance(v, tuple) else v for v in default]
        assert default == field["default"], name
        assert control.default == EFFECTS[effect]().__getattribute__(name), name
        assert (control.minimum, control.maximum) == (field["low"], field["high"]), name
        assert panel.form.titles[name].text() == field["label"], name
        assert field["help"][1:] in control.toolTip(), name
        if field["choices"] is not None:
            combo = control.combo
            assert [combo.itemText(i) for i in range(combo.count())] == field["choices"], name
        for (
            slider
        ) in control.sliders:  # the slider's ends are the declared range, shown in its decimals
            slider.slider.setValue(slider.slider.minimum())
            assert slider.value() == field["low"], name
            slider.slider.setValue(slider.slider.maximum())
            assert slider.value() == field["high"], name
            assert slider.decimals == field["decimals"] and slider.unit == field["unit"], name


def test_editor_edit_state_starts_at_the_declared_defaults(editor):
    for effect, cls in EFFECTS.items():
        assert getattr(editor.model.edit, effect) == cls()


def test_editor_offers_every_look(editor):
    assert list(editor.sky_panel.looks) == list(REPLACE_PRESETS)


def _distinctive(value) -> list[str]:
    """Literal spellings of a default that would betray a second copy of it."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, float):
        if value in (0.0, 0.5, 1.0):
            return []
        small_whole = (
            value.is_integer() and abs(value) < 1000
        )  # 90: also a colour channel; 90.0 is not
        return [f"{value:.1f}" if small_whole else f"{value:g}"]
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple):
        return [s for v in value for s in _distinctive(v)]
    return []


def test_editor_sources_hold_no_effect_default():
    """No effect default is written out in effects_gui (they all come from params.py)."""
    sources = {p: p.read_text() for p in sorted((ROOT / "effects_gui").glob("*.py"))}
    for cls in EFFECTS.values():
        for name, (field, _) in controls(cls).items():
            for literal in _distinctive(field.default):
                pattern = re.compile(rf"(?<![\w.#]){re.escape(literal)}(?![\w.])")
                for path, text in sources.items():
                    assert not pattern.search(text), (
                        f"{cls.__name__}.{name} default {literal} in {path.name}"
                    )


# --------------------------------------------------------------------------- the plug-ins
# GIMP's procedure arguments and Krita's docker controls, generated from the schema that
# `skyseg install-plugin` writes beside them. GIMP: its plug-in module runs against a recording
# stand-in for `gi` (the real GIMP registers the same arguments: tests/test_hosts_gimp.py);
# Krita: the docker is built for real with the fake `krita` module.
import contextlib  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import types  # noqa: E402

PLUGIN_EFFECTS = {
    "plug-in-skyseg-replace-sky": "replace",
    "plug-in-skyseg-tint-sky": "tint",
    "plug-in-skyseg-relight": "relight",
}
STOP_LABELS = {0.0: "Horizon colour", 1.0: "Top colour"}


def _expected_arguments(effect: str) -> dict:
    """argument/control key -> (kind, default, low, high, choices) as the declarations say."""
    from skyseg_core.skygen import SKY_PRESETS

    out = {}
    if effect == "replace":
        out["look"] = (
            "choice",
            next(n for n, c in REPLACE_PRESETS.items() if not c),
            None,
            None,
            list(REPLACE_PRESETS),
        )
    for f in describe(EFFECTS[effect]):
        name, low, high = f["name"], f["low"], f["high"]
        if f["type"] == "float":
            out[name] = ("float", f["default"], low, high, None)
        elif f["type"] == "pair":
            for axis, value in zip("xy", f["default"], strict=True):
                out[f"{name}_{axis}"] = ("float", value, low, high, None)
        elif f["type"] == "bool":
            out[name] = ("bool", f["default"], None, None, None)
        elif f["type"] == "stops":
            for i, (_, colour) in enumerate(f["default"]):
                out[f"{name}_{i}"] = ("colour", colour, None, None, None)
        elif f["choices"] is not None:
            out[name] = ("choice", f["default"], None, None, f["choices"])
        else:  # a sky: the presets and "file" (an optional one starts with "none")
            skies = (["none"] if f["default"] is None else []) + list(SKY_PRESETS) + ["file"]
            out[name] = ("choice", f["default"] or "none", None, None, skies)
            out[f"{name}_file"] = ("file", None, None, None, None)
    return out


def _installed(tmp_path, host):
    from skyseg_core.cli.install_plugin import install

    return install(host, dest=tmp_path / host, kritarc=tmp_path / "kritarc")[0]


class _Recorder:
    """Stands in for every gi object: records the calls made on it."""

    def __init__(self, *args, **kwargs):
        self.args, self.calls = args, []

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls.append((name, args))
            return _Recorder(name, *args)

        return call


def _fake_gi(monkeypatch):
    gi = types.ModuleType("gi")
    gi.require_version = lambda *args: None
    repository = types.ModuleType("gi.repository")

    class Namespace(types.ModuleType):
        def __getattr__(self, name):
            return _Recorder(name)

    for name in ("Babl", "GimpUi", "Gio", "GLib", "GObject"):
        setattr(repository, name, Namespace(name))
    gimp = Namespace("Gimp")
    gimp.PlugIn = type("PlugIn", (), {"__gtype__": None})
    gimp.ImageProcedure = types.SimpleNamespace(new=lambda *args: _Recorder("procedure"))
    gimp.Choice = types.SimpleNamespace(new=lambda: _Recorder("choice"))
    gimp.main = lambda *args: None
    repository.Gimp = gimp
    gegl = Namespace("Gegl")
    gegl.Color = types.SimpleNamespace(new=lambda text: text)
    gegl.init = lambda *args: None
    repository.Gegl = gegl
    gi.repository = repository
    monkeypatch.setitem(sys.modules, "gi", gi)
    monkeypatch.setitem(sys.modules, "gi.repository", repository)


def _gimp_arguments(procedure) -> dict:
    """argument name -> (kind, default, low, high, choices, label, help) from the recorded calls."""
    out = {}
    for method, args in procedure.calls:
        if not method.startswith("add_") or not method.endswith("_argument") or "_aux_" in method:
            continue  # aux arguments (the dialog's Preview toggle) are not in the PDB call
        name, label, help_text = args[:3]
        kind = method[len("add_") : -len("_argument")]
        if kind == "double":
            entry = ("float", args[5], args[3], args[4], None)
        elif kind == "boolean":
            entry = ("bool", args[3], None, None, None)
        elif kind == "choice":
            nicks = [call_args[0] for call_name, call_args in args[3].calls if call_name == "add"]
            entry = ("choice", args[4], None, None, nicks)
        elif kind == "color":
            entry = ("colour", args[4], None, None, None)
        elif kind == "file":
            entry = ("file", None, None, None, None)
        else:
            raise AssertionError(f"unexpected GIMP argument {method}")
        out[name.replace("-", "_")] = (
            *entry,
            label.replace("_", "", 1),
            help_text,
        )  # without the mnemonic
    return out


def _gimp_plugin(tmp_path, monkeypatch):
    """The GIMP plug-in as installed, run against the recording stand-in for `gi`; and where."""
    target = _installed(tmp_path, "gimp")
    _fake_gi(monkeypatch)
    monkeypatch.syspath_prepend(str(target))
    own = {"skyseg", "skyseg_client", *(p.stem for p in target.glob("*.py"))}  # its modules
    for name in [m for m in sys.modules if m.split(".")[0] in own]:
        monkeypatch.delitem(sys.modules, name, raising=False)
    spec = importlib.util.spec_from_file_location("skyseg_gimp_plugin", target / "skyseg.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, target


def test_gimp_procedure_arguments_are_the_declared_ones(tmp_path, monkeypatch):
    module, target = _gimp_plugin(tmp_path, monkeypatch)
    plugin = module.SkysegPlugIn()
    assert module.schema() == json.loads((target / "skyseg_schema.json").read_text())
    for proc, effect in PLUGIN_EFFECTS.items():
        got = _gimp_arguments(plugin.do_create_procedure(proc))
        assert list(got)[:2] == ["method", "refine"], proc
        methods = got.pop("method")
        assert methods[1] == "auto" and "color" in methods[4] and methods[0] == "choice"
        assert got.pop("refine")[:2] == ("bool", True)
        expected = _expected_arguments(effect)
        assert list(got) == list(expected), f"{proc}: every field, in declaration order"
        labels = {f["name"]: f for f in describe(EFFECTS[effect])}
        for key, (kind, default, low, high, choices, label, help_text) in got.items():
            assert (kind, default, low, high, choices) == expected[key], (proc, key)
            field = labels.get(key) or labels.get(key.rsplit("_", 1)[0])
            if field is None:  # the look
                continue
            if field["type"] == "stops":
                assert label == STOP_LABELS[field["default"][int(key[-1])][0]], (proc, key)
            elif kind == "file":
                assert label == f"{field['label']} file", (proc, key)
            else:
                assert label.startswith(field["label"]) and field["help"] in help_text, (proc, key)
            if field["unit"] and kind == "float":
                assert label.endswith(f"({field['unit']})"), (proc, key)
    mask = _gimp_arguments(plugin.do_create_procedure("plug-in-skyseg-create-mask"))
    assert list(mask) == ["method", "refine", "as_channel"]


def _krita_modules() -> list[str]:
    return [
        m
        for m in sys.modules
        if m == "krita" or m.split(".")[0] in ("skyseg_client", "skyseg_krita")
    ]


@contextlib.contextmanager
def _krita_plugin(tmp_path, monkeypatch):
    """The Krita plug-in as installed, imported with the fake `krita` module; its schema file is
    all it has (no worker). Its modules are forgotten afterwards."""
    target = _installed(tmp_path, "krita")
    for folder in (ROOT / "tests" / "fake_krita", target.parent):
        monkeypatch.syspath_prepend(str(folder))
    for name in _krita_modules():
        monkeypatch.delitem(sys.modules, name)
    krita = importlib.import_module("krita")
    monkeypatch.setattr(krita.Krita, "_instance", None)
    (target / "skyseg_worker.json").unlink()
    try:
        yield importlib.import_module("skyseg_krita")
    finally:
        for name in _krita_modules():
            sys.modules.pop(name, None)


def test_krita_docker_controls_are_the_declared_ones(tmp_path, monkeypatch, qtbot):
    with _krita_plugin(tmp_path, monkeypatch):
        docker = importlib.import_module("skyseg_krita.docker").SkysegDocker()
        qtbot.addWidget(docker)
        for effect in PLUGIN_EFFECTS.values():
            expected = _expected_arguments(effect)
            keys = [k.split(".", 1)[1] for k in docker.fields if k.startswith(effect + ".")]
            assert keys == list(expected), f"{effect}: every field, in declaration order"
            for key, (kind, default, low, high, choices) in expected.items():
                widget = docker.fields[f"{effect}.{key}"]
                if kind == "float":
                    got = (widget.value(), widget.minimum(), widget.maximum())
                    assert got == pytest.approx((default, low, high)), (effect, key)
                elif kind == "bool":
                    assert widget.isChecked() == default, (effect, key)
                elif kind == "choice":
                    nicks = [widget.itemData(i) for i in range(widget.count())]
                    assert (widget.currentData(), nicks) == (default, choices), (effect, key)
                elif kind == "colour":
                    assert widget.text() == default, (effect, key)
                else:
                    assert widget.text() == "" and not widget.isEnabled(), (effect, key)
        assert docker.fields["source.method"].currentData() == "auto"


def test_plugin_sources_hold_no_effect_default():
    """No effect default, range end or menu is written out in plugins/ (the schema brings them)."""
    sources = {p: p.read_text() for p in sorted((ROOT / "plugins").rglob("*.py"))}
    literals = set()
    for cls in EFFECTS.values():
        for f in describe(cls):
            values = [f["default"], f["low"], f["high"], *(f["choices"] or [])]
            for value in values:
                if isinstance(value, list):
                    values += [
                        v for item in value for v in (item if isinstance(item, list) else [item])
                    ]
                elif isinstance(value, str):
                    literals.add(value)
                elif (
                    isinstance(value, float)
                    and not (value.is_integer() and abs(value) < 1000)
                    and value != 0.5
                ):
                    literals.add(f"{value:g}")  # a whole number below 1000 or 0.5 says nothing
    literals |= set(REPLACE_PRESETS)
    for literal in sorted(literals):
        if re.fullmatch(r"-?[\d.]+", literal):
            pattern = re.compile(rf"(?<![\w.#-]){re.escape(literal)}(?![\w.])")
        else:  # a name or colour, as a string literal
            pattern = re.compile(rf"[\"']{re.escape(literal)}[\"']")
        for path, text in sources.items():
            assert not pattern.search(text), (
                f"default/range/choice {literal!r} written out in {path.relative_to(ROOT)}"
            )
