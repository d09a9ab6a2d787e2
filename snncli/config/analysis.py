"""Configuration of the analysis commands: ``snn attack``, ``hessian``, ``landscape``, ``gradflow``,
``visualize`` and ``analyze``. Each reads a trained run (folder or checkpoint) and writes into
an ``analysis/`` folder beside it (or ``--out``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    field_validator,
    model_validator,
)

from ..attacks import DEFAULT_EPS, attack_class, list_attacks, seed_attacks, seed_eps
from ..attacks.protocol import SEED_BATCH_SIZE, SEED_SAMPLE_SIZE, SEED_SEED
from .base import StrictModel
from .protocols import SEED_HESSIAN, SEED_LANDSCAPE
from .fields import Device

VISUALS = ("curves", "confusion", "weights", "raster", "membrane", "features", "firing", "masks")
SUITE_PARTS = ("visualize", "gradflow", "attack", "hessian", "landscape")
#: what ``snn attack all`` runs: the gradient attacks beside a gradient-free one and a random baseline
ALL_ATTACKS = ("fgsm", "pgd", "spsa", "noise")


def _fraction(v):
    """``"8/255"`` -> 0.0314; numbers and other strings pass through to pydantic."""
    if isinstance(v, str) and "/" in v:
        num, _, den = v.partition("/")
        try:
            return float(num) / float(den)
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"not a number or fraction: {v!r}") from None
    return v


def _budgets(v: list[float]) -> list[float]:
    bad = [e for e in v if not 0 <= e <= 1]
    if bad:
        raise ValueError(f"eps must lie in [0, 1] (pixel units; 8/255 = 0.0314), got {bad[0]}")
    return sorted(set(v))


def _non_negative(v: list[float]) -> list[float]:
    bad = [e for e in v if e < 0]
    if bad:
        raise ValueError(f"eps must be >= 0, got {bad[0]}")
    return sorted(set(v))


_FRACTIONS = BeforeValidator(lambda v: [_fraction(e) for e in v] if isinstance(v, (list, tuple)) else v)
#: L-inf budgets: numbers or fractions like ``8/255``, each in [0, 1]; sorted, repeats dropped.
EpsList = Annotated[list[float], _FRACTIONS, AfterValidator(_budgets)]
#: Budgets in each attack's own unit (pixels for one-pixel, theta for JSMA): checked against the attacks.
AttackEpsList = Annotated[list[float], _FRACTIONS, AfterValidator(_non_negative)]
#: ``snn``: the command's own settings; ``seed``: the PlasticFlex seed's protocol (grids, samples, iterations)
Protocol = Literal["snn", "seed"]


def _protocol_defaults(model, values: dict) -> None:
    """Fill the fields the user left unset with the protocol's values (flags given still win)."""
    for key, value in values.items():
        if key not in model.model_fields_set:
            object.__setattr__(model, key, value)  # bypass validate_assignment (it would recurse)


def _exists(v: Path) -> Path:
    if not v.exists():
        raise ValueError(f"no such run folder or checkpoint: {v}")
    return v


class AnalysisSettings(StrictModel):
    """What every analysis command shares: which run, on what device, where outputs go."""

    device: Device = Field("auto", description="auto picks CUDA, then MPS, then DirectML, then CPU.")
    seed: int = Field(0, description="Seed of the samples drawn, random directions and attack noise.")
    out: Path | None = Field(None, description="Folder for the outputs (default: RUN/analysis).")
    batch_size: int = Field(128, ge=1, description="Samples per forward pass.")


class SingleRunSettings(AnalysisSettings):
    run: Path = Field(..., description="Run folder or checkpoint (.pth).")

    _check_run = field_validator("run")(classmethod(lambda cls, v: _exists(v)))


