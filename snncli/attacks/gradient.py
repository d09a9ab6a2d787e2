"""White-box attacks: they follow the model's (surrogate) input gradient. All from torchattacks."""

from __future__ import annotations

import torch

from ._registry import register_attack
from .base import TorchAttack


@register_attack("fgsm")
class FGSM(TorchAttack):
    """Fast gradient sign method: one step ``x + eps * sign(grad_x CE)``.

    Goodfellow, Shlens and Szegedy, "Explaining and harnessing adversarial examples", ICLR 2015.
    """

    def build(self):
        import torchattacks  # slow to import (seconds): only when an attack runs

        return torchattacks.FGSM(self.model, eps=self.eps)


@register_attack("pgd")
class PGD(TorchAttack):
    """Projected gradient descent on the cross-entropy, L-inf, from a uniform random start.

    ``steps`` sign-gradient steps of size ``alpha`` (default ``2.5 eps / steps``), each projected
    back into the eps ball. Madry et al., "Towards deep learning models resistant to adversarial
    attacks", ICLR 2018.
    """

    def build(self):
        import torchattacks  # slow to import (seconds): only when an attack runs

        return torchattacks.PGD(self.model, eps=self.eps, alpha=self.alpha, steps=self.steps, random_start=True)


@register_attack("spgd")
class SPGD(PGD):
    """The PlasticFlex seed's "super PGD": the same PGD, which its protocol sweeps to eps 0.5 instead of 23/255
    (see :mod:`snncli.attacks.protocol`)."""


@register_attack("apgd")
class APGD(TorchAttack):
    """Auto-PGD: step size adapted from the progress of the loss (no ``alpha`` to tune), CE loss.

    Croce and Hein, "Reliable evaluation of adversarial robustness with an ensemble of diverse
    parameter-free attacks", ICML 2020. ``alpha`` is ignored.
    """

    def build(self):
        import torchattacks  # slow to import (seconds): only when an attack runs

        return torchattacks.APGD(self.model, norm="Linf", eps=self.eps, steps=self.steps, n_restarts=1,
                                 seed=self.seed, loss="ce", eot_iter=1, rho=0.75, verbose=False)


@register_attack("cw")
class CW(TorchAttack):
    """Carlini-Wagner L2 attack (``c`` = ``options['c']``, default 1; Adam, lr 0.01), then projected
    into the L-inf eps ball so that it reads on the same axis as the other attacks.

    Carlini and Wagner, "Towards evaluating the robustness of neural networks", IEEE S&P 2017.
    """

    def build(self):
        import torchattacks  # slow to import (seconds): only when an attack runs

        return torchattacks.CW(self.model, c=float(self.options.get("c", 1.0)), kappa=0, steps=self.steps, lr=0.01)


@register_attack("jitter")
class Jitter(TorchAttack):
    """Jitter: PGD on the MSE between a noisy, temperature-scaled softmax and the one-hot label.

    The softmax of ``scale * z / ||z||_inf`` plus Gaussian noise (std 0.1) keeps the loss from
    saturating once a sample is misclassified, so the attack keeps exploring. Schwinn et al.,
    "Exploring misclassifications of robust neural networks to enhance adversarial attacks",
    Applied Intelligence 2023 (arXiv:2105.10304). This is torchattacks' ``Jitter``, the attack
    the PlasticFlex seed ran under that name; for plain random noise of size eps use ``noise``
    or ``gaussian``.
    """

    def build(self):
        import torchattacks  # slow to import (seconds): only when an attack runs

        return torchattacks.Jitter(self.model, eps=self.eps, alpha=self.alpha, steps=self.steps,
                                   scale=float(self.options.get("scale", 10)), std=float(self.options.get("std", 0.1)),
                                   random_start=True)


@register_attack("jsma")
class JSMA(TorchAttack):
    """Jacobian-based saliency map attack (L0): pixel pairs whose saliency for a target class is highest
    are moved by ``theta = eps`` each step, until the target wins or ``options['gamma']`` (default 0.1)
    of the features have changed. Targeted at ``(label + 1) mod classes`` (torchattacks' choice,
    for any number of classes here). Papernot et al., "The limitations of deep learning in
    adversarial settings", IEEE EuroS&P 2016. ``eps`` is ``theta``, not an L-inf radius; ``steps``
    and ``alpha`` are ignored.
    """

    bounded = False
    eps_unit = "theta (change per modified pixel)"
    eps_max = None

    def build(self):
        import torchattacks  # slow to import (seconds): only when an attack runs

        atk = torchattacks.JSMA(self.model, theta=self.eps, gamma=float(self.options.get("gamma", 0.1)))
        classes = int(self.options["_classes"])
        atk.set_mode_targeted_by_function(lambda images, labels: (labels + 1) % classes)
        return atk

    def perturb(self, images, labels):
        with torch.no_grad():
            self.options["_classes"] = self.model(images[:1]).shape[1]
        return super().perturb(images, labels)


@register_attack("autoattack")
class AutoAttack(TorchAttack):
    """AutoAttack, the field's standard robustness report: APGD-CE, APGD-T, FAB-T and Square run in turn,
    each on the samples the previous ones left correct (``options['version']``: ``standard``, or
    ``rand`` for stochastic models: APGD-CE and APGD-DLR with EOT). Croce and Hein, "Reliable
    evaluation of adversarial robustness with an ensemble of diverse parameter-free attacks", ICML
    2020 (torchattacks' port). ``steps`` and ``alpha`` are ignored: the attacks are parameter-free.
    """

    def build(self):
        import torchattacks  # slow to import (seconds): only when an attack runs

        return torchattacks.AutoAttack(self.model, norm="Linf", eps=self.eps, version=str(self.options.get("version", "standard")),
                                       n_classes=int(self.options["_classes"]), seed=self.seed, verbose=False)

    def perturb(self, images, labels):
        with torch.no_grad():
            self.options["_classes"] = self.model(images[:1]).shape[1]
        return super().perturb(images, labels)
