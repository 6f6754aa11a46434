"""Method names for photographers (issue 25 point 7): plain names declared once in the core
(skyseg_core.methods.PLAIN_NAMES), the technical name in the tooltip, methods that cannot run
here left out of the plug-ins' menus."""

from __future__ import annotations

import importlib
import re

from conftest import ROOT

from skyseg_core.methods import PLAIN_NAMES, describe_methods, method_label, method_names
from skyseg_core.worker import schema as worker_schema


def client(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "plugins" / "common"))
    return importlib.import_module("skyseg_client")


def test_every_method_has_a_plain_name():
    names = list(dict.fromkeys(["auto", *method_names()]))
    assert set(names) <= set(PLAIN_NAMES), set(names) - set(PLAIN_NAMES)
    labels = [method_label(name) for name in names]
    assert len(set(labels)) == len(labels)  # no two look the same in a menu
    for name, label in zip(names, labels, strict=True):
        assert label != name and label[0].isupper(), label
        assert not re.search(r"onnx|u-?net|deeplab|ade20k|\d{4}|SKYSEG_", label, re.I), label
    assert {m["name"]: m["label"] for m in describe_methods()} == {
        name: method_label(name) for name in names
    }
    assert method_label("a-toy") == "a-toy"


def test_plugin_menu_shows_plain_names_and_hides_what_cannot_run(monkeypatch):
    skyseg_client = client(monkeypatch)
    schema = worker_schema()
    methods = {m["name"]: m for m in schema["methods"]}
    schema["methods"] = [dict(m, available=m["name"] != "unet") for m in schema["methods"]]
    (method, _refine) = skyseg_client.source_controls(schema)
    shown = dict(method["choices"])
    assert "unet" not in shown and "unet" not in method["choice_help"]  # cannot run: not offered
    assert list(shown) == [n for n in methods if n != "unet"]
    for nick, label in shown.items():
        assert label == PLAIN_NAMES[nick]
        assert method["choice_help"][nick] == f"{label} (technical name: {nick})"
        assert f"{label}: {nick}" in method["help"]
    # the tooltip names methods plainly: no papers, model formats or environment variables
    assert not re.search(r"SKYSEG_|Shen|\(ONNX\)|2013", method["help"]), method["help"]
    assert skyseg_client.method_choices(schema["methods"]) == list(shown.items())
