"""The trained sky networks (``deeplab``, what ``auto`` runs; ``unet``; ``blend``): full-resolution
soft matte of the 12 MP photo.

Targets (issue 11): ``auto`` + refinement <= 250 ms on the 2-core machine and at most 0.7 x
``blend`` in the same run. Issue 23: ``auto`` with the detail stage <= 300 ms and <= 2 x the
path without it (``deeplab + refine, no detail stage``) in the same run; the detail stage's own
share is its case below. Cases per method: the whole path (``segment(photo, name)``: shrink,
network, refinement to 4000x3000), the network alone at its working size, and (for the
networks) the path without refinement (bilinear upsampling only). A method whose model file is
not present is left out.
"""

from __future__ import annotations

from .harness import case, photo

NETWORKS = ("deeplab", "unet")


def _available(name: str) -> bool:
    from skyseg_core.methods import _REGISTRY, _load_all

    _load_all()
    return name in _REGISTRY and _REGISTRY[name].available()


def _case(title: str, function_name: str):
    """:func:`case` for a set-up made in a loop: the id (``module:function``) must be unique."""

    def decorate(setup):
        setup.__name__ = setup.__qualname__ = function_name
        return case(title)(setup)

    return decorate


def _register(name: str, *, network: bool) -> None:
    @_case(f"{name} + refine: 12 MP soft matte (segment)", f"{name}_segment_12mp")
    def segment_12mp():
        from skyseg_core import segment
        from skyseg_core.methods import get_method

        image = photo()
        get_method(name)  # load the session outside the timing
        return lambda: segment(image, method=name)

    if not network:
        return

    @_case(f"{name} + refine, no detail stage: 12 MP soft matte", f"{name}_no_detail_12mp")
    def no_detail_12mp():
        from skyseg_core import segment
        from skyseg_core.methods import get_method

        image = photo()
        get_method(name)
        return lambda: segment(image, method=name, detail=False)

    @_case(f"{name}, no refine: 12 MP matte (bilinear upsampling)", f"{name}_raw_12mp")
    def raw_12mp():
        from skyseg_core.methods import get_method

        image, method = photo(), get_method(name)
        return lambda: method(image)

    @_case(f"{name} network alone at its working size", f"{name}_network_only")
    def network_only():
        from skyseg_core.matte import to_float_rgb
        from skyseg_core.methods import get_method
        from skyseg_core.methods._base import resize_long_side

        method = get_method(name)
        small = to_float_rgb(resize_long_side(photo(), method.working_size))
        return lambda: method.predict(small)


@case("detail stage alone (features + classifier at 640 px, from a 12 MP photo)")
def detail_stage_12mp():
    from skyseg_core.detail import detail_matte, shipped_detail_model
    from skyseg_core.methods import get_method

    image, model = photo(), shipped_detail_model()
    coarse = get_method("deeplab").coarse(image)
    return lambda: detail_matte(image, coarse, model)


for _name in NETWORKS:
    if _available(_name):
        _register(_name, network=True)
if _available("blend"):
    _register("blend", network=False)
