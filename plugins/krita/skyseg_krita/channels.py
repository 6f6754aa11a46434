"""Krita's pixel bytes and the worker's: B, G, R, A (8-bit bytes or 16-bit words, as Krita's
``pixelData`` hands them out) to and from the R, G, B samples of the worker's Netpbm files and
the R, G, B, A of its RGBA PNG (read by Qt), with byte slices (no numpy in Krita's Python)."""

import sys

import skyseg_client

from .logic import INVERT, PluginError
from .qt import QtGui


def bgra_to_rgb(data, sample=1):
    """B, G, R, A pixels as R, G, B (alpha dropped); ``sample``: bytes a sample (2: 16-bit words,
    moved whole, so their byte order is kept)."""
    rgb = bytearray(len(data) // 4 * 3)
    for channel, source in enumerate((2, 1, 0)):
        for byte in range(sample):  # byte slices: faster than array("H") ones
            rgb[channel * sample + byte :: 3 * sample] = data[source * sample + byte :: 4 * sample]
    return rgb


def rgb_to_bgra(data, sample=1):
    """R, G, B pixels as opaque B, G, R, A (``sample`` as for :func:`bgra_to_rgb`)."""
    bgra = bytearray(b"\xff") * (len(data) // 3 * 4)
    for channel, source in enumerate((2, 1, 0)):
        for byte in range(sample):
            bgra[channel * sample + byte :: 4 * sample] = data[source * sample + byte :: 3 * sample]
    return bytes(bgra)


def read_netpbm(path, width, height, channels, sixteen):
    """The samples of the worker's PPM/PGM output, checked against what was asked for."""
    got_width, got_height, got_channels, got_sixteen, data = skyseg_client.read_netpbm(path)
    if (got_width, got_height, got_channels, got_sixteen) != (width, height, channels, sixteen):
        got = f"{got_width}x{got_height}x{got_channels} at {16 if got_sixteen else 8} bits"
        raise PluginError(
            f"the worker's output is {got}, expected {width}x{height}x{channels} at "
            f"{16 if sixteen else 8} bits"
        )
    return data


def resample(data, sixteen):
    """Samples from 16 to 8 bits (``sixteen``: the high byte of each native word) or 8 to 16."""
    if sixteen:
        return data[1::2] if sys.byteorder == "little" else data[0::2]
    out = bytearray(len(data) * 2)
    out[0::2], out[1::2] = data, data  # v * 257
    return bytes(out)


def rgba_to_bgra(data, sample=1):
    """R, G, B, A pixels as B, G, R, A (``sample`` as for :func:`bgra_to_rgb`)."""
    bgra = bytearray(data)
    for channel, source in ((0, 2), (2, 0)):
        for byte in range(sample):
            bgra[channel * sample + byte :: 4 * sample] = data[source * sample + byte :: 4 * sample]
    return bytes(bgra)


def read_rgba(path, width, height, sixteen):
    """The worker's RGBA picture (an RGBA step's PNG: sRGB-encoded) as (B, G, R, A: 16-bit
    words when ``sixteen``, its alpha one byte a pixel). Qt's loader reads it (Krita's Python
    has no PNG decoder), not premultiplied, so colours under a soft edge stay as written."""
    image = QtGui.QImage(path)
    if image.isNull():
        raise PluginError(f"could not read the worker's picture {path}")
    if (image.width(), image.height()) != (width, height):
        raise PluginError(
            f"the worker's picture is {image.width()}x{image.height()}, expected {width}x{height}"
        )
    name = "Format_RGBA64" if sixteen else "Format_RGBA8888"
    kind = getattr(QtGui.QImage, name, None) or getattr(QtGui.QImage.Format, name)
    image = image.convertToFormat(kind)
    sample = 2 if sixteen else 1
    row = width * 4 * sample
    bits = image.constBits()
    bits.setsize(image.sizeInBytes())
    raw, stride = bytes(bits), image.bytesPerLine()
    if stride != row:  # rows padded to a word boundary
        raw = b"".join(raw[y * stride : y * stride + row] for y in range(height))
    bgra = rgba_to_bgra(raw[: row * height], sample)
    alpha = bytearray(len(bgra) // 4)
    for byte in range(sample):
        alpha[byte::sample] = bgra[3 * sample + byte :: 4 * sample]
    return bgra, resample(bytes(alpha), True) if sixteen else bytes(alpha)


__all__ = [
    "INVERT",
    "bgra_to_rgb",
    "read_netpbm",
    "read_rgba",
    "resample",
    "rgb_to_bgra",
    "rgba_to_bgra",
]
