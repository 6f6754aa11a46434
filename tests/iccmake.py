"""Build real matrix/TRC ICC v2 profiles (Adobe RGB (1998), Display P3) for the metadata tests.

Pillow's ImageCms creates only sRGB, Lab and XYZ profiles and ships none, so the test photos'
profiles are written here from the published primaries, white point and tone curves, the way
any camera or editor writes them (colorants adapted to D50 with the Bradford matrix). LittleCMS
(through ImageCms) reads them, so the tests check skyseg against an independent colour engine.
"""

from __future__ import annotations

import struct

import numpy as np

D50 = (0.9642, 1.0, 0.8249)
BRADFORD = np.array(
    [[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]]
)


def _xyz(x: float, y: float) -> np.ndarray:
    return np.array([x / y, 1.0, (1 - x - y) / y])


def colorants(primaries, white) -> np.ndarray:
    """RGB -> XYZ (D50) matrix whose columns are the profile's rXYZ, gXYZ, bXYZ."""
    m = np.stack([_xyz(*p) for p in primaries], axis=1)
    w = _xyz(*white)
    m = m * np.linalg.solve(m, w)
    src, dst = BRADFORD @ w, BRADFORD @ np.array(D50)
    adapt = np.linalg.inv(BRADFORD) @ np.diag(dst / src) @ BRADFORD
    return adapt @ m


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz_tag(v) -> bytes:
    return b"XYZ \x00\x00\x00\x00" + b"".join(_s15(c) for c in v)


def _desc(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\x00"
    return (
        b"desc\x00\x00\x00\x00"
        + struct.pack(">I", len(ascii_))
        + ascii_
        + b"\x00" * 8
        + b"\x00\x00\x00"
        + b"\x00" * 67
    )


def make_profile(
    name: str,
    primaries,
    white=(0.3127, 0.3290),
    gamma: float | None = None,
    srgb_curve: bool = False,
) -> bytes:
    """An ICC v2 display profile: ``gamma`` (curv) or the sRGB piecewise curve (para type 3)."""
    m = colorants(primaries, white)
    if srgb_curve:
        params = (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)
        trc = b"para\x00\x00\x00\x00" + struct.pack(">HH", 3, 0) + b"".join(_s15(p) for p in params)
    else:
        trc = b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, round(gamma * 256)) + b"\x00\x00"
    tags = [
        (b"desc", _desc(name)),
        (b"cprt", b"text\x00\x00\x00\x00" + b"No copyright, test profile\x00"),
        (b"wtpt", _xyz_tag(D50)),
        (b"rXYZ", _xyz_tag(m[:, 0])),
        (b"gXYZ", _xyz_tag(m[:, 1])),
        (b"bXYZ", _xyz_tag(m[:, 2])),
        (b"rTRC", trc),
        (b"gTRC", trc),
        (b"bTRC", trc),
    ]
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    table, data = [struct.pack(">I", len(tags))], b""
    for sig, body in tags:
        body = body + b"\x00" * (-len(body) % 4)
        table.append(struct.pack(">4sII", sig, offset + len(data), len(body)))
        data += body
    size = 128 + table_size + len(data)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2024, 1, 1, 0, 0, 0)
        + b"acsp"
        + b"APPL"
        + b"\x00" * 4
        + b"\x00" * 8
        + b"\x00" * 8
        + struct.pack(">I", 0)
        + b"".join(_s15(c) for c in D50)
        + b"lcms"
        + b"\x00" * 44
    )
    assert len(header) == 128
    return header + b"".join(table) + data


ADOBE_RGB = make_profile(
    "Adobe RGB (1998)", ((0.64, 0.33), (0.21, 0.71), (0.15, 0.06)), gamma=563 / 256
)
DISPLAY_P3 = make_profile(
    "Display P3", ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060)), srgb_curve=True
)
