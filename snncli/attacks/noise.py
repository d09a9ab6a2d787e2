"""Random perturbations of size eps: the baseline an attack must beat to mean anything."""

from __future__ import annotations

import torch

from ._registry import register_attack
from .base import Attack


@register_attack("noise")
class SignNoise(Attack):
    """Every pixel moved by ``+eps`` or ``-eps`` at random: a random corner of the L-inf ball,
    the same budget as the attacks with no search at all."""

    gradient_free = True

    def perturb(self, images, labels):
        sign = torch.randint(0, 2, images.shape, device=images.device).to(images.dtype).mul_(2).sub_(1)
        return images + self.eps * sign


@register_attack("gaussian")
class GaussianNoise(Attack):
    """Additive Gaussian noise with standard deviation ``eps`` (not bounded by eps), then clipped to
    ``[0, 1]``: the PlasticFlex seed's ``GaussianNoise`` robustness check."""

    gradient_free = True
    bounded = False
    eps_unit = "noise std, pixel units"

    def perturb(self, images, labels):
        return images + self.eps * torch.randn_like(images)
