"""The template every attack follows: eval mode, frozen weights, a private seed, the L-inf ball.

An attack is a callable ``attack(images, labels) -> adversarial images``. :class:`Attack`
owns everything around the perturbation itself (torchattacks' ``Attack`` does the same, but
also prints and writes files; ours does neither):

- the model runs in eval mode during the attack and gets its previous mode back;
- weights are frozen (``requires_grad=False``) so only the input is differentiated, and
  restored afterwards;
- randomness (random starts, SPSA directions, noise) comes from ``seed``, inside a forked
  RNG, so attacks are reproducible and never disturb the caller's random state;
- the result is clipped into ``[0, 1]`` and into the L-inf ball of radius ``eps``;
- ``eps == 0`` returns the inputs unchanged without running anything.

Subclasses implement only :meth:`Attack.perturb`.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import torch
import torch.nn as nn


class Attack:
    """Base of every attack.

    Args:
        model: ``images [N, C, H, W] in [0, 1] -> logits [N, classes]`` (the classifier adapter).
        eps: L-inf budget, in pixel units (``8/255`` is eight grey levels).
        steps: iterations of iterative attacks (ignored by one-step ones).
        alpha: step size; ``None`` picks ``2.5 * eps / steps`` (Madry et al., 2018).
        seed: seed of the attack's own random draws.
        options: attack-specific settings (see each attack's docstring).
    """

    #: registry name; set by :func:`snncli.attacks.register_attack`
    name: str = "attack"
    #: True for attacks that never read a gradient (black-box, or random noise)
    gradient_free: bool = False
    #: False for perturbations that ``eps`` scales but does not bound (Gaussian noise: eps is the std)
    bounded: bool = True
    #: what ``eps`` measures (table headers, plots, the validation of budgets)
    eps_unit: str = "L-inf, pixel units"
    #: the largest meaningful budget (``None``: no upper bound, e.g. a pixel count)
    eps_max: float | None = 1.0

    def __init__(self, model: nn.Module, eps: float, steps: int = 10, alpha: float | None = None, seed: int = 0, **options: Any):
        if eps < 0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        self.model, self.eps, self.steps, self.seed = model, float(eps), int(steps), int(seed)
        self.alpha = float(alpha) if alpha is not None else 2.5 * self.eps / self.steps
        self.options = options

    def perturb(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The adversarial images; the model is in eval mode and frozen, the RNG seeded."""
        raise NotImplementedError

    def __call__(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        images = images.detach()
        if self.eps == 0:
            return images.clone()
        was_training = self.model.training
        frozen = [(p, p.requires_grad) for p in self.model.parameters()]
        devices = [images.device] if images.device.type == "cuda" else []
        try:
            self.model.eval()
            for p, _ in frozen:
                p.requires_grad_(False)
            with torch.random.fork_rng(devices=devices), torch.enable_grad():
                torch.manual_seed(self.seed)
                adv = self.perturb(images, labels.detach())
        finally:
            for p, flag in frozen:
                p.requires_grad_(flag)
            self.model.train(was_training)
        adv = adv.detach()
        if self.bounded:  # whatever the attack did, the result lies inside the budget
            adv = torch.min(torch.max(adv, images - self.eps), images + self.eps)
        return adv.clamp_(0.0, 1.0)


class TorchAttack(Attack):
    """An attack implemented by torchattacks (the ``attack`` extra): subclasses build it in :meth:`build`.

    torchattacks prints a line when it cannot find the model's device and when its mode
    changes; those lines are swallowed here (this library never prints).
    """

    def build(self):  # -> torchattacks.Attack
        raise NotImplementedError

    def perturb(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        with contextlib.redirect_stdout(io.StringIO()):
            atk = self.build()
            atk.set_device(images.device)
            return atk(images, labels)
