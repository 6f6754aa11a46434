"""Sky effects on a 12 MP photo (4000 x 3000), matte excluded (it is computed in set-up).

Target (issue 4): ``replace_sky`` with all controls on <= 0.5 s on the project machine.

    python -m benchmarks.run --filter effects      # through the harness (child process per case)
    python -m benchmarks.bench_effects             # the same cases, run on their own
"""

from __future__ import annotations

import sys

from .harness import case, coarse_matte, photo

ALL_CONTROLS = dict(
    shift_edge=0.3,
    fade_edge=0.4,
    sky_brightness=0.3,
    sky_temperature=20.0,
    lighting=0.6,
    color_match=0.7,
    halo=0.6,
    defocus=1.0,
    flip=True,
    position=(0.4, 0.5),
    scale=1.1,
)
"""Every control of :func:`skyseg_core.effects.replace_sky` switched on."""


def _inputs(dtype: str = "uint8"):
    from skyseg_core.refine import refine
    from skyseg_core.skygen import load_sky

    image = photo(dtype=dtype)
    matte = refine(image, coarse_matte())
    return image, matte, load_sky("golden_hour")


@case("effects: replace_sky, 12 MP, defaults (lighting, colour match, halo on)")
def replace_defaults():
    from skyseg_core.effects import replace_sky

    image, matte, sky = _inputs()
    return lambda: replace_sky(image, matte, sky)


@case("effects: replace_sky, 12 MP, look plain (the new sky only)")
def replace_plain():
    from skyseg_core.effects import replace_preset, replace_sky

    image, matte, sky = _inputs()
    return lambda: replace_sky(image, matte, sky, replace_preset("plain"))


@case("effects: replace_sky, 12 MP, all controls on")
def replace_all():
    from skyseg_core.effects import replace_sky

    image, matte, sky = _inputs()
    return lambda: replace_sky(image, matte, sky, **ALL_CONTROLS)


@case("effects: replace_sky, 12 MP 16-bit, all controls on")
def replace_all_16bit():
    from skyseg_core.effects import replace_sky

    image, matte, sky = _inputs("uint16")
    return lambda: replace_sky(image, matte, sky, **ALL_CONTROLS)


@case("effects: tint_sky soft light, 12 MP")
def tint_12mp():
    from skyseg_core.effects import tint_sky

    image, matte, _ = _inputs()
    return lambda: tint_sky(image, matte)


@case("effects: relight to a sunset sky, 12 MP")
def relight_12mp():
    from skyseg_core.effects import relight
    from skyseg_core.skygen import load_sky

    image, matte, _ = _inputs()
    target = load_sky("sunset")
    return lambda: relight(image, matte, target)


@case(
    "effects: 12 MP sRGB image into Adobe RGB (to_profile: what a sky costs in a photo with a profile)"
)
def to_adobe_rgb_12mp():
    from pathlib import Path

    from skyseg_core.metadata import to_profile

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from iccmake import ADOBE_RGB  # a real matrix/TRC profile, written from the published primaries

    image = photo()
    return lambda: to_profile(image, ADOBE_RGB)


if __name__ == "__main__":  # the harness, limited to these cases (ids must name this module)
    import subprocess

    sys.exit(
        subprocess.call(
            [
                sys.executable,
                "-m",
                "benchmarks.run",
                "--filter",
                "effects:",
                "--no-write",
                *sys.argv[1:],
            ]
        )
    )
