"""Loss for soft or binary sky targets with an ignore mask: BCE + soft Dice (torch)."""

from __future__ import annotations


def masked_bce_dice(logits, target, valid, dice_weight: float = 1.0, eps: float = 1.0):
    """Binary cross-entropy plus soft Dice over the valid pixels only.

    Parameters
    ----------
    logits : Tensor (N, 1, H, W)
        Raw network output (sky logit).
    target : Tensor (N, 1, H, W), float in [0, 1]
        Sky probability: binary masks or soft mattes.
    valid : Tensor (N, 1, H, W), float 0/1
        0 where the truth says ignore (label 128); those pixels add nothing to loss or gradient.
    dice_weight : float
        Weight of the Dice term (0 gives plain masked BCE).
    eps : float
        Smoothing of the Dice ratio, so all-background images give a finite, small loss.
    """
    import torch
    import torch.nn.functional as F

    valid = valid.to(logits.dtype)
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    bce = (bce * valid).sum() / valid.sum().clamp_min(1.0)
    if not dice_weight:
        return bce
    prob = torch.sigmoid(logits) * valid
    t = target * valid
    dims = (1, 2, 3)
    inter = (prob * t).sum(dims)
    dice = 1 - (2 * inter + eps) / (prob.sum(dims) + t.sum(dims) + eps)
    return bce + dice_weight * dice.mean()
