"""Krita's pixel bytes and the worker's: B, G, R, A (8-bit bytes or 16-bit words, as Krita's
``pixelData`` hands them out) to and from the R, G, B samples of the worker's Netpbm files,
with byte slices (no numpy in Krita's Python)."""

import sys

import skyseg_client

from .logic import PluginError


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


INVERT = bytes(range(255, -1, -1))
"""A ``bytes.translate`` table: 255 - v."""
