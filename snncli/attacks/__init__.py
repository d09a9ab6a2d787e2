"""Adversarial attacks: a registry over torchattacks plus what it lacks, run through the classifier adapter.

Every attack takes a model mapping images ``[N, C, H, W]`` in ``[0, 1]`` to logits (for
``snn`` models, :class:`snncli.models.SNNClassifier`) and follows one template
(:class:`Attack`: eval mode, frozen weights, its own seed, the L-inf ball). ``list_attacks()``
names them; ``create_attack(name, model, eps, ...)`` builds one.
"""

from . import blackbox, gradient, noise  # noqa: F401  (registers the attacks)
from ._registry import ATTACKS, attack_class, create_attack, list_attacks, register_attack
from .base import Attack, TorchAttack
from .evaluate import DEFAULT_EPS, accuracy, correct_mask, robust_accuracy
from .protocol import SEED_ATTACK, SEED_GRIDS, curve_summary, seed_attacks, seed_eps, seed_settings

__all__ = [
    "ATTACKS", "DEFAULT_EPS", "Attack", "TorchAttack", "accuracy", "correct_mask", "attack_class", "create_attack",
    "list_attacks", "register_attack", "robust_accuracy", "SEED_ATTACK", "SEED_GRIDS", "curve_summary", "seed_attacks", "seed_eps",
    "seed_settings",
]
