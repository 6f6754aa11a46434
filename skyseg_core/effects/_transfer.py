"""HDR clips: SDR colours (sRGB, BT.709) put into a PQ or HLG clip's own signal.

A clip tagged PQ (SMPTE ST 2084) or HLG (ARIB STD-B67), usually with BT.2020 primaries, is
edited in its own code values (R'G'B', the clip's matrix undone). A new sky (an sRGB photo) and
a colour an effect puts in are brought into that signal before anything is mixed: sRGB decoded
to linear light, BT.709 -> BT.2020 primaries (when the clip is tagged BT.2020), SDR white placed
at 203 cd/m2 (ITU-R BT.2408's reference white), then PQ's inverse EOTF, or for HLG the inverse
OOTF of a 1000 cd/m2 display and the OETF (ITU-R BT.2100), which puts that white at 75 % HLG
signal as BT.2408 has it. The other way, :meth:`Signal.sdr_view` shows a frame as the 8-bit
sRGB picture the methods find the sky in (they learned SDR photos).

Why the sky is converted rather than the frames composited in linear light: every effect
(relight, colour match, haze, edge clean-up) works on a frame's codes as on a photo's, and a
photo in another colour space already gets its sky converted into its profile the same way
(:func:`skyseg_core.pipeline.skies_in_profile`). One conversion per sky (cached) leaves the
effects and the SDR path untouched; linear-light compositing would decode and re-encode every
frame (0 to 10,000 cd/m2) and need every effect to learn HDR. What stays approximate: the soft
edge between sky and foreground is mixed in the effects' sRGB-decoded code values, not in true
linear light, and nothing is tone mapped.
"""

from __future__ import annotations

import functools
from contextvars import ContextVar
from dataclasses import dataclass

import cv2
import numpy as np

from ..depth import to_float, white
from ._color import from_linear, linear_to_srgb_formula, srgb_to_linear_formula

TRC_PQ = 16
"""FFmpeg's AVColorTransferCharacteristic of SMPTE ST 2084 (PQ)."""

TRC_HLG = 18
"""FFmpeg's AVColorTransferCharacteristic of ARIB STD-B67 (HLG)."""

PRIMARIES_BT2020 = 9
"""FFmpeg's AVColorPrimaries of BT.2020 / BT.2100."""

REFERENCE_WHITE = 203.0
"""cd/m2 of SDR white (and HDR graphics white) in an HDR signal, ITU-R BT.2408."""

HLG_DISPLAY_PEAK = 1000.0
"""cd/m2 of the HLG reference display whose OOTF (system gamma 1.2) maps display to scene light."""

BT709_TO_BT2020 = np.array(
    [
        [0.6274038959, 0.3292830384, 0.0433130657],
        [0.0690972894, 0.9195403951, 0.0113623156],
        [0.0163914389, 0.0880133079, 0.8955952532],
    ]
)
"""Linear BT.709 RGB -> linear BT.2020 RGB (ITU-R BT.2087; same white, no adaptation)."""

BT2020_TO_BT709 = np.linalg.inv(BT709_TO_BT2020)
_LUMA = {True: np.array([0.2627, 0.6780, 0.0593]), False: np.array([0.2126, 0.7152, 0.0722])}
"""Luminance weights of linear RGB, BT.2020 (True) and BT.709 primaries."""

# SMPTE ST 2084
_M1, _M2 = 2610 / 16384, 2523 / 4096 * 128
_C1, _C2, _C3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
# ITU-R BT.2100 HLG OETF
_A = 0.17883277
_B = 1.0 - 4.0 * _A
_C = 0.5 - _A * np.log(4.0 * _A)

CHUNK_ROWS = 256
"""Rows of a sky converted at a time (float temporaries of a large sky stay small)."""


def pq_inverse_eotf(luminance: np.ndarray) -> np.ndarray:
    """PQ signal in [0, 1] of display light in cd/m2 (SMPTE ST 2084, 0 to 10,000)."""
    y = np.clip(np.asarray(luminance, np.float64) / 10000.0, 0.0, 1.0) ** _M1
    return ((_C1 + _C2 * y) / (1.0 + _C3 * y)) ** _M2


