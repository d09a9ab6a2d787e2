"""Training-time augmentation done on the device, a whole batch at a time (no per-sample Python)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def random_crop_flip(x: torch.Tensor, gen: torch.Generator, pad: int = 4, mode: str = "constant") -> torch.Tensor:
    """Random ``pad``-pixel-padded crop and horizontal flip (probability 1/2), per sample.

    The standard CIFAR recipe (He et al. 2016): each image is padded, a window of its original
    size is cut at a random offset, and half of them are mirrored. One gather for the whole batch.

    Args:
        x: images ``[B, C, H, W]``.
        gen: random source on ``x``'s device (the trainer's per-epoch generator: resumable).
        pad: padding on each side, in pixels.
        mode: ``"constant"`` (zeros, as torchvision's ``RandomCrop(padding=4)``) or ``"reflect"``.
    """
    n, c, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad), mode=mode)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen, device=x.device)
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen, device=x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    chan = torch.arange(c, device=x.device)[None, :, None, None]
    out = padded[batch, chan, rows, cols]
    flip = torch.rand(n, generator=gen, device=x.device) < 0.5
    out[flip] = out[flip].flip(-1)
    return out
