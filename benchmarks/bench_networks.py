"""Sky U-Net (``unet``, the default method): full-resolution soft matte of the 12 MP photo.

Target (issue 3): model + refinement <= 250 ms on the 2-core machine. Cases: the whole path
(`segment(photo, "unet")`: shrink, network, refinement to 4000x3000), the network alone at its
working size, and the path without refinement (bilinear upsampling only). Skipped when the
model file is not present.
"""

from __future__ import annotations

from .harness import case, photo


def _method():
    from skyseg_core.methods import get_method

    return get_method("unet")


def _available() -> bool:
    from skyseg_core.methods.unet import UnetMethod

    return UnetMethod.available()


if _available():

    @case("unet + refine: 12 MP soft matte (segment)")
    def unet_segment_12mp():
        from skyseg_core import segment

        image = photo()
        _method()  # load the session outside the timing
        return lambda: segment(image, method="unet")

    @case("unet, no refine: 12 MP matte (bilinear upsampling)")
    def unet_raw_12mp():
        image, method = photo(), _method()
        return lambda: method(image)

    @case("unet network alone at its working size")
    def unet_network_only():
        from skyseg_core.matte import to_float_rgb
        from skyseg_core.methods._base import resize_long_side

        method = _method()
        small = resize_long_side(to_float_rgb(photo()), method.working_size)
        return lambda: method.predict(small)
