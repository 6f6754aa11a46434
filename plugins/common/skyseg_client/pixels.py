"""Pixels between a host and the worker: binary Netpbm (PPM colour, PGM grey), 8 or 16 bits,
uncompressed (nothing to wait for), read and written with the standard library alone."""

from __future__ import annotations

import array
import sys

from .errors import WorkerError


def _big_endian_words(data: bytes) -> bytes:
    """16-bit samples between this machine's order and Netpbm's big-endian one (both ways)."""
    if sys.byteorder == "big":
        return bytes(data)
    words = array.array("H", data)
    words.byteswap()
    return words.tobytes()


def write_netpbm(
    path: str, width: int, height: int, channels: int, data: bytes, sixteen: bool = False
) -> None:
    """Write raw samples as binary PPM (3 channels) or PGM (1): no compression to wait for.

    ``data``: ``height`` rows of ``width`` pixels of ``channels`` samples, one byte each, or
    native-order 16-bit words with ``sixteen`` (what the hosts' pixel APIs hand out).
    """
    if channels not in (1, 3):
        raise ValueError(f"Netpbm holds 1 or 3 channels, not {channels}")
    size = width * height * channels * (2 if sixteen else 1)
    if len(data) != size:
        raise ValueError(
            f"{len(data)} bytes of pixels for a {width}x{height}x{channels} image, expected {size}"
        )
    header = b"P%d\n%d %d\n%d\n" % (
        6 if channels == 3 else 5,
        width,
        height,
        65535 if sixteen else 255,
    )
    with open(path, "wb") as fh:
        fh.write(header)
        fh.write(_big_endian_words(data) if sixteen else data)


def read_netpbm(path: str) -> tuple:
    """A binary PPM or PGM as ``(width, height, channels, sixteen, data)``; 16-bit samples come
    back as native-order words. Raises :class:`WorkerError` for anything else."""
    with open(path, "rb") as fh:
        blob = fh.read()
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:  # magic, width, height, maxval; "#" comments between them
        while pos < len(blob) and blob[pos : pos + 1].isspace():
            pos += 1
        if blob[pos : pos + 1] == b"#":
            pos = blob.find(b"\n", pos) + 1 or len(blob)
            continue
        end = pos
        while end < len(blob) and not blob[end : end + 1].isspace():
            end += 1
        if end == pos:
            break
        fields.append(blob[pos:end])
        pos = end
    try:
        magic, width, height, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    except (IndexError, ValueError):
        raise WorkerError(f"the worker's output {path} is not a PPM/PGM file") from None
    if magic not in (b"P5", b"P6") or maxval not in (255, 65535):
        raise WorkerError(f"the worker's output {path} is not an 8- or 16-bit binary PPM/PGM file")
    channels, sixteen = (3 if magic == b"P6" else 1), maxval == 65535
    data = blob[pos + 1 :]
    if len(data) != width * height * channels * (2 if sixteen else 1):
        raise WorkerError(f"the worker's output {path} is truncated")
    return width, height, channels, sixteen, (_big_endian_words(data) if sixteen else data)


_SURE_SKY = bytes(1 if value >= 128 else 0 for value in range(256))

MIN_SKY_SHARE = 0.002
"""The share of the frame below which there is no sky, when the schema does not say
(``schema["min_sky_share"]``: the core's ``MIN_SKY_SHARE``, the effects' own threshold)."""


def require_sky(grey: bytes, layer: str, action: str, schema: dict | None = None) -> None:
    """Raise :class:`WorkerError` when too little of a matte (one byte per pixel, 255 = sky) is
    sure sky (at least 128), with the words the effects use ("no sky found in layer 'photo'
    (... of the frame is sky, less than ...); no sky mask added")."""
    least = (schema or {}).get("min_sky_share", MIN_SKY_SHARE)
    share = grey.translate(_SURE_SKY).count(1) / max(len(grey), 1)
    if share < least:
        raise WorkerError(
            f"no sky found in layer {layer!r} ({share:.2%} of the frame is sky, less than "
            f"{least:.1%}); {action}"
        )


ORIGINAL_LAYER = "original photo"
"""The name of the bottom layer of every layer stack the core writes (the photo as it was): a
layer group whose bottom layer has this name is a skyseg result, and its source."""


def read_layers(path: str) -> tuple:
    """The worker's layer stack (``.layers``: one JSON line, then raw samples; see
    ``skyseg_core.layered.write_plugin_layers``) as ``(width, height, layers)``, bottom to top.

    Each layer is the line's dict plus ``rgb`` (R, G, B samples) and ``alpha`` (one sample a
    pixel, or None), 16-bit samples as native-order words. Raises :class:`WorkerError` for a
    file that does not hold what its line says.
    """
    import json

    with open(path, "rb") as fh:
        blob = fh.read()
    end = blob.find(b"\n")
    try:
        head = json.loads(blob[:end])
        width, height = (int(v) for v in head["size"])
        layers = list(head["layers"])
    except (ValueError, KeyError, TypeError):
        raise WorkerError(f"the worker's layers {path} are not a layer stack") from None
    pos = end + 1
    for layer in layers:
        sample = 2 if layer.get("sixteen") else 1
        planes = []
        for channels in (3, 1) if layer.get("mask") else (3,):
            size = width * height * channels * sample
            data = blob[pos : pos + size]
            if len(data) != size:
                raise WorkerError(f"the worker's layers {path} are truncated")
            planes.append(_big_endian_words(data) if sample == 2 else data)
            pos += size
        layer["rgb"], layer["alpha"] = planes[0], (planes[1] if len(planes) > 1 else None)
    return width, height, layers
