"""PlasticFlex's convolutional networks: VGG-6/11/16 and a small conv net, as ANNs or SNNs, with or without Flex.

A network is a layout of 3x3 convolutions (numbers: output channels, each followed by
BatchNorm and the activation) and downsampling layers (``"D"``: 2x2, stride 2, no activation),
then a classifier ``hidden -> hidden -> classes`` with dropout. With ``use_flex`` every
downsampling layer is a :class:`~snncli.models.flex.Flex2D` (conv or max-pool per unit); without,
it is a strided 2x2 convolution (VGGs, as in the seed) or a max-pool (``simple_conv``).

``spiking=False``: ReLU network, computed once per sample (see :meth:`ConvNet.forward`).
``spiking=True``: every activation is a LIF population run over the ``T`` steps of the input
sequence (:func:`snncli.neurons.lif_sequence`, the same fused neuron as the MLPs); the layers
between them process all ``T * B`` feature maps as one batch. ``use_stbp`` chooses
spatio-temporal backpropagation (BPTT) or the seed's gradient through space only. The default
surrogate is the arctangent (wide): through eight or more LIF layers the MLPs' narrow fast sigmoid
(slope 25) let the first layers' gradients vanish (norms ~1e-4 vs ~1 measured on vgg6).
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..neurons import LIFParams, lif_sequence
from ._registry import MODELS, register_model
from .flex import Flex2D
from .mlp import SNNOutput, is_time_constant

DOWN = "D"
LAYOUTS: dict[str, list] = {
    "vgg6": [64, 64, DOWN, 128, 128, DOWN],
    "vgg11": [64, DOWN, 128, DOWN, 256, 256, DOWN, 512, 512, DOWN, 512, 512, DOWN],
    "vgg16": [64, 64, DOWN, 128, 128, DOWN, 256, 256, 256, DOWN, 512, 512, 512, DOWN, 512, 512, 512, DOWN],
    "simple_conv": [32, DOWN, 64, DOWN, 128, DOWN, 256, DOWN],
}


class ConvNet(nn.Module):
    """A layout of conv and downsampling layers plus an MLP classifier; ANN or SNN; Flex or plain.

    Args:
        layout: channels of each 3x3 conv, and :data:`DOWN` for each 2x2 stride-2 downsampling.
        in_shape: input ``(C, H, W)``.
        num_classes: outputs.
        hidden: widths of the classifier's hidden layers (batch-normalised in an SNN with ``batchnorm``).
        batchnorm: BatchNorm after every 3x3 conv.
        plain_downsample: ``"conv"`` (strided conv) or ``"pool"`` (max-pool) when not ``use_flex``.
        dropout: after every hidden classifier layer.
        spiking: LIF neurons over time instead of ReLU.
        lif: neuron parameters (``through_time=False``: no STBP).
        T: default time steps (used by encoders and adapters).
        use_flex: downsampling layers are Flex layers, configured by ``flex``.
        flex: keyword arguments of :class:`Flex2D` (masking, logits, logits_bn, conv_pool_ratio).
        width: channel multiplier (small networks for tests and CPUs).
    """

    def __init__(
        self, layout: Sequence, in_shape: Sequence[int], num_classes: int, hidden: Sequence[int],
        batchnorm: bool = True, plain_downsample: str = "conv", dropout: float = 0.5, spiking: bool = False,
        lif: LIFParams = LIFParams(), T: int = 4, use_flex: bool = False, flex: dict | None = None, width: float = 1.0,
    ):
        super().__init__()
        c, h, w = (int(v) for v in in_shape)
        self.spiking, self.lif, self.T = spiking, lif, T
        self.features = nn.ModuleList()
        self.kinds: list[str] = []  # "conv" layers are followed by the activation, "down" ones are not
        for item in layout:
            if item == DOWN:
                if h < 2 or w < 2:
                    raise ValueError(
                        f"input {tuple(in_shape)} is too small for {sum(i == DOWN for i in layout)} 2x2 downsamplings"
                    )
                if use_flex:
                    layer = Flex2D(c, c, 2, (h, w), stride=2, **(flex or {}))
                elif plain_downsample == "pool":
                    layer = nn.MaxPool2d(2, 2)
                else:
                    layer = nn.Conv2d(c, c, 2, stride=2)
                h, w = h // 2, w // 2
                self.features.append(layer)
                self.kinds.append("down")
            else:
                out = max(1, round(int(item) * width))
                conv = nn.Conv2d(c, out, 3, padding=1, bias=not batchnorm)
                self.features.append(nn.Sequential(conv, nn.BatchNorm2d(out)) if batchnorm else conv)
                self.kinds.append("conv")
                c = out
        sizes = [c * h * w, *hidden]
        # An SNN's hidden classifier layers are batch-normalised too: with plain init their currents
        # stay far below threshold, nothing fires, and the surrogate gradient vanishes (measured).
        norm = spiking and batchnorm
        self.hidden = nn.ModuleList(
            nn.Sequential(nn.Linear(i, o), nn.BatchNorm1d(o)) if norm else nn.Linear(i, o)
            for i, o in zip(sizes[:-1], sizes[1:])
        )
        self.readout = nn.Linear(sizes[-1], num_classes)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x_seq: torch.Tensor, record: bool = False) -> SNNOutput:
        """Classify an encoded input.

        Args:
            x_seq: ``[T, B, C, H, W]``.
            record: also return every activation layer's output (``hidden``).

        Returns:
            :class:`SNNOutput`. SNN: ``spikes`` are the output layer's LIF spikes ``[T, B, classes]``,
            ``mem`` the readout currents that drive them (a non-firing readout: summed over T they
            are the class scores of ``--loss membrane``), ``rates`` one per LIF layer. ANN: the
            network runs once on ``x_seq[0]`` when the sequence is constant over time (current
            coding), else on its mean over T (the expected input of rate coding); ``spikes`` and
            ``mem`` are both the logits as ``[1, B, classes]``, ``rates`` is empty.
        """
        if not self.spiking:
            return self._forward_ann(x_seq, record)
        return self._forward_snn(x_seq, record)

    def _forward_ann(self, x_seq: torch.Tensor, record: bool) -> SNNOutput:
        x = x_seq[0] if is_time_constant(x_seq) or x_seq.shape[0] == 1 else x_seq.mean(0)
        hidden = []
        for kind, layer in zip(self.kinds, self.features):
            x = layer(x)
            if kind == "conv":
                x = F.relu(x)
                if record:
                    hidden.append(x[None])
        x = x.flatten(1)
        for layer in self.hidden:
            x = self.dropout(F.relu(layer(x)))
            if record:
                hidden.append(x[None])
        logits = self.readout(x)[None]
        return SNNOutput(spikes=logits, mem=logits, rates=(), hidden=tuple(hidden) if record else None)

    def _spike(self, cur: torch.Tensor, T: int, constant: bool) -> torch.Tensor:
        """LIF over time; ``cur`` is ``[T*B, ...]`` (or ``[B, ...]`` repeated T times when ``constant``)."""
        seq = cur if constant else cur.reshape(T, -1, *cur.shape[1:])
        spk, _ = lif_sequence(seq, self.lif, T=T if constant else None)
        return spk

    def _forward_snn(self, x_seq: torch.Tensor, record: bool) -> SNNOutput:
        T = x_seq.shape[0]
        constant = is_time_constant(x_seq)
        # Constant current: the first conv (and its BN) sees B distinct inputs, computed once.
        x = x_seq[0] if constant else x_seq.flatten(0, 1)
        hidden, rates = [], []

        def fire(cur: torch.Tensor, first: bool) -> torch.Tensor:
            spk = self._spike(cur, T, constant and first)
            rates.append(spk.mean())
            if record:
                hidden.append(spk)
            return spk.flatten(0, 1)

        first = True
        for kind, layer in zip(self.kinds, self.features):
            if kind == "conv":
                x = fire(layer(x), first)
                first = False
            elif isinstance(layer, Flex2D):
                x = layer(x, steps=T)
            else:
                x = layer(x)
        x = x.flatten(1)
        for layer in self.hidden:
            x = self.dropout(fire(layer(x), first))
            first = False
        cur = self.readout(x).reshape(T, -1, self.readout.out_features)
        spk, _ = lif_sequence(cur, self.lif)
        rates.append(spk.mean())
        if record:
            hidden.append(spk)
        return SNNOutput(spikes=spk, mem=cur, rates=tuple(rates), hidden=tuple(hidden) if record else None)


#: Training defaults of the conv family beyond its signature: cross-entropy on the time-summed membrane.
CONV_DEFAULTS = {"loss": "membrane"}


def _conv_variant(name: str, hidden_dim: int, dropout: float, batchnorm: bool, plain_downsample: str, doc: str):
    def variant(
        *, in_shape: Sequence[int] = (3, 32, 32), num_classes: int = 10, hidden_dim: int = hidden_dim,
        T: int = 4, width: float = 1.0, dropout: float = dropout, spiking: bool = False, use_stbp: bool = True,
        beta: float = 0.95, threshold: float = 1.0, surrogate: str = "atan", use_flex: bool = False,
        masking_mechanism: str = "SIGMOID_HARD", logits_mechanism: str = "THRESHOLD",
        logits_use_batchnorm: bool = True, conv_pool_ratio: Sequence[float] = (1.0, 1.0),
    ) -> ConvNet:
        hidden = [hidden_dim] if name == "simple_conv" else [hidden_dim, hidden_dim]
        lif = LIFParams(beta=beta, threshold=threshold, surrogate=surrogate, through_time=bool(use_stbp))
        flex = dict(masking=masking_mechanism, logits=logits_mechanism, logits_bn=logits_use_batchnorm,
                    conv_pool_ratio=tuple(conv_pool_ratio))
        return ConvNet(
            LAYOUTS[name], in_shape, num_classes, hidden, batchnorm=batchnorm, plain_downsample=plain_downsample,
            dropout=dropout, spiking=spiking, lif=lif, T=T, use_flex=use_flex, flex=flex, width=width,
        )

    variant.__name__ = variant.__qualname__ = name
    variant.__doc__ = doc
    return variant


register_model(family="conv", defaults=CONV_DEFAULTS)(_conv_variant(
    "vgg11", 1024, 0.5, True, "conv",
    "PlasticFlex's VGG-11: 64-D-128-D-256-256-D-512-512-D-512-512-D (3x3 conv + BN; D: 2x2 stride 2), "
    "classifier 1024-1024-classes with dropout 0.5.",
))
register_model(family="conv", defaults=CONV_DEFAULTS)(_conv_variant(
    "vgg6", 256, 0.2, True, "conv",
    "PlasticFlex's VGG-6 (its MNIST network): 64-64-D-128-128-D, classifier 256-256-classes, dropout 0.2.",
))
register_model(family="conv", defaults=CONV_DEFAULTS)(_conv_variant(
    "vgg16", 4096, 0.5, True, "conv",
    "VGG-16 layout with PlasticFlex's downsampling: 64x2-D-128x2-D-256x3-D-512x3-D-512x3-D, classifier 4096-4096-classes.",
))
register_model(family="conv", defaults=CONV_DEFAULTS)(_conv_variant(
    "simple_conv", 128, 0.0, False, "pool",
    "PlasticFlex's small conv net: 32-D-64-D-128-D-256-D (3x3 conv, no BN; D: max-pool or Flex), classifier 128-classes.",
))


def is_conv_model(name: str) -> bool:
    """Whether ``name`` is registered in the conv family (they take Flex and ANN/SNN settings)."""
    return name in MODELS.names(family="conv")