class AttackConfig(AnalysisSettings):
    """``snn attack``: accuracy under attack at several budgets, per run."""

    attacks: list[str] = Field(..., min_length=1, description="Attacks to run ('all': " + ", ".join(ALL_ATTACKS) + ").")
    runs: list[Path] = Field(..., min_length=1, description="Run folders, checkpoints, or folders of runs.")
    top_n: int | None = Field(None, ge=1, description="Attack only the N runs with the best validation accuracy.")
    eps: AttackEpsList = Field(
        list(DEFAULT_EPS), min_length=1,
        description="Budgets: L-inf in pixel units (1/255 = one grey level) for most attacks; pixels for onepixel, theta for jsma.",
    )
    protocol: Protocol = Field(
        "snn",
        description="seed: the PlasticFlex seed's protocol: each attack over its own 23-point eps grid with its settings "
        "(PGD: 20 steps of eps/4), 128 samples in batches of 32, seed 42, one adversarial example saved per budget, "
        "and the seed's AUC beside ours.",
    )
    examples: int = Field(0, ge=0, le=16, description="Adversarial examples saved per budget (a PNG grid per attack).")
    steps: int = Field(10, ge=1, description="Iterations of iterative attacks (PGD, APGD, CW, Jitter, SPSA).")
    alpha: float | None = Field(None, gt=0, description="Step size (default 2.5 * eps / steps).")
    sample_size: int = Field(128, ge=1, description="Test samples attacked (drawn with --seed).")
    eot: int = Field(1, ge=1, description="Rate coding: encodings averaged per forward (expectation over transformation).")
    with_spsa: bool = Field(False, description="Also run SPSA (gradient-free) to expose gradient masking.")
    spsa_samples: int = Field(64, ge=1, description="SPSA: random directions per gradient estimate.")
    spsa_lr: float = Field(0.01, gt=0, description="SPSA: Adam learning rate.")
    spsa_delta: float = Field(0.01, gt=0, description="SPSA: finite-difference step.")

    @field_validator("attacks")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        names: list[str] = []
        for a in v:
            for name in ALL_ATTACKS if a == "all" else [a.lower()]:
                if name not in list_attacks():
                    raise ValueError(f"unknown attack {a!r}; choose from all, {', '.join(list_attacks())}")
                if name not in names:
                    names.append(name)
        return names

    @field_validator("runs")
    @classmethod
    def _runs_exist(cls, v: list[Path]) -> list[Path]:
        return [_exists(p) for p in v]

    @model_validator(mode="after")
    def _spsa(self) -> "AttackConfig":
        if self.with_spsa and "spsa" not in self.attacks:
            object.__setattr__(self, "attacks", [*self.attacks, "spsa"])
        if self.protocol == "seed":
            missing = [a for a in self.attacks if a not in seed_attacks()]
            if missing:
                raise ValueError(f"protocol: the seed's protocol has no {missing[0]!r} attack; it ran {', '.join(seed_attacks())}")
            if "eps" in self.model_fields_set:
                raise ValueError("eps: --protocol seed uses the seed's grid of each attack; leave --eps out")
            _protocol_defaults(self, {"sample_size": SEED_SAMPLE_SIZE, "batch_size": SEED_BATCH_SIZE,
                                      "seed": SEED_SEED, "examples": 1})
        else:
            for name in self.attacks:
                limit = attack_class(name).eps_max
                if limit is not None and max(self.eps) > limit:
                    raise ValueError(f"eps: {name} budgets are {attack_class(name).eps_unit} and at most {limit:g}, "
                                     f"got {max(self.eps):g}")
        return self

    def budgets(self, attack: str) -> list[float]:
        """The budgets ``attack`` runs at: ``eps``, or the seed's grid under ``--protocol seed``."""
        return seed_eps(attack) if self.protocol == "seed" else list(self.eps)


class HessianConfig(SingleRunSettings):
    """``snn hessian``: curvature of the loss at the trained weights."""

    batches: int = Field(2, ge=1, description="Test batches the loss (and every Hessian-vector product) averages over.")
    top_k: int = Field(3, ge=1, description="Top eigenvalues (power iteration with deflation).")
    iters: int = Field(30, ge=1, description="Power iterations per eigenvalue (at most).")
    tol: float = Field(1e-3, gt=0, description="Relative tolerance of power iteration and Hutchinson.")
    trace_iters: int = Field(30, ge=1, description="Hutchinson samples for the trace (at most).")
    density_steps: int = Field(20, ge=2, description="Lanczos steps of the spectral density (SLQ).")
    density_runs: int = Field(1, ge=1, description="SLQ runs averaged.")
    per_layer: bool = Field(False, description="Also the top eigenvalue of every layer's diagonal block.")
    batch_size: int = Field(64, ge=1, description="Samples per batch.")
    split: Literal["test", "train"] = Field("test", description="Images the loss is measured on (drawn at random with --seed).")
    save_eigenvectors: bool = Field(False, description="Write the top eigenvectors as hessian_eigenvectors.npz (arrays, no pickles).")
    protocol: Protocol = Field(
        "snn",
        description="seed: the PlasticFlex seed's protocol: one batch of 16 random training images (seed 42), top 5 "
        "eigenvalues, 100 power iterations, 100 Hutchinson samples, 100 Lanczos steps, eigenvectors saved.",
    )

    @model_validator(mode="after")
    def _seed_protocol(self) -> "HessianConfig":
        if self.protocol == "seed":
            _protocol_defaults(self, SEED_HESSIAN)
        return self


