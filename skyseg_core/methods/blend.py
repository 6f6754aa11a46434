"""``blend``: the mean of the trained U-Net's and the pixel classifier's sky probabilities.

The two fail differently: the U-Net, trained from scratch on a small set, judges sky by place and
shape but misreads unfamiliar scenes (indoor rooms, fisheye frames); the classifier judges each
pixel by colour and texture and misreads bright walls and water. Their mean is an equal-weight
average, not tuned on any split.

Failure modes: where both members are wrong together (night skies, haze, snow under a white
sky) the blend is too; where one is confidently wrong the blend sits near 0.5 and the
refinement decides from the photo's edges, which can go either way; it costs both members'
run time.
"""

from __future__ import annotations

import numpy as np

from ..matte import resize_matte
from . import _REGISTRY, get_method, register
from ._base import SkyMethod

MEMBERS = ("unet", "classifier")


@register
class BlendMethod(SkyMethod):
    """Equal-weight mean of the ``unet`` and ``classifier`` probabilities (see the module docstring).

    Parameters
    ----------
    members : list of SkyMethod, optional
        Other method instances to average instead (to compare model files, for example);
        default: the registered ``unet`` and ``classifier``.
    """

    name = "blend"
    description = "mean of the unet and classifier sky probabilities"
    working_size = 512

    @classmethod
    def available(cls) -> bool:
        return all(member in _REGISTRY and _REGISTRY[member].available() for member in MEMBERS)

    def __init__(self, members: list[SkyMethod] | None = None):
        self.members = members

    def predict(self, image: np.ndarray) -> np.ndarray:
        shape = image.shape[:2]
        members = self.members or [get_method(member) for member in MEMBERS]
        mattes = [resize_matte(member.coarse(image), shape) for member in members]
        return np.mean(mattes, axis=0).astype(np.float32)
