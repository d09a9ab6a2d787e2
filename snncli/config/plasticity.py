"""Configuration of ``snn plasticity``: the supervised baseline (an ``snn train`` run with the plasticity
seed's defaults) and the unsupervised post-training that follows it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator

from .base import StrictModel
from .fields import RUN, RuleName
from .setting import borrowed, setting
from .train import TrainConfig

BASE, POST, STDP = "Supervised baseline", "Post-training", "STDP-only baseline (--baseline stdp)"


def _distinct_positive(v: list[float]) -> list[float]:
    if any(not e > 0 for e in v):
        raise ValueError("every eta must be > 0")
    return list(dict.fromkeys(v))  # a repeated value is one run


#: Plasticity learning rates: positive; a repeated value is one run.
Etas = Annotated[list[float], AfterValidator(_distinct_positive)]

#: The `snn train` settings of the baseline, with the seed study's defaults where they differ.
_Baseline = borrowed("PlasticityBaseline", TrainConfig, {
    "dataset": {"panel": BASE},
    "data_root": {"panel": BASE},
    "hidden_dim": {"default": 512, "help": "Hidden LIF neurons (784-hidden-classes).", "panel": BASE},
    "T": {"default": 25, "help": "Time steps per input.", "panel": BASE},
    "beta": {"default": 0.9, "help": "Membrane decay per step.", "panel": BASE},
    "surrogate": {"default": "atan", "help": "Surrogate gradient of the baseline (atan: snnTorch Leaky's default, as in "
                  "the seed).", "panel": BASE},
    "enc": {"panel": BASE},
    "epochs": {"default": 10, "help": "Supervised training epochs of the baseline.", "panel": BASE},
    "batch_size": {"default": 128, "help": "Samples per step (training and post-training).", "panel": BASE},
    "lr": {"help": "Adam learning rate of the baseline.", "panel": BASE},
    "alpha_reg": {"default": 1e-4, "help": "Spike-activity penalty: alpha * spikes per sample (all layers, all steps).",
                  "panel": BASE},
    "weight_clip": {"default": 1.0, "help": "Clamp weights to [-c, c] after every step, supervised and plastic.",
                    "panel": BASE},
    "val_fraction": {"default": 0.0, "help": "Share of the training set held out for validation (the seed holds none).",
                     "panel": BASE},
    "out": {"panel": RUN},
    "seed": {"panel": RUN},
    "device": {"panel": RUN},
    "threads": {"panel": RUN},
    "max_batches": {"help": "Stop every pass after this many batches (smoke runs).", "panel": RUN},
    "force": {"help": "Redo everything: retrain the baseline, redo every eta.", "panel": RUN},
}, base=StrictModel)


class PlasticityConfig(_Baseline):
    """Every setting of a plasticity experiment; defaults are the seed study's."""

    checkpoint: Path | None = setting(
        None, "Start from this trained run (folder or .pth) instead of training a baseline.", panel=BASE, metavar="RUN",
    )
    baseline: Literal["supervised", "stdp"] = setting(
        "supervised", "supervised: BPTT baseline, then post-training; stdp: the network trained by STDP alone.", panel=BASE,
    )
    rule: RuleName = setting("hebb", "Unsupervised rule applied after training.", panel=POST)
    eta: Etas = setting(
        [1e-5], "Plasticity learning rate; repeat for several (each starts from the baseline).", panel=POST, min_length=1,
    )
    post_epochs: int = setting(3, "Unsupervised passes over the training set.", panel=POST, ge=1)
    tau: float = setting(5.0, "STDP trace time constant, in time steps.", panel=POST, gt=0)
    stdp_epochs: int = setting(1, "--baseline stdp: unsupervised passes over the training set.", panel=STDP, ge=1)
    stdp_eta: float = setting(1.25, "--baseline stdp: STDP learning rate.", panel=STDP, gt=0)

    def train_config(self) -> TrainConfig:
        """The supervised baseline as an ``snn train`` setting (model ``mlp``, Adam, loss on spike counts)."""
        return TrainConfig(model="mlp", optimizer="adam", loss="count", **self.model_dump(include=set(_Baseline.model_fields)))

    def folder_name(self) -> str:
        """``plasticity_{dataset}_mlp{hidden}_T{T}_{enc}``: the experiment that every rule shares."""
        return f"plasticity_{self.dataset}_mlp{self.hidden_dim}_T{self.T}_{self.enc}"
