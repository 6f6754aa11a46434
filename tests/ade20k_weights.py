"""CSAIL ADE20K checkpoints with random weights, for the ``ade20k`` tests (needs torch).

The checkpoints are written the way upstream's ``train.py`` writes them
(``torch.save(net.state_dict(), "encoder_epoch_20.pth")``), with random weights and BatchNorm
statistics, and the sky logit biased so the probability spans (0, 1) instead of sitting at 1/150.
They have the right form and no meaning: good for structure, never for quality.
"""

from __future__ import annotations

import torch

from skyseg_core import _ade20k_arch as arch


def _randomise(module, seed: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.Conv2d):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (1.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
            elif isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
    return module.state_dict()


def _with_sync_bn_buffers(state):
    """Add the extra buffers upstream's SynchronizedBatchNorm2d (mit_semseg 1.0.0) saves per BN."""
    out = dict(state)
    for key in state:
        if key.endswith(".running_mean"):
            prefix = key[: -len("running_mean")]
            out[prefix + "_tmp_running_mean"] = state[key] * 3.0
            out[prefix + "_tmp_running_var"] = state[prefix + "running_var"] * 3.0
            out[prefix + "_running_iter"] = torch.tensor([3.0])
    return out


def write_checkpoints(
    folder, encoder_name, decoder_name, seed=0, epoch=20, drop_counters=False, sync_bn=False
):
    """Write ``encoder_epoch_<epoch>.pth`` and ``decoder_epoch_<epoch>.pth`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    enc = _randomise(arch.build_encoder(encoder_name), seed)
    dec = _randomise(
        arch.build_decoder(decoder_name, arch.ENCODER_CHANNELS[encoder_name]), seed + 1
    )
    last = "conv_last.4.bias" if "conv_last.4.bias" in dec else "conv_last.bias"
    dec[last][arch.SKY_CHANNEL] += 4.5  # sky probability around 0.5 instead of 1/150
    if drop_counters:  # checkpoints written by torch < 0.4.1 have no BatchNorm counters
        enc = {k: v for k, v in enc.items() if not k.endswith("num_batches_tracked")}
        dec = {k: v for k, v in dec.items() if not k.endswith("num_batches_tracked")}
    if sync_bn:
        enc, dec = _with_sync_bn_buffers(enc), _with_sync_bn_buffers(dec)
    torch.save(enc, folder / f"encoder_epoch_{epoch}.pth")
    torch.save(dec, folder / f"decoder_epoch_{epoch}.pth")
    return folder
