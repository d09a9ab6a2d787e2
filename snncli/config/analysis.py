"""Configuration of the analysis commands: ``snn attack``, ``hessian``, ``landscape``, ``gradflow``,
``visualize`` and ``analyze``. Each reads a trained run (folder or checkpoint) and writes into
an ``analysis/`` folder beside it (or ``--out``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, field_validator, model_validator

from .base import StrictModel
from .fields import SEED_MAX, Choices, Device, OptionalWritableDir, registry
from .protocols import SEED_HESSIAN, SEED_LANDSCAPE
from .setting import setting

ATK, SPSA = "Attack", "SPSA (gradient-free)"
VISUALS = ("curves", "confusion", "weights", "raster", "membrane", "features", "firing", "masks")
SUITE_PARTS = ("visualize", "gradflow", "attack", "hessian", "landscape")
#: what ``snn attack all`` runs: the gradient attacks beside a gradient-free one and a random baseline
ALL_ATTACKS = ("fgsm", "pgd", "spsa", "noise")


def _attacks():
    from .. import attacks  # torch: imported when a config is validated

    return attacks


def _split(v):
    """``"pgd,fgsm"`` (an argument) -> ``["pgd", "fgsm"]``; lists pass through."""
    return [x.strip() for x in v.split(",") if x.strip()] if isinstance(v, str) else v


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


def _odd(v: int) -> int:
    if v % 2 == 0:
        raise ValueError("must be odd, so the grid contains the trained weights")
    return v


#: Grid points per direction: odd, so the grid contains the trained weights.
OddInt = Annotated[int, AfterValidator(_odd)]


def _exists(v: Path) -> Path:
    if not v.exists():
        raise ValueError(f"no such run folder or checkpoint: {v}")
    return v


class AnalysisSettings(StrictModel):
    """What every analysis command shares: which run, on what device, where outputs go."""

    device: Device = setting("auto", "auto picks CUDA, then MPS, then DirectML, then CPU; cuda:N the N-th GPU.")
    seed: int = setting(0, "Seed of the samples drawn, random directions and attack noise.", ge=0, le=SEED_MAX)
    out: OptionalWritableDir = setting(None, "Folder for the outputs.", short="-o", default_text="RUN/analysis")
    batch_size: int = setting(128, "Samples per forward pass.", ge=1, le=100_000)


class SingleRunSettings(AnalysisSettings):
    run: Path = setting(..., "Run folder (runs/<name>/) or checkpoint (.pth) written by snn train.", argument=2,
                        seed="checkpoint_dir")

    _check_run = field_validator("run")(classmethod(lambda cls, v: _exists(v)))


class AttackConfig(AnalysisSettings):
    """``snn attack``: accuracy under attack at several budgets, per run."""

    attacks: Annotated[list[str], BeforeValidator(_split), Choices("attack")] = setting(
        ..., "Attack(s), comma-separated: all (= " + ",".join(ALL_ATTACKS) + ") or the names below.",
        argument=1, comma=True, metavar="ATTACK", min_length=1, seed="attack",
    )
    runs: list[Path] = setting(..., "Run folders, checkpoints (.pth), or folders of runs.", argument=2, metavar="RUNS",
                               min_length=1, seed="checkpoint_dir")
    top_n: int | None = setting(None, "Attack only the N runs with the best validation accuracy.", panel=ATK, ge=1)
    eps: AttackEpsList = setting(
        default_factory=lambda: list(_attacks().DEFAULT_EPS), help="Budget: L-inf in pixel units for most attacks "
        "(pixels for onepixel, theta for jsma); repeatable; fractions accepted (8/255).", panel=ATK, min_length=1,
        default_text="0 1/255 2/255 4/255 8/255 16/255",
    )
    protocol: Protocol = setting(
        "snn", "seed: the PlasticFlex seed's protocol: each attack over its own 23-point eps grid with its settings "
        "(PGD: 20 steps of eps/4), 128 samples in batches of 32, seed 42, one adversarial example saved per budget, "
        "the seed's AUC beside ours.", panel=ATK,
    )
    examples: int = setting(0, "Adversarial examples saved per budget (a PNG grid per attack).", panel=ATK, ge=0, le=16)
    steps: int = setting(10, "Iterations of iterative attacks (PGD, APGD, CW, Jitter, SPSA).", panel=ATK, ge=1, le=100_000)
    alpha: float | None = setting(None, "Step size (default 2.5 * eps / steps).", panel=ATK, gt=0, le=1)
    sample_size: int = setting(128, "Test samples attacked (drawn with --seed).", panel=ATK, ge=1, le=1_000_000)
    eot: int = setting(1, "Rate coding: encodings averaged per forward (expectation over transformation).", panel=ATK, ge=1,
                       le=1000)
    with_spsa: bool = setting(False, "Also run SPSA (gradient-free) to expose gradient masking.", panel=SPSA)
    spsa_samples: int = setting(64, "SPSA: random directions per gradient estimate.", panel=SPSA, ge=1, le=100_000)
    spsa_lr: float = setting(0.01, "SPSA: Adam learning rate.", panel=SPSA, gt=0, le=10)
    spsa_delta: float = setting(0.01, "SPSA: finite-difference step.", panel=SPSA, gt=0, le=1)

    @field_validator("attacks")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        names: list[str] = []
        for a in v:
            for name in ALL_ATTACKS if a == "all" else [a.lower()]:
                if name not in registry("attack"):
                    raise ValueError(f"unknown attack {a!r}; choose from all, {', '.join(registry('attack').names())}")
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
        atk = _attacks()
        if self.protocol == "seed":
            missing = [a for a in self.attacks if a not in atk.seed_attacks()]
            if missing:
                raise ValueError(f"protocol: the seed's protocol has no {missing[0]!r} attack; it ran {', '.join(atk.seed_attacks())}")
            if "eps" in self.model_fields_set:
                raise ValueError("eps: --protocol seed uses the seed's grid of each attack; leave --eps out")
            _protocol_defaults(self, atk.SEED_ATTACK)
        else:
            for name in self.attacks:
                cls = atk.attack_class(name)
                if cls.eps_max is not None and max(self.eps) > cls.eps_max:
                    raise ValueError(f"eps: {name} budgets are {cls.eps_unit} and at most {cls.eps_max:g}, got {max(self.eps):g}")
        return self

    def budgets(self, attack: str) -> list[float]:
        """The budgets ``attack`` runs at: ``eps``, or the seed's grid under ``--protocol seed``."""
        return _attacks().seed_eps(attack) if self.protocol == "seed" else list(self.eps)


