"""EXIF and XMP blocks made ready for an upright new image (orientation 1, no thumbnail, a
TIFF's layout tags left out), and the TIFF tag numbers they are read and written by.
"""

from __future__ import annotations

import re

_ORIENTATION = 0x0112


_EXIF_IFD, _GPS_IFD, _INTEROP_IFD = 0x8769, 0x8825, 0xA005


_XMP_TAG, _ICC_TAG, _IPTC_TAG, _PHOTOSHOP_TAG = 700, 34675, 33723, 34377


_TIFF_LAYOUT_TAGS = frozenset(
    {
        254,
        255,
        256,
        257,
        258,
        259,
        262,
        263,
        264,
        265,
        266,
        273,
        277,
        278,
        279,
        280,
        281,
        282,
        283,
        284,
        290,
        291,
        292,
        293,
        296,
        317,
        320,
        321,
        322,
        323,
        324,
        325,
        330,
        332,
        338,
        339,
        340,
        341,
        342,
        347,
        512,
        513,
        514,
        515,
        517,
        518,
        519,
        520,
        521,
        529,
        530,
        531,
        532,
        _XMP_TAG,
        _IPTC_TAG,
        _PHOTOSHOP_TAG,
        _ICC_TAG,
        37724,
        50838,
        50839,
    }
)
"""TIFF tags that describe a file's pixel storage (or carry XMP/ICC/Photoshop blocks, kept apart),
not the photo: left out when a TIFF's first directory becomes an EXIF block, and when an
EXIF block's first directory is merged into a new TIFF (whose encoder wrote its own)."""


def clean_exif(exif) -> bytes:
    """An EXIF block ready for an upright, new image: orientation 1, no thumbnail.

    ``exif`` is raw EXIF bytes (with or without the ``Exif\\0\\0`` header) or a Pillow
    ``Image.Exif``. Returns ``b""`` for an empty or unreadable block (a broken EXIF block
    costs the EXIF, never the photo).
    """
    from PIL import Image

    try:
        if not isinstance(exif, Image.Exif):
            if not exif:
                return b""
            loaded = Image.Exif()
            loaded.load(bytes(exif))
            exif = loaded
        for tag in (_EXIF_IFD, _GPS_IFD):
            if tag in exif:
                exif.get_ifd(tag)  # loaded, so tobytes() writes it
        if len(exif) == 0:
            return b""
        if _ORIENTATION in exif:
            exif[_ORIENTATION] = 1
        data = exif.tobytes()  # IFD0 with its Exif, GPS and Interop directories; no IFD1
    except Exception:  # a corrupt block: drop it, keep the photo
        return b""
    return data if data.startswith(b"Exif\x00\x00") else b"Exif\x00\x00" + data


_XMP_ORIENTATION = re.compile(rb"""(tiff:Orientation\s*(?:=\s*["']|>)\s*)[0-9]+""")
"""The orientation in an XMP packet, as an attribute or an element (Pillow applies it on load
when the EXIF block has none)."""


def upright_xmp(xmp: bytes) -> bytes:
    """An XMP packet ready for an upright image: every ``tiff:Orientation`` set to 1.

    As :func:`clean_exif` does for EXIF: skyseg stores pixels upright, so an orientation kept
    from the input would turn the output a second time when it is opened.
    """
    return _XMP_ORIENTATION.sub(rb"\g<1>1", xmp) if xmp else xmp


def _tiff_exif(img) -> bytes:
    """A TIFF's photo tags (first directory less its layout tags, with its Exif and GPS
    directories) as an EXIF block."""
    from PIL import Image

    source = img.getexif()
    exif = Image.Exif()
    for tag, value in source.items():
        if tag in _TIFF_LAYOUT_TAGS or tag in (_EXIF_IFD, _GPS_IFD):
            continue
        exif[tag] = value
    for tag in (_EXIF_IFD, _GPS_IFD):
        if tag in source:
            sub = source.get_ifd(tag)
            if sub:
                target = exif.get_ifd(tag)
                target.update(sub)
    return clean_exif(exif)
