"""darktable 5.4 XMP sidecars for tests/test_hosts_darktable.py: a history that reads a raster
mask with the "external raster masks" module (``rasterfile``) and applies an exposure change
through it.

The parameter blobs follow darktable's own structures (little-endian, as darktable writes them
on x86-64), from darktable 5.4's sources:

- ``rasterfile`` (src/iop/rasterfile.c, module version 1): ``int mode`` (7: all RGB channels),
  ``char path[2048]``, ``char file[2048]``; the file read is ``path/file``.
- ``exposure`` (src/iop/exposure.c, version 6): ``int mode`` (0: manual), ``float black``,
  ``float exposure`` (EV), ``float deflicker_percentile``, ``float deflicker_target_level``,
  ``gboolean compensate_exposure_bias``.
- blend parameters (src/develop/blend.h, ``DEVELOP_BLEND_VERSION`` 14, 420 bytes):
  ``mask_mode`` (1 enabled | 8 raster), ``blend_cst`` (4: scene-referred RGB), ``blend_mode``
  (0x18: normal), ``blend_parameter``, ``opacity`` (percent), ``mask_combine``, ``mask_id``,
  ``blendif``, ``feathering_radius``, ``feathering_guide``, ``blur_radius``, ``contrast``,
  ``brightness``, ``details``, ``feather_version``, ``reserved[2]``, ``blendif_parameters[64]``,
  ``blendif_boost_factors[16]``, ``raster_mask_source[20]`` (the source module's name),
  ``raster_mask_instance``, ``raster_mask_id`` (0: the module's own raster), ``raster_mask_invert``.
"""

from __future__ import annotations

import struct
from xml.sax.saxutils import quoteattr

BLEND_VERSION = 14
_BLEND = struct.Struct("<IiIffIiIfIffffI2I64f16f20siii")
assert _BLEND.size == 420


def rasterfile_params(folder: str, name: str, mode: int = 7) -> bytes:
    path, file = folder.encode(), name.encode()
    assert len(path) < 2048 and len(file) < 2048
    return struct.pack("<i2048s2048s", mode, path, file)


def exposure_params(ev: float) -> bytes:
    return struct.pack("<iffffi", 0, 0.0, ev, 50.0, -4.0, 0)


def blend_params(raster_source: str = "", invert: bool = False) -> bytes:
    """Blending with no mask (``raster_source`` empty), or through the raster mask of the
    module named ``raster_source`` (instance 0)."""
    mask_mode = (1 | 8) if raster_source else 0
    blendif = [v for _ in range(16) for v in (0.0, 0.0, 1.0, 1.0)]
    return _BLEND.pack(
        mask_mode,
        4,  # DEVELOP_BLEND_CS_RGB_SCENE
        0x18,  # DEVELOP_BLEND_NORMAL2
        0.0,
        100.0,
        0,  # DEVELOP_COMBINE_NORM_EXCL
        0,
        0,
        0.0,
        5,  # DEVELOP_MASK_GUIDE_IN_AFTER_BLUR
        0.0,
        0.0,
        0.0,
        0.0,
        1,
        0,
        0,
        *blendif,
        *([0.0] * 16),
        raster_source.encode(),
        0,
        0,
        int(invert),
    )


def history_item(num: int, operation: str, version: int, params: bytes, blend: bytes) -> str:
    attrs = {
        "darktable:num": str(num),
        "darktable:operation": operation,
        "darktable:enabled": "1",
        "darktable:modversion": str(version),
        "darktable:params": params.hex(),
        "darktable:multi_name": "",
        "darktable:multi_name_hand_edited": "0",
        "darktable:multi_priority": "0",
        "darktable:blendop_version": str(BLEND_VERSION),
        "darktable:blendop_params": blend.hex(),
    }
    body = "\n".join(f"       {k}={quoteattr(v)}" for k, v in attrs.items())
    return f"     <rdf:li\n{body}/>"


def xmp(items: list[str]) -> str:
    """A sidecar whose history is ``items`` (auto-applied presets marked as done, so the
    history is exactly these on top of darktable's always-on modules)."""
    history = "\n".join(items)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:darktable="http://darktable.sf.net/"
   darktable:xmp_version="5"
   darktable:raw_params="0"
   darktable:auto_presets_applied="1"
   darktable:iop_order_version="4"
   darktable:history_end="{len(items)}">
   <darktable:history>
    <rdf:Seq>
{history}
    </rdf:Seq>
   </darktable:history>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


def sky_exposure_xmp(masks_folder: str, mask_name: str, ev: float, masked: bool = True) -> str:
    """rasterfile reading ``masks_folder/mask_name``, then exposure +``ev`` through its raster
    mask (``masked``), or over the whole picture."""
    return xmp(
        [
            history_item(
                0, "rasterfile", 1, rasterfile_params(masks_folder, mask_name), blend_params()
            ),
            history_item(
                1,
                "exposure",
                6,
                exposure_params(ev),
                blend_params("rasterfile" if masked else ""),
            ),
        ]
    )
