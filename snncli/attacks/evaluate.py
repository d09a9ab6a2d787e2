"""Accuracy under attack over a list of budgets: the numbers behind ``snn attack``."""

from __future__ import annotations

import time
from typing import Any, Callable, Sequence

import torch
import torch.nn as nn

from ._registry import attack_class, create_attack

#: 0, 1, 2, 4, 8 and 16 grey levels: the default budgets of ``snn attack``
DEFAULT_EPS = (0.0, 1 / 255, 2 / 255, 4 / 255, 8 / 255, 16 / 255)


def _reseed(model: nn.Module, seed: int) -> None:
    reseed = getattr(model, "reseed", None)
    if callable(reseed):  # the classifier adapter: same rate-coded spikes for every evaluation
        reseed(seed)


@torch.no_grad()
def correct_mask(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 128, seed: int = 0) -> torch.Tensor:
    """Per sample: is ``model``'s top-1 prediction right? (``[N]`` bool)"""
    _reseed(model, seed)
    out = [model(images[i : i + batch_size]).argmax(1) == labels[i : i + batch_size] for i in range(0, len(images), batch_size)]
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.bool, device=images.device)


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 128, seed: int = 0) -> float:
    """Top-1 accuracy of ``model`` (images -> logits) on ``images``."""
    return correct_mask(model, images, labels, batch_size, seed).float().mean().item() if len(images) else 0.0


def robust_accuracy(
    model: nn.Module,
    attack: str,
    images: torch.Tensor,
    labels: torch.Tensor,
    eps: Sequence[float] = DEFAULT_EPS,
    *,
    steps: int = 10,
    alpha: float | None = None,
    seed: int = 0,
    batch_size: int = 128,
    options: dict[str, Any] | None = None,
    on_eps: Callable[[dict[str, Any]], None] | None = None,
    settings: Callable[[float], dict[str, Any] | None] | None = None,
    examples: int = 0,
    on_examples: Callable[[float, torch.Tensor], None] | None = None,
) -> list[dict[str, Any]]:
    """Accuracy of ``model`` on ``attack``'s adversarial images at every budget in ``eps``.

    ``eps == 0`` is the clean accuracy, measured without running the attack. Every evaluation
    restarts the adapter's rate-coding generator from ``seed``, so with rate coding all rows
    see the same encoding noise and differ only by the perturbation.

    Args:
        model: images ``[N, C, H, W]`` in ``[0, 1]`` -> logits (the classifier adapter).
        attack: a registered attack name.
        images: the samples to attack, on the model's device.
        labels: their classes ``[N]``.
        eps: budgets in the attack's units (``eps_unit``: an L-inf radius in pixel units for most).
        steps, alpha, seed, options: passed to the attack.
        batch_size: samples attacked at once.
        on_eps: called with each row as soon as it is measured (progress, incremental writing).
        settings: per-budget attack settings (a protocol such as the seed's): ``settings(eps)`` gives
            keyword arguments (``steps``, ``alpha``, options) that override the ones above, or
            ``None`` to run no attack at that budget (the clean images are scored).
        examples: with ``on_examples``, how many of the first samples' images to hand over.
        on_examples: called per budget with ``(eps, images[:examples])``: the images scored there
            (the clean ones at eps 0), e.g. to save adversarial examples.

    Returns:
        One row per eps (ascending): ``{"eps", "eps_255", "accuracy", "correct", "robust_accuracy",
        "n", "max_linf", "attacked", "time_s"}`` (``attacked`` false at eps 0 and where ``settings``
        ran no attack). ``accuracy`` is on the attack's final images (the usual
        number). ``robust_accuracy`` counts a sample only if the model is right on *every* point
        tried inside its ball: the clean image and the adversarial images found at this and every
        smaller eps (all lie inside this ball). It is a tighter upper bound on true robustness and
        non-increasing in eps by construction; where it is well below ``accuracy`` the attack is
        unreliable (with spike-count logits, ties and flat gradients make the final iterate miss).
    """
    cls = attack_class(attack)
    rows = []
    survived = None
    for e in sorted(float(v) for v in eps):
        start = time.perf_counter()
        kw: dict[str, Any] | None = {"steps": steps, "alpha": alpha, **(options or {})}
        if settings is not None:
            own = settings(e)
            kw = None if own is None else {**kw, **own}
        if e == 0 or kw is None:
            ok, linf = correct_mask(model, images, labels, batch_size, seed), 0.0
            if on_examples is not None and examples > 0:
                on_examples(e, images[:examples].detach().cpu())
        else:
            atk = create_attack(cls.name, model, e, seed=seed, **kw)
            adv = torch.cat([atk(images[i : i + batch_size], labels[i : i + batch_size])
                             for i in range(0, len(images), batch_size)])
            if on_examples is not None and examples > 0:
                on_examples(e, adv[:examples].detach().cpu())
            linf = float((adv - images).abs().amax()) if len(images) else 0.0
            ok = correct_mask(model, adv, labels, batch_size, seed)
            if survived is None:  # no eps 0 row: the clean point still lies in every ball
                survived = correct_mask(model, images, labels, batch_size, seed)
        survived = ok if survived is None else survived & ok
        n = len(images)
        row = {
            "eps": e, "eps_255": round(e * 255, 4), "accuracy": ok.float().mean().item() if n else 0.0,
            "correct": int(ok.sum()), "robust_accuracy": survived.float().mean().item() if n else 0.0,
            "n": n, "max_linf": linf, "attacked": e != 0 and kw is not None,
            "time_s": round(time.perf_counter() - start, 3),
        }
        rows.append(row)
        if on_eps is not None:
            on_eps(row)
    return rows