class HessianConfig(SingleRunSettings):
    """``snn hessian``: curvature of the loss at the trained weights."""

    batches: int = setting(2, "Test batches the loss (and every Hessian-vector product) averages over.", ge=1, le=10_000)
    top_k: int = setting(3, "Top eigenvalues (power iteration with deflation; at most the parameter count).", ge=1,
                         le=100_000)
    iters: int = setting(30, "Power iterations per eigenvalue (at most).", ge=1, le=100_000)
    tol: float = setting(1e-3, "Relative tolerance of power iteration and Hutchinson.", gt=0, le=1)
    trace_iters: int = setting(30, "Hutchinson samples for the trace (at most).", ge=1, le=100_000)
    density_steps: int = setting(20, "Lanczos steps of the spectral density (SLQ; at most the parameter count).", ge=2,
                                 le=100_000)
    density_runs: int = setting(1, "SLQ runs averaged.", ge=1, le=1000)
    per_layer: bool = setting(False, "Also the top eigenvalue of every layer's diagonal block.")
    batch_size: int = setting(64, "Samples per batch.", ge=1, le=100_000)
    split: Literal["test", "train"] = setting("test", "Images the loss is measured on (drawn at random with --seed).")
    save_eigenvectors: bool = setting(False, "Write the top eigenvectors as hessian_eigenvectors.npz (arrays, no pickles).")
    protocol: Protocol = setting(
        "snn", "seed: the PlasticFlex seed's protocol: one batch of 16 random training images (seed 42), top 5 "
        "eigenvalues, 100 power iterations, 100 Hutchinson samples, 100 Lanczos steps, eigenvectors saved.",
    )

    @model_validator(mode="after")
    def _seed_protocol(self) -> "HessianConfig":
        if self.protocol == "seed":
            _protocol_defaults(self, SEED_HESSIAN)
        return self


