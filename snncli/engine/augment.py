"""Training-time augmentation done on the device, a whole batch at a time (no per-sample Python)."""

from __future__ import annotations

from typing import Sequence

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


def add_input_noise(
    x: torch.Tensor, std: float, gen: torch.Generator, scale: Sequence[float] | None = None
) -> torch.Tensor:
    """The seed's ``AddGaussianNoise``: ``x + std * scale_c * n``, ``n ~ N(0, 1)`` drawn per pixel at every access.

    The seed adds the noise to *normalised* images; ``snn`` normalises inside the model, so a noise
    of ``std`` in normalised units is ``std * scale_c`` in pixel units, with ``scale`` the
    normalisation's per-channel standard deviations (``None``: pixel units). Not clipped, as the seed.

    Args:
        x: images ``[B, C, H, W]`` (float, pixel units).
        std: noise standard deviation (0: ``x`` unchanged).
        gen: random source on ``x``'s device.
        scale: per-channel factor (one value: every channel).
    """
    if std == 0:
        return x
    noise = torch.randn(x.shape, generator=gen, device=x.device, dtype=x.dtype if x.is_floating_point() else torch.float32)
    if scale is not None:
        noise = noise * torch.tensor([float(s) for s in scale], device=x.device, dtype=noise.dtype).view(1, -1, 1, 1)
    return x.to(noise.dtype) + std * noise