class LandscapeConfig(SingleRunSettings):
    """``snn landscape``: loss and accuracy around the trained weights."""

    directions: Literal["random", "hessian", "seed"] = Field(
        "random",
        description="Filter-normalised Gaussian directions (weights only), top Hessian eigenvectors, or the seed's plane "
        "(uniform directions, biases included, edge at half the weight norm).",
    )
    dims: Literal[1, 2] = Field(2, description="1-D curve or 2-D surface.")
    range: float = Field(1.0, gt=0, description="Grid runs over [-range, range] along each direction.")
    resolution: int = Field(11, ge=3, description="Grid points per direction (odd, so the trained point is on it).")
    batches: int = Field(2, ge=1, description="Test batches per grid point.")
    hessian_iters: int = Field(20, ge=1, description="--directions hessian: power iterations per eigenvector.")
    split: Literal["test", "train"] = Field("test", description="Images the loss is measured on.")
    first_batches: bool = Field(False, description="Take the split's first images in file order instead of a seeded random draw.")
    train_mode: bool = Field(False, description="Evaluate in training mode (BN batch statistics, dropout on), as the seed's surface does.")
    smooth: float = Field(0.0, ge=0, description="Draw the 3-D surface Gaussian-smoothed by this many grid steps (the numbers saved are raw).")
    gif: bool = Field(False, description="Also write a rotating 3-D animation, landscape_surface.gif (2-D surfaces).")
    protocol: Protocol = Field(
        "snn",
        description="seed: the PlasticFlex seed's protocol: its random plane, 101x101 points over [-1, 1], the first "
        "training batch of the run's batch size, the surface drawn smoothed (sigma 1) in 3-D and as a 120-frame GIF.",
    )

    @field_validator("resolution")
    @classmethod
    def _odd(cls, v: int) -> int:
        if v % 2 == 0:
            raise ValueError("must be odd, so the grid contains the trained weights")
        return v

    @model_validator(mode="after")
    def _seed_protocol(self) -> "LandscapeConfig":
        if self.protocol == "seed":
            _protocol_defaults(self, SEED_LANDSCAPE)
        return self


class GradflowConfig(SingleRunSettings):
    """``snn gradflow``: gradient magnitude per layer at the trained weights."""

    batches: int = Field(4, ge=1, description="Training batches the gradients are measured on.")
    vanish: float = Field(1e-7, gt=0, description="Mean |grad| below this flags a tensor as vanishing.")
    explode: float = Field(1e3, gt=0, description="Max |grad| above this flags a tensor as exploding.")
    ratio: float = Field(1e3, gt=1, description="Also flag tensors this many times below/above the median mean |grad|.")
    batch_size: int = Field(64, ge=1, description="Samples per batch.")


class VisualizeConfig(SingleRunSettings):
    """``snn visualize``: figures of a trained run."""

    what: list[str] = Field(..., min_length=1, description="Figures: all, " + ", ".join(VISUALS) + ".")
    samples: int = Field(4, ge=1, le=16, description="Inputs shown in features (raster/membrane use the first).")
    index: int = Field(0, ge=0, description="Test sample whose spikes and membrane are drawn.")
    eval_samples: int | None = Field(None, ge=1, description="Test samples for the confusion matrix (default: all).")

    @field_validator("what")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        out: list[str] = []
        for w in v:
            for name in VISUALS if w == "all" else [w]:
                if name not in VISUALS:
                    raise ValueError(f"unknown figure {w!r}; choose from all, {', '.join(VISUALS)}")
                if name not in out:
                    out.append(name)
        return out


class AnalyzeConfig(SingleRunSettings):
    """``snn analyze``: the whole suite with small defaults, and a report."""

    skip: list[str] = Field(default_factory=list, description="Parts to leave out: " + ", ".join(SUITE_PARTS) + ".")
    sample_size: int = Field(32, ge=1, description="Samples attacked.")
    eps: EpsList = Field([0.0, 2 / 255, 4 / 255, 8 / 255], min_length=1, description="Attack budgets.")
    steps: int = Field(5, ge=1, description="Attack iterations (PGD, SPSA).")
    batches: int = Field(1, ge=1, description="Batches for Hessian, landscape and gradient flow.")
    resolution: int = Field(7, ge=3, description="Landscape grid points per direction (odd).")
    batch_size: int = Field(64, ge=1, description="Samples per batch.")
    protocol: Protocol = Field(
        "snn",
        description="seed: the attack (PGD), Hessian and landscape parts follow the PlasticFlex seed's protocols "
        "(see snn attack/hessian/landscape --protocol seed); the small-settings flags then do not apply to them.",
    )

    @field_validator("skip")
    @classmethod
    def _parts(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if s not in SUITE_PARTS]
        if bad:
            raise ValueError(f"unknown part {bad[0]!r}; choose from {', '.join(SUITE_PARTS)}")
        return v

    @field_validator("resolution")
    @classmethod
    def _odd(cls, v: int) -> int:
        if v % 2 == 0:
            raise ValueError("must be odd, so the grid contains the trained weights")
        return v
