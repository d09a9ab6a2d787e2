"""Gradient-free attacks: they only query the model's logits.

Reported beside the gradient attacks, they expose gradient masking: when a gradient-free
attack does better than PGD at the same eps, the (surrogate) gradients are misleading the
gradient attacks and PGD's accuracy overstates robustness.
"""

from __future__ import annotations

from ._registry import register_attack
from .base import TorchAttack

#: SPSA evaluates ``samples x batch`` perturbed images per model call; keep a call below this.
SPSA_IMAGES_PER_CALL = 2048


@register_attack("spsa")
class SPSA(TorchAttack):
    """Simultaneous perturbation stochastic approximation of the gradient of the margin loss.

    Each of ``steps`` iterations estimates the gradient from ``options['samples']`` (default 64)
    random +-1 directions ``v`` as ``(f(x + delta v) - f(x - delta v)) / (2 delta v)`` with
    ``delta = options['delta']`` (default 0.01), and takes an Adam step (lr ``options['lr']``,
    default 0.01) projected into the eps ball. Uesato et al., "Adversarial risk and the dangers
    of evaluating against weak attacks", ICML 2018 (torchattacks' port of advertorch).
    """

    gradient_free = True

    def build(self):
        import torchattacks  # slow to import (seconds): only when an attack runs

        samples = int(self.options.get("samples", 64))
        n = max(1, int(self.options.get("_batch", 1)))
        return torchattacks.SPSA(
            self.model, eps=self.eps, delta=float(self.options.get("delta", 0.01)), lr=float(self.options.get("lr", 0.01)),
            nb_iter=self.steps, nb_sample=samples, max_batch_size=max(1, min(samples, SPSA_IMAGES_PER_CALL // n)),
        )

    def perturb(self, images, labels):
        self.options["_batch"] = len(images)
        return super().perturb(images, labels)


@register_attack("square")
class Square(TorchAttack):
    """Square attack: random search over square-shaped L-inf perturbations, margin loss.

    ``options['queries']`` model queries (default ``100 * steps``). Andriushchenko et al.,
    "Square attack: a query-efficient black-box adversarial attack via random search", ECCV 2020.
    """

    gradient_free = True

    def build(self):
        import torchattacks  # slow to import (seconds): only when an attack runs

        return torchattacks.Square(self.model, norm="Linf", eps=self.eps,
                                   n_queries=int(self.options.get("queries", 100 * self.steps)), n_restarts=1,
                                   p_init=0.8, loss="margin", resc_schedule=True, seed=self.seed, verbose=False)


@register_attack("onepixel")
class OnePixel(TorchAttack):
    """One-pixel attack (L0): differential evolution over the position and colour of ``max(1, int(eps))``
    pixels, minimising the true class's probability; ``steps`` generations, population
    ``options['popsize']`` (default 10). Su, Vargas and Sakurai, "One pixel attack for fooling deep
    neural networks", IEEE TEVC 2019. ``eps`` counts pixels (any value inside [0, 1] is changed
    freely), so it is not an L-inf radius; ``alpha`` is ignored.
    """

    gradient_free = True
    bounded = False
    eps_unit = "pixels changed"
    eps_max = None

    def build(self):
        import torchattacks  # slow to import (seconds): only when an attack runs

        return torchattacks.OnePixel(self.model, pixels=max(1, int(self.eps)), steps=self.steps,
                                     popsize=max(1, int(self.options.get("popsize", 10))), inf_batch=128)

    def perturb(self, images, labels):
        import numpy as np

        # Differential evolution draws from NumPy's global generator: seed it, then put it back.
        state = np.random.get_state()
        try:
            np.random.seed(self.seed)
            return super().perturb(images, labels)
        finally:
            np.random.set_state(state)
