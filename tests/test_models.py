"""Checked model files: lookup order, SHA-256 pinning, errors that say how to restore."""

from __future__ import annotations

import pytest

from skyseg_core import models
from skyseg_core.errors import ModelFileError


@pytest.fixture
def bundled(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv(models.MODELS_DIR_ENV, str(folder))
    model = folder / "m.bin"
    model.write_bytes(b"weights")
    models.write_sha256_sidecar(model)
    return model


def test_bundled_file_verifies(bundled):
    assert models.checked_model_file("m.bin") == bundled
    assert models.is_model_available("m.bin")


def test_explicit_beats_env_beats_bundled(bundled, tmp_path, monkeypatch):
    env_file = tmp_path / "env.bin"
    env_file.write_bytes(b"env")
    explicit = tmp_path / "explicit.bin"
    explicit.write_bytes(b"explicit")
    monkeypatch.setenv("MY_MODEL", str(env_file))
    assert models.resolve_model_file("m.bin", env_var="MY_MODEL") == env_file
    assert models.resolve_model_file("m.bin", explicit=explicit, env_var="MY_MODEL") == explicit
    monkeypatch.delenv("MY_MODEL")
    assert models.resolve_model_file("m.bin", env_var="MY_MODEL") == bundled


def test_missing_file_lists_what_was_tried(bundled):
    with pytest.raises(ModelFileError) as info:
        models.resolve_model_file("absent.onnx", env_var="SKYSEG_TEST_UNSET_VAR")
    assert "absent.onnx" in str(info.value) and "git checkout" in str(info.value)
    assert any("SKYSEG_TEST_UNSET_VAR" in t for t in info.value.tried)
    with pytest.raises(ModelFileError):
        models.resolve_model_file("m.bin", explicit=bundled.parent / "nope.bin")


def test_damaged_file_is_refused_with_restore_hint(bundled):
    bundled.write_bytes(b"weightz")
    with pytest.raises(ModelFileError) as info:
        models.checked_model_file("m.bin")
    assert "SHA-256" in str(info.value) and "git checkout -- assets/models/m.bin" in str(info.value)
    assert not models.is_model_available("m.bin")


def test_verify_sha256_direct(tmp_path):
    f = tmp_path / "x"
    f.write_bytes(b"abc")
    digest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert models.verify_sha256(f, digest.upper()) == f
    with pytest.raises(ModelFileError):
        models.verify_sha256(f, "0" * 64)


def test_bundled_file_without_sidecar_is_refused(bundled):
    models.sidecar_path(bundled).unlink()
    with pytest.raises(ModelFileError, match="no recorded SHA-256"):
        models.checked_model_file("m.bin")


def test_explicit_file_without_sidecar_is_trusted(tmp_path):
    own = tmp_path / "own.onnx"
    own.write_bytes(b"mine")
    assert models.checked_model_file("classifier.onnx", explicit=own) == own
    assert (
        models.checked_model_file(
            "classifier.onnx", explicit=own, expected_sha256=models.sha256_of(own)
        )
        == own
    )


def test_malformed_sidecar(bundled):
    models.sidecar_path(bundled).write_text("garbage\n")
    with pytest.raises(ModelFileError, match="malformed"):
        models.checked_model_file("m.bin")


def test_auto_is_an_error_not_a_fallback_when_a_named_folder_is_empty(tmp_path, monkeypatch):
    """``auto`` raises the model error (no quiet fallback to a classical method); listing still works."""
    from skyseg_core.methods import list_methods, resolve_name

    monkeypatch.setenv(models.MODELS_DIR_ENV, str(tmp_path))
    with pytest.raises(ModelFileError, match="is empty") as info:
        resolve_name("auto")
    assert str(tmp_path) in str(info.value)
    assert "now unusable" in dict(list_methods())["auto"]


def test_absent_files_are_skipped_quietly_damaged_ones_are_reported(bundled):
    with models.collect_model_problems() as problems:
        assert not models.is_model_available("absent.onnx")
    assert problems == []
    bundled.write_bytes(b"weightz")
    with models.collect_model_problems() as problems:
        assert not models.is_model_available("m.bin")
    assert len(problems) == 1 and "SHA-256" in str(problems[0])


def test_an_onnx_file_that_does_not_load_names_the_model_and_the_file(tmp_path):
    """The classifier's, the U-Net's and the ADE20K method's sessions come from
    models.onnx_session: a file ONNX Runtime cannot load is a ModelFileError that says which
    model and which file, on one line."""
    from skyseg_core.methods.ade20k import OnnxBackend
    from skyseg_core.methods.classifier import _OnnxModel
    from skyseg_core.methods.unet import _UnetSession

    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an ONNX model")
    for load, what in (
        (_OnnxModel, "classifier model"),
        (_UnetSession, "sky U-Net model"),
        (OnnxBackend, "ADE20K ONNX model"),
    ):
        with pytest.raises(ModelFileError, match=f"cannot load the {what} \\(") as info:
            load(broken)
        assert str(broken) in str(info.value) and "\n" not in str(info.value)