class LandscapeConfig(SingleRunSettings):
    """``snn landscape``: loss and accuracy around the trained weights."""

    directions: Literal["random", "hessian", "seed"] = setting(
        "random", "Filter-normalised Gaussian directions (weights only), top Hessian eigenvectors, or the seed's plane "
        "(uniform directions, biases included, edge at half the weight norm).",
    )
    dims: Literal[1, 2] = setting(2, "1-D curve or 2-D surface.", aliases="--dim")
    range: float = setting(1.0, "Grid runs over [-range, range] along each direction.", gt=0, le=1e3)
    resolution: OddInt = setting(11, "Grid points per direction (odd, so the trained point is on it).", ge=3, le=1001)
    batches: int = setting(2, "Test batches per grid point.", ge=1, le=10_000)
    hessian_iters: int = setting(20, "--directions hessian: power iterations per eigenvector.", ge=1, le=100_000)
    split: Literal["test", "train"] = setting("test", "Images the loss is measured on.")
    first_batches: bool = setting(False, "Take the split's first images in file order instead of a seeded random draw.",
                                  negative="--random-batches")
    train_mode: bool = setting(False, "Evaluate in training mode (BN batch statistics, dropout on), as the seed's surface does.",
                               negative="--eval-mode")
    smooth: float = setting(0.0, "Draw the 3-D surface Gaussian-smoothed by this many grid steps (the numbers saved are raw).",
                            ge=0, le=100)
    gif: bool = setting(False, "Also write a rotating 3-D animation, landscape_surface.gif (2-D surfaces).", negative="--no-gif")
    protocol: Protocol = setting(
        "snn", "seed: the PlasticFlex seed's protocol: its random plane, 101x101 points over [-1, 1], the first training "
        "batch of the run's batch size, the surface drawn smoothed (sigma 1) in 3-D and as a 120-frame GIF.",
    )

    @model_validator(mode="after")
    def _seed_protocol(self) -> "LandscapeConfig":
        if self.protocol == "seed":
            _protocol_defaults(self, SEED_LANDSCAPE)
        return self


class GradflowConfig(SingleRunSettings):
    """``snn gradflow``: gradient magnitude per layer at the trained weights."""

    batches: int = setting(4, "Training batches the gradients are measured on.", ge=1, le=10_000)
    vanish: float = setting(1e-7, "Mean |grad| below this flags a tensor as vanishing.", gt=0)
    explode: float = setting(1e3, "Max |grad| above this flags a tensor as exploding.", gt=0)
    ratio: float = setting(1e3, "Also flag tensors this many times below/above the median mean |grad|.", gt=1)
    batch_size: int = setting(64, "Samples per batch.", ge=1, le=100_000)


class VisualizeConfig(SingleRunSettings):
    """``snn visualize``: figures of a trained run."""

    what: Annotated[list[str], BeforeValidator(_split)] = setting(
        ..., "Figure(s), comma-separated: all, " + ", ".join(VISUALS) + ".", argument=1, comma=True, metavar="WHAT",
        min_length=1,
    )
    samples: int = setting(4, "Inputs shown in features (raster/membrane use the first).", ge=1, le=16)
    index: int = setting(0, "Test sample whose spikes and membrane are drawn (below the test set's size).", ge=0,
                         le=10_000_000)
    eval_samples: int | None = setting(None, "Test samples for the confusion matrix (default: all).", ge=1)

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

    skip: list[str] = setting(default_factory=list, help="Part to leave out (repeatable): " + ", ".join(SUITE_PARTS) + ".")
    sample_size: int = setting(32, "Samples attacked.", ge=1, le=1_000_000)
    eps: EpsList = setting([0.0, 2 / 255, 4 / 255, 8 / 255], "Attack budget in pixel units; repeatable; fractions accepted "
                           "(8/255).", min_length=1, default_text="0 2/255 4/255 8/255")
    steps: int = setting(5, "Attack iterations (PGD, SPSA).", ge=1, le=100_000)
    batches: int = setting(1, "Batches for Hessian, landscape and gradient flow.", ge=1, le=10_000)
    resolution: OddInt = setting(7, "Landscape grid points per direction (odd).", ge=3, le=1001)
    batch_size: int = setting(64, "Samples per batch.", ge=1, le=100_000)
    protocol: Protocol = setting(
        "snn", "seed: the attack (PGD), Hessian and landscape parts follow the PlasticFlex seed's protocols (see snn "
        "attack/hessian/landscape --protocol seed); the small-settings flags then do not apply to them.",
    )

    @field_validator("skip")
    @classmethod
    def _parts(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if s not in SUITE_PARTS]
        if bad:
            raise ValueError(f"unknown part {bad[0]!r}; choose from {', '.join(SUITE_PARTS)}")
        return v
