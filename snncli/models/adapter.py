"""The classifier adapter: any ``snn`` model as a function from images to logits.

Attacks (torchattacks and ours) and the curvature tools expect ``f(images [N, C, H, W]) ->
logits [N, classes]``. A spiking model instead reads an encoded sequence ``[T, B, ...]`` and
returns an :class:`~snncli.models.SNNOutput`. :class:`SNNClassifier` bridges the two:

1. **Encode** the images over ``T`` steps as the run was trained (``current`` or ``rate``,
   ``u = x * enc_scale + enc_bias``). Inputs stay in ``[0, 1]``; this affine map is the only
   normalisation the runs use, and it lives here so that attack budgets (``eps``) are in
   pixel units.
2. **Fresh state every call.** Every ``snn`` model starts its neurons from rest at the start
   of each forward pass (``lif_sequence`` has no state across calls; the snnTorch reference
   resets its ``Leaky`` membranes there too), so two calls on the same input agree.
   A model that keeps state between calls must expose ``reset_state()``; it is called first.
3. **Read out** logits as the run's ``loss`` setting does: time-summed output spikes
   (``"count"``) or time-summed membrane (``"membrane"``), via :func:`logits_of`.
4. **Surrogate gradients stay on in eval mode.** The spike nonlinearity always uses its
   surrogate derivative in backward (there is no train-only switch), so input gradients exist
   in ``eval()``; without them gradient attacks would silently turn into random search.
5. **Expectation over transformation** (Athalye et al., 2018) for rate coding: with
   ``eot=N`` a call draws N independent spike encodings and returns the mean of their logits.
   The gradient of any function of these logits therefore uses the *average of the N
   per-encoding Jacobians* (the rate encoder's backward is straight-through, so each
   encoding has one). For a loss that is the gradient at the expected logits; averaging the N
   logits is linear, so ``d mean_i f_i / dx = mean_i d f_i / dx`` exactly (tested). Current
   coding is deterministic and ``eot`` has no effect there.

Image models that take ``[T, B, C, H, W]`` (convolutional, Flex VGG) and ANNs (which return
``SNNOutput(spikes=mem=logits[None])``) go through the same path: the adapter never flattens;
each model reshapes its own input.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn

from ..data import Encoding
from .mlp import SNNOutput, logits_of

READOUTS = ("count", "membrane")


class SNNClassifier(nn.Module):
    """``images [N, C, H, W] in [0, 1] -> logits [N, classes]`` for any ``snn`` model.

    Args:
        model: a network with ``forward(x_seq [T, B, ...], record=False) -> SNNOutput``.
        T: time steps to encode over.
        enc: ``"current"`` or ``"rate"``.
        enc_scale: encoder gain (``u = x * enc_scale + enc_bias``).
        enc_bias: encoder offset.
        readout: ``"count"`` (spike counts) or ``"membrane"`` (time-summed membrane).
        eot: encodings averaged per call (rate coding; 1 = a single draw).
        seed: seed of the adapter's own generator for rate-coded spikes; :meth:`reseed` restarts it.

    Shape:
        - input: ``[N, C, H, W]`` (or any ``[N, ...]`` the model accepts), values in ``[0, 1]``
        - output: ``[N, classes]``
    """

    def __init__(
        self, model: nn.Module, T: int, enc: str = "current", enc_scale: float = 1.0, enc_bias: float = 0.0,
        readout: str = "count", eot: int = 1, seed: int = 0,
    ):
        super().__init__()
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {', '.join(READOUTS)}, got {readout!r}")
        if eot < 1:
            raise ValueError(f"eot must be at least 1, got {eot}")
        if T < 1:
            raise ValueError(f"T must be at least 1, got {T}")
        self.model = model
        self.encoding = Encoding(T, enc, float(enc_scale), float(enc_bias))
        self.readout, self.eot, self.seed = readout, eot, seed
        self._generator: torch.Generator | None = None
        self.train(model.training)  # a new module defaults to training mode; keep the model's

    @classmethod
    def from_run(cls, model: nn.Module, cfg: Any, eot: int = 1, seed: int | None = None) -> "SNNClassifier":
        """The adapter for a model trained under ``cfg`` (anything with an ``encoding``, ``loss`` and
        ``seed``, e.g. a ``TrainConfig``)."""
        T, enc, scale, bias = cfg.encoding
        return cls(model, T=T, enc=enc, enc_scale=scale, enc_bias=bias, readout=cfg.loss, eot=eot,
                   seed=cfg.seed if seed is None else seed)

    @property
    def T(self) -> int:  # noqa: N802 - the time steps, as everywhere
        return self.encoding.T

    @property
    def enc(self) -> str:
        return self.encoding.kind

    @property
    def stochastic(self) -> bool:
        """True when two calls on the same input can differ (rate coding)."""
        return self.encoding.kind == "rate"

    def reseed(self, seed: int | None = None) -> None:
        """Restart the rate-coding generator (from ``seed``, or the adapter's own seed)."""
        if seed is not None:
            self.seed = seed
        self._generator = None

    def _gen(self, device: torch.device) -> torch.Generator | None:
        if not self.stochastic:
            return None
        if self._generator is None or self._generator.device != device:
            self._generator = torch.Generator(device=device).manual_seed(self.seed)
        return self._generator

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """One encoding of ``x``: ``[N, ...] -> [T, N, ...]``."""
        return self.encoding(x, generator=self._gen(x.device))

    def sequence(self, x: torch.Tensor, record: bool = False) -> SNNOutput:
        """The model's full output for one encoding of ``x`` (spikes, membrane, rates, layers if ``record``)."""
        reset = getattr(self.model, "reset_state", None)
        if callable(reset):
            reset()
        return self.model(self.encode(x), record=record)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        draws = self.eot if self.stochastic else 1
        total = None
        for _ in range(draws):
            logits = logits_of(self.sequence(x), self.readout).float()
            total = logits if total is None else total + logits
        return total / draws if draws > 1 else total
