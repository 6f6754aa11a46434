"""``deeplab``: the default sky network, TF DeepLab's DeepLabV3+ MobileNetV2 fine-tuned for sky.

Trained by ``skyseg train --config configs/sky_deeplab.toml`` from the published ADE20K
network (its 151-way head replaced by one sky logit that starts at the zero-shot answer; see
``assets/models/sky_deeplab.md``), exported with ``skyseg export`` in the same self-describing
format as the ``unet`` method's model, and run the same way: the photo is shrunk to the
recorded working size, padded to the recorded divisor, run with ONNX Runtime, cropped back;
the sigmoid probability is returned as is, for refinement to shape.

Failure modes
-------------
- Trained on about 1,300 research photos (ADE20K, Stanford Background, CamVid dashcam frames,
  SkyFinder webcams, upward fisheye shots) after ADE20K's 20,000; aerial views, underwater
  scenes, paintings and heavy graphics are outside what it has seen.
- Works at 320 px on the longer side: wires and thin bare branches are finer than that;
  refinement brings part of them back.
- Sky seen through a window or reflected in water or glass is partly sky to it.
"""

from __future__ import annotations

from . import register
from .unet import UnetMethod

MODEL_NAME = "sky_deeplab.onnx"
MODEL_ENV = "SKYSEG_DEEPLAB_MODEL"


@register
class DeepLabMethod(UnetMethod):
    """The fine-tuned sky DeepLab (ONNX); what ``auto`` runs when its model file is present.

    Parameters are those of :class:`~skyseg_core.methods.unet.UnetMethod`; ``model_path``
    defaults to ``$SKYSEG_DEEPLAB_MODEL``, else ``assets/models/sky_deeplab.onnx``.
    """

    name = "deeplab"
    description = "sky DeepLabV3+ (MobileNetV2, from TF DeepLab's ADE20K model) fine-tuned on the shared sky data, ONNX Runtime"
    model_name = MODEL_NAME
    model_env = MODEL_ENV
    detail_stage = True
