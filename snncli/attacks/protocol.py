r"""Budget grids and curve summaries: ``snn``'s defaults and the PlasticFlex seed's attack protocol.

The seed (``src/analysis/run_loader_image/attacks.py``) sweeps every attack over
``numpy.linspace(base, max, 23)`` with a per-attack maximum and per-budget settings (PGD: 20 steps
of ``eps / 4``; SPSA: ``int(40 eps)`` iterations; one-pixel: ``int(eps)`` pixels, generations
``int(2 eps)``...), on 128 random test images in batches of 32, and reports top-1 accuracy and
the area under the accuracy-vs-eps curve. :func:`seed_eps` and :func:`seed_settings` give the
grid and the settings; :func:`curve_summary` the areas.

The seed rescales each batch of *normalised* images to ``[0, 1]`` by the batch's minimum and
maximum before attacking; ``snn`` attacks images in pixel units (normalisation lives inside the
model). For CIFAR-10 with the seed's statistics the two scales differ by about 4 %
(``(max - min) * std`` of the normalised batch is ~1.04 pixel units), so its eps and ours read
alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

#: samples, batch size and seed of the seed's attack runs (``run_attack_suite.py``), one example image per budget
SEED_ATTACK = {"sample_size": 128, "batch_size": 32, "seed": 42, "examples": 1}


@dataclass(frozen=True)
class SeedGrid:
    """``numpy.linspace(base, max, num)``: one attack's budgets in the seed's protocol."""

    base: float
    max: float
    num: int = 23

    def values(self) -> list[float]:
        step = (self.max - self.base) / (self.num - 1)
        return [self.base + i * step for i in range(self.num - 1)] + [float(self.max)]


#: our attack name -> the seed's grid (its names: FGSM, PGD, SPGD, SPSA, OnePixel, JSMA, Jitter, GaussianNoise)
SEED_GRIDS: dict[str, SeedGrid] = {
    "fgsm": SeedGrid(0.0, 0.64),
    "pgd": SeedGrid(0.0, 23 / 255),
    "spgd": SeedGrid(0.0, 0.5),
    "spsa": SeedGrid(0.0, 0.21),
    "onepixel": SeedGrid(1.0, 42.0),
    "jsma": SeedGrid(0.0, 1.5),
    "jitter": SeedGrid(0.0, 0.3),
    "gaussian": SeedGrid(0.0, 0.42),
}


def seed_attacks() -> list[str]:
    """The attacks the seed's protocol covers."""
    return list(SEED_GRIDS)


def seed_eps(attack: str) -> list[float]:
    """The seed's 23 budgets for ``attack``.

    Raises:
        ValueError: the seed never ran ``attack`` (the message lists the ones it ran).
    """
    try:
        return SEED_GRIDS[attack].values()
    except KeyError:
        raise ValueError(f"the seed's protocol has no {attack!r} attack; it ran {', '.join(seed_attacks())}") from None


def seed_settings(attack: str, eps: float) -> dict[str, Any] | None:
    """Keyword arguments of :func:`~snncli.attacks.create_attack` the seed used at ``eps``; ``None`` where
    it ran no attack at all (SPSA below eps 1/40: ``int(40 eps)`` is 0 iterations, the clean images)."""
    if attack in ("pgd", "spgd"):
        return {"steps": 20, "alpha": eps / 4}
    if attack == "jitter":
        return {"steps": 20, "alpha": eps / 4, "scale": 10, "std": 0.1}
    if attack == "spsa":
        steps = int(40 * eps)
        return {"steps": steps, "delta": 0.01, "lr": 0.01, "samples": 128} if steps >= 1 else None
    if attack == "onepixel":
        return {"steps": max(1, int(2 * eps)), "popsize": max(1, int(eps))}
    if attack == "jsma":
        return {"gamma": 0.1}
    if attack in ("fgsm", "gaussian"):
        return {}
    seed_eps(attack)  # raises with the list
    return {}


def trapezoid(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Area under the piecewise-linear curve through ``(xs[i], ys[i])`` (xs ascending)."""
    return float(sum((x1 - x0) * (y0 + y1) / 2 for x0, x1, y0, y1 in zip(xs, xs[1:], ys, ys[1:])))


def curve_summary(rows: Sequence[Mapping[str, float]], seed_grid: SeedGrid | None = None) -> dict[str, float]:
    """Areas under the accuracy-vs-eps curve of :func:`~snncli.attacks.robust_accuracy` rows.

    Returns:
        ``auc``: trapezoid area of ``accuracy`` over the budgets tried (in the attack's eps units);
        ``auc_normalised``: that area over the eps range (the mean accuracy across it, comparable
        between attacks); ``auc_robust``: the same for ``robust_accuracy``; with ``seed_grid`` also
        ``auc_seed``, the seed's number: ``trapezoid(accuracies, dx=max / num)`` (its spacing is
        ``max / num``, not the grid's ``(max - base) / (num - 1)``).
    """
    eps = [float(r["eps"]) for r in rows]
    acc = [float(r["accuracy"]) for r in rows]
    span = (eps[-1] - eps[0]) if len(eps) > 1 else 0.0
    auc = trapezoid(eps, acc)
    out = {"auc": auc, "auc_normalised": auc / span if span > 0 else float("nan")}
    if all("robust_accuracy" in r for r in rows):
        out["auc_robust"] = trapezoid(eps, [float(r["robust_accuracy"]) for r in rows])
    if seed_grid is not None:
        dx = seed_grid.max / seed_grid.num
        out["auc_seed"] = trapezoid([i * dx for i in range(len(acc))], acc)
    return out