def hlg_oetf(scene: np.ndarray) -> np.ndarray:
    """HLG signal in [0, 1] of relative scene light in [0, 1] (ITU-R BT.2100)."""
    e = np.clip(np.asarray(scene, np.float64), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log = _A * np.log(np.maximum(12.0 * e - _B, 1e-12)) + _C
    return np.where(e <= 1.0 / 12.0, np.sqrt(3.0 * e), log)


def hlg_inverse_ootf(display: np.ndarray, bt2020: bool = True) -> np.ndarray:
    """Relative scene light of display light (cd/m2, RGB in the last axis) on the HLG reference
    display of :data:`HLG_DISPLAY_PEAK` (ITU-R BT.2100: gamma 1.2, black 0)."""
    gamma = 1.2
    rgb = np.asarray(display, np.float64) / HLG_DISPLAY_PEAK
    y = rgb @ _LUMA[bt2020]
    with np.errstate(divide="ignore"):
        scale = np.where(y > 0, np.abs(y) ** ((1.0 - gamma) / gamma), 0.0)
    return rgb * scale[..., None]


def pq_eotf(signal: np.ndarray) -> np.ndarray:
    """Display light in cd/m2 of a PQ signal in [0, 1] (SMPTE ST 2084)."""
    p = np.clip(np.asarray(signal, np.float64), 0.0, 1.0) ** (1.0 / _M2)
    return 10000.0 * (np.maximum(p - _C1, 0.0) / (_C2 - _C3 * p)) ** (1.0 / _M1)


def hlg_inverse_oetf(signal: np.ndarray) -> np.ndarray:
    """Relative scene light in [0, 1] of an HLG signal in [0, 1] (ITU-R BT.2100)."""
    e = np.clip(np.asarray(signal, np.float64), 0.0, 1.0)
    return np.where(e <= 0.5, e * e / 3.0, (np.exp((e - _C) / _A) + _B) / 12.0)


@functools.lru_cache(maxsize=4)
def _decode_table(transfer: str, dtype_name: str) -> np.ndarray:
    """Every code of ``dtype_name`` as PQ display light over reference white, or as HLG scene
    light (float32)."""
    codes = np.arange(int(white(dtype_name)) + 1) / white(dtype_name)
    if transfer == "pq":
        return (pq_eotf(codes) / REFERENCE_WHITE).astype(np.float32)
    return hlg_inverse_oetf(codes).astype(np.float32)


@dataclass(frozen=True)
class Signal:
    """An HDR clip's signal: its transfer (``"pq"`` or ``"hlg"``) and whether its primaries are
    BT.2020."""

    transfer: str
    bt2020: bool

    def from_sdr(self, srgb: np.ndarray) -> np.ndarray:
        """Float sRGB values in [0, 1] (..., 3) as this signal's R'G'B' in [0, 1] (float64)."""
        linear = srgb_to_linear_formula(srgb).astype(np.float64)
        if self.bt2020:
            linear = np.clip(linear @ BT709_TO_BT2020.T, 0.0, None)
        display = linear * REFERENCE_WHITE
        if self.transfer == "pq":
            return pq_inverse_eotf(display)
        return hlg_oetf(hlg_inverse_ootf(display, self.bt2020))

    def sky(self, sky: np.ndarray) -> np.ndarray:
        """An sRGB sky (uint8 or uint16 codes, or float in [0, 1]) as 16-bit codes of this
        signal, the depth an HDR clip's frames are read at."""
        out = np.empty(sky.shape, np.uint16)
        for r0 in range(0, sky.shape[0], CHUNK_ROWS):
            signal = self.from_sdr(to_float(sky[r0 : r0 + CHUNK_ROWS]))
            out[r0 : r0 + CHUNK_ROWS] = np.round(signal * 65535.0)
        return out

    def sdr_view(self, frame: np.ndarray) -> np.ndarray:
        """A frame of this signal (uint8 or uint16 codes (H, W, 3)) as an 8-bit sRGB picture to
        find its sky in (the networks learned sRGB photos): reference white at SDR white, BT.709
        primaries, anything brighter clipped to white (a view for the matte, not a tone map)."""
        linear = np.take(_decode_table(self.transfer, frame.dtype.name), frame)
        if self.transfer == "hlg":  # the reference display's OOTF: scene -> display light
            y = linear @ _LUMA[self.bt2020].astype(np.float32)
            scale = cv2.pow(np.maximum(y, 0.0), 0.2) * np.float32(
                HLG_DISPLAY_PEAK / REFERENCE_WHITE
            )
            linear *= scale[..., None]
        if self.bt2020:
            linear = cv2.transform(linear, BT2020_TO_BT709.astype(np.float32))
        return from_linear(linear, np.uint8)

    def linear_colour(self, linear: np.ndarray) -> np.ndarray:
        """A linear BT.709 colour (an illuminant) as the effects see the clip's values: its
        signal, decoded as sRGB codes are (:func:`~._color.to_linear`)."""
        return srgb_to_linear_formula(self.from_sdr(linear_to_srgb_formula(linear)))


def clip_signal(colour: dict) -> Signal | None:
    """The :class:`Signal` of a clip's colour tags (:attr:`skyseg_core.video.VideoInfo.colour`),
    or None for an SDR clip (its values are used as they are)."""
    transfer = {TRC_PQ: "pq", TRC_HLG: "hlg"}.get(int(colour.get("color_trc", 0) or 0))
    if transfer is None:
        return None
    return Signal(transfer, int(colour.get("color_primaries", 0) or 0) == PRIMARIES_BT2020)


SIGNAL: ContextVar[Signal | None] = ContextVar("skyseg_signal", default=None)
"""Set while an HDR clip's frame is rendered (:class:`skyseg_core.clips.FrameRenderer`): the
colours effects put in (a tint's gradient, relight's colour temperature) go into that signal."""


def colours_in_signal(srgb: np.ndarray) -> np.ndarray:
    """Float sRGB colours as the current clip's signal (:data:`SIGNAL`); unchanged outside an
    HDR clip."""
    signal = SIGNAL.get()
    return srgb if signal is None else signal.from_sdr(srgb).astype(np.float32)


def light_in_signal(linear: np.ndarray) -> np.ndarray:
    """A linear BT.709 light colour as the effects see the current clip's values; unchanged
    outside an HDR clip."""
    signal = SIGNAL.get()
    return linear if signal is None else signal.linear_colour(linear)


__all__ = [
    "REFERENCE_WHITE",
    "SIGNAL",
    "Signal",
    "clip_signal",
    "colours_in_signal",
    "hlg_inverse_oetf",
    "hlg_inverse_ootf",
    "hlg_oetf",
    "light_in_signal",
    "pq_eotf",
    "pq_inverse_eotf",
]
