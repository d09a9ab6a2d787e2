"""Configuration of ``snn plasticity``: the supervised baseline (an ``snn train`` run with the plasticity
seed's defaults) and the unsupervised post-training that follows it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator

from .base import StrictModel
from .fields import RUN, RuleName
from .setting import borrowed, setting
from .train import TrainConfig

if TYPE_CHECKING:
    from ..data import MeanStd

BASE, POST, STDP = "Supervised baseline", "Post-training", "STDP-only baseline (--baseline stdp)"


ETA_MAX = 10.0


def _distinct_positive(v: list[float]) -> list[float]:
    if any(not 0 < e <= ETA_MAX for e in v):
        raise ValueError(f"every eta must be > 0 and at most {ETA_MAX:g}")
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
    "surrogate": {"default": "fast_sigmoid", "help": "Surrogate gradient of the baseline (the seed's snnTorch "
                  "fast_sigmoid, slope 25).", "panel": BASE},
    "enc": {"panel": BASE},
    "epochs": {"default": 10, "help": "Supervised training epochs of the baseline.", "panel": BASE},
    "batch_size": {"default": 128, "help": "Samples per step (training and post-training).", "panel": BASE},
    "lr": {"help": "Adam learning rate of the baseline.", "panel": BASE},
    "alpha_reg": {"default": 1e-4, "help": "Spike-activity penalty of the baseline (alpha times --alpha-reg-term).",
                  "panel": BASE},
    "alpha_reg_term": {"default": "output-mean", "help": "output-mean: the seed's mean of the output spikes; all-spikes: "
                       "spikes per sample, every layer and step.", "panel": BASE},
    "weight_clip": {"help": "Clamp weights and biases to [-c, c] after every training step of the baseline (the seed: "
                    "none).", "panel": BASE},
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
    normalize: Literal["dataset", "mnist", "none"] = setting(
        "dataset", "Input (x - mean) / std before encoding: dataset = the training set's pixel mean/std (MNIST: the "
        "seed's 0.1307/0.3081), mnist = the seed's constants on any dataset, none = pixels in [0, 1].", panel=BASE,
    )
    rule: RuleName = setting("hebb-anti-hebb", "Unsupervised rule applied after training.", panel=POST)
    eta: Etas = setting(
        [1e-5, 1e-4], "Plasticity learning rate; repeat for several (each starts from the baseline). Smallest: the "
        "seed's 'gentle', largest: 'strong'.", panel=POST, min_length=1,
    )
    post_epochs: int = setting(3, "Unsupervised passes over the training set.", panel=POST, ge=1, le=10_000)
    lambda_ltd: float = setting(
        0.5, "hebb-anti-hebb: strength of the anti-Hebbian term (the seed's lambda_ltd).", panel=POST, ge=0, le=1e3,
    )
    tau: float = setting(5.0, "STDP trace time constant, in time steps.", panel=POST, gt=0, le=1e4)
    post_clip: float = setting(
        1.0, "Clamp weights to [-c, c] after every post-training batch (0: no clipping).", panel=POST, ge=0, le=1e3,
    )
    clip_biases: bool = setting(False, "--post-clip clamps the biases too (the seed: weights only).", panel=POST)
    stdp_epochs: int = setting(1, "--baseline stdp: unsupervised passes over the training set.", panel=STDP, ge=1, le=10_000)
    stdp_eta: float = setting(1.25, "--baseline stdp: STDP learning rate.", panel=STDP, gt=0, le=1e3)

    def train_config(self, norm: MeanStd | None = None) -> TrainConfig:
        """The supervised baseline as an ``snn train`` setting (model ``mlp``, Adam, loss on spike counts).

        Args:
            norm: the resolved ``normalize`` statistics (``None``: pixels as they are); they become
                the encoder's ``enc_scale`` / ``enc_bias``, so every later use of the run applies them.
        """
        scale, bias = norm.affine() if norm is not None else (1.0, 0.0)
        return TrainConfig(model="mlp", optimizer="adam", loss="count", enc_scale=scale, enc_bias=bias,
                           **self.model_dump(include=set(_Baseline.model_fields)))

    def folder_name(self) -> str:
        """``plasticity_{dataset}_mlp{hidden}_T{T}_{enc}[_norm-{normalize}]``: the experiment that every rule shares."""
        name = f"plasticity_{self.dataset}_mlp{self.hidden_dim}_T{self.T}_{self.enc}"
        return name if self.normalize == "dataset" else f"{name}_norm-{self.normalize}"
