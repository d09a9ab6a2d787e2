"""PlasticFlex's convolutional networks: VGG-6/11/16, a small conv net and SimpleFlexNet, as ANNs or SNNs, with or without Flex.

A network is a layout of 3x3 convolutions (numbers: output channels, each followed by
BatchNorm and the activation), downsampling layers (``"D"``: 2x2, stride 2, no activation) and
plain max-pools (``"M"``: 2x2, stride 2, never Flex), then a classifier ``hidden -> ... ->
classes`` with dropout.

With ``use_flex`` the convolutions become :class:`~snncli.models.flex.Flex2D` layers, as the
seed builds them: ``flex_layers="all"`` (default, the seed) makes *every* convolution a Flex
layer (each 3x3 stride-1 convolution gets a padded 3x3 stride-1 max-pool, its channels
interpolated onto the convolution's; each 2x2 stride-2 downsampling a 2x2 stride-2 max-pool);
``flex_layers="downsample"`` only the downsampling ones. Without Flex a downsampling is a strided
2x2 convolution (VGGs, as in the seed) or a max-pool (``simple_conv``).

``spiking=False``: ReLU network, computed once per sample (see :meth:`ConvNet.forward`).
``spiking=True`` with ``neuron="lif"`` (default): every activation is a LIF population run over
the ``T`` steps of the input sequence (:func:`snncli.neurons.lif_sequence`, the same fused
neuron as the MLPs); the layers between them process all ``T * B`` feature maps as one batch.
``use_stbp`` chooses spatio-temporal backpropagation (BPTT) or the seed's gradient through space
only. The default surrogate is the arctangent (wide): through eight or more LIF layers the MLPs'
narrow fast sigmoid (slope 25) let the first layers' gradients vanish (norms ~1e-4 vs ~1
measured on vgg6). ``neuron="heaviside"`` is the seed code's stateless activation
(:func:`snncli.neurons.stateless_spike`): one pass, no membrane, no time.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..neurons import LIFParams, lif_sequence, stateless_spike
from ._registry import MODELS, register_model
from .flex import FLEX_LAYERS, Flex2D
from .mlp import SNNOutput, is_time_constant

DOWN = "D"
POOL = "M"
LAYOUTS: dict[str, list] = {
    "vgg6": [64, 64, DOWN, 128, 128, DOWN],
    "vgg11": [64, DOWN, 128, DOWN, 256, 256, DOWN, 512, 512, DOWN, 512, 512, DOWN],
    "vgg16": [64, 64, DOWN, 128, 128, DOWN, 256, 256, 256, DOWN, 512, 512, 512, DOWN, 512, 512, 512, DOWN],
    "simple_conv": [32, DOWN, 64, DOWN, 128, DOWN, 256, DOWN],
    "simple_flex": [16, 32, POOL, 64, 128, POOL],
}
NEURONS = ("lif", "heaviside")
INITS = ("torch", "kaiming")


class ConvUnit(nn.Sequential):
    """A 3x3 convolution (plain or Flex) and its BatchNorm; ``forward(x, steps)`` as a Flex layer's.

    A ``Sequential`` (children ``0``, ``1``), so parameter names are those of checkpoints written
    before Flex layers could sit at the 3x3 convolutions.
    """

    def __init__(self, conv: nn.Module, bn: nn.Module | None):
        super().__init__(conv, bn) if bn is not None else super().__init__(conv)

    def forward(self, x: torch.Tensor, steps: int = 1) -> torch.Tensor:
        conv = self[0]
        x = conv(x, steps=steps) if isinstance(conv, Flex2D) else conv(x)
        return self[1](x) if len(self) > 1 else x


def seed_init_(model: nn.Module) -> nn.Module:
    """The seed's ``apply_kaiming_initialization``: every convolution ``kaiming_normal_`` (fan in,
    leaky-ReLU gain with slope 0, i.e. sqrt(2)) with zero bias; linear layers keep torch's init."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, nonlinearity="leaky_relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


class ConvNet(nn.Module):
    """A layout of conv, downsampling and pooling layers plus an MLP classifier; ANN or SNN; Flex or plain.

    Args:
        layout: channels of each 3x3 conv, :data:`DOWN` for a 2x2 stride-2 downsampling,
            :data:`POOL` for a plain 2x2 max-pool.
        in_shape: input ``(C, H, W)``.
        num_classes: outputs.
        hidden: widths of the classifier's hidden layers (batch-normalised in a LIF SNN with ``batchnorm``).
        batchnorm: BatchNorm after every 3x3 conv.
        plain_downsample: ``"conv"`` (strided conv) or ``"pool"`` (max-pool) for a non-Flex :data:`DOWN`.
        dropout: after every hidden classifier layer.
        spiking: spiking activations instead of ReLU.
        lif: LIF neuron parameters (``through_time=False``: no STBP).
        T: default time steps (used by encoders and adapters).
        use_flex: convolutions are Flex layers, configured by ``flex``.
        flex_layers: ``"all"`` convolutions (the seed) or only the ``"downsample"`` ones.
        flex: keyword arguments of :class:`Flex2D` (masking, logits, logits_bn, conv_pool_ratio, joint, ...).
        width: channel multiplier (small networks for tests and CPUs).
        neuron: ``"lif"`` or the seed's stateless ``"heaviside"`` (with ``spiking``).
        init: ``"torch"`` (default initialisation) or the seed's ``"kaiming"`` (:func:`seed_init_`).
        input_norm: per-channel ``(mean, std)`` the input is normalised with inside the model
            (one value each: every channel), so inputs and attack budgets stay in pixel units.
        freeze_first_fc: the seed's first classifier layer, never trained (it creates that layer
            lazily, after its optimiser): keep it at its initial weights.
    """

    def __init__(
        self, layout: Sequence, in_shape: Sequence[int], num_classes: int, hidden: Sequence[int],
        batchnorm: bool = True, plain_downsample: str = "conv", dropout: float = 0.5, spiking: bool = False,
        lif: LIFParams = LIFParams(), T: int = 4, use_flex: bool = False, flex_layers: str = "all",
        flex: dict | None = None, width: float = 1.0, neuron: str = "lif", init: str = "torch",
        input_norm: tuple[Sequence[float], Sequence[float]] | None = None, freeze_first_fc: bool = False,
    ):
        super().__init__()
        for name, value, allowed in (("flex_layers", flex_layers, FLEX_LAYERS), ("neuron", neuron, NEURONS),
                                     ("init", init, INITS)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        c, h, w = (int(v) for v in in_shape)
        self.spiking, self.lif, self.T, self.neuron = spiking, lif, T, neuron
        self.features = nn.ModuleList()
        self.kinds: list[str] = []  # "conv" layers are followed by the activation, "down"/"pool" ones are not
        flex = flex or {}
        for item in layout:
            if item in (DOWN, POOL):
                if h < 2 or w < 2:
                    n = sum(i in (DOWN, POOL) for i in layout)
                    raise ValueError(f"input {tuple(in_shape)} is too small for {n} 2x2 downsamplings")
                if item == DOWN and use_flex:
                    layer = Flex2D(c, c, 2, (h, w), stride=2, **flex)
                elif item == POOL or plain_downsample == "pool":
                    layer = nn.MaxPool2d(2, 2)
                else:
                    layer = nn.Conv2d(c, c, 2, stride=2)
                h, w = h // 2, w // 2
                self.features.append(layer)
                self.kinds.append("down" if item == DOWN else "pool")
            else:
                out = max(1, round(int(item) * width))
                if use_flex and flex_layers == "all":
                    conv = Flex2D(c, out, 3, (h, w), stride=1, padding=1, **flex)
                else:
                    conv = nn.Conv2d(c, out, 3, padding=1, bias=not batchnorm)
                self.features.append(ConvUnit(conv, nn.BatchNorm2d(out) if batchnorm else None))
                self.kinds.append("conv")
                c = out
        sizes = [c * h * w, *hidden]
        # A LIF SNN's hidden classifier layers are batch-normalised too: with plain init their currents
        # stay far below threshold, nothing fires, and the surrogate gradient vanishes (measured).
        norm = self.uses_lif and batchnorm
        self.hidden = nn.ModuleList(
            nn.Sequential(nn.Linear(i, o), nn.BatchNorm1d(o)) if norm else nn.Linear(i, o)
            for i, o in zip(sizes[:-1], sizes[1:])
        )
        self.readout = nn.Linear(sizes[-1], num_classes)
        self.dropout = nn.Dropout(dropout)
        if input_norm is not None:
            mean, std = (torch.tensor([float(v) for v in s]).view(-1, 1, 1) for s in input_norm)
            if (std <= 0).any():
                raise ValueError(f"input_norm: standard deviations must be positive, got {std.flatten().tolist()}")
            self.register_buffer("input_mean", mean)
            self.register_buffer("input_std", std)
        else:
            self.input_mean = self.input_std = None
        if init == "kaiming":
            seed_init_(self)
        if freeze_first_fc and self.hidden:
            first = self.hidden[0][0] if isinstance(self.hidden[0], nn.Sequential) else self.hidden[0]
            first.requires_grad_(False)

    @property
    def uses_lif(self) -> bool:
        return self.spiking and self.neuron == "lif"

    def _act(self, x: torch.Tensor) -> torch.Tensor:
        if self.spiking:  # the seed's stateless spike; its STBP flag chooses the surrogate or a clamp
            return stateless_spike(x, straight_through=self.lif.through_time)
        return F.relu(x)

    def _normalise(self, x_seq: torch.Tensor) -> torch.Tensor:
        if self.input_mean is None:
            return x_seq
        return (x_seq - self.input_mean) / self.input_std

    def forward(self, x_seq: torch.Tensor, record: bool = False) -> SNNOutput:
        """Classify an encoded input.

        Args:
            x_seq: ``[T, B, C, H, W]`` (pixel units; ``input_norm`` is applied here).
            record: also return every activation layer's output (``hidden``).

        Returns:
            :class:`SNNOutput`. LIF SNN: ``spikes`` are the output layer's LIF spikes ``[T, B, classes]``,
            ``mem`` the readout currents that drive them (a non-firing readout: summed over T they
            are the class scores of ``--loss membrane``), ``rates`` one per LIF layer. ANN and
            the stateless ``heaviside`` network: it runs once on ``x_seq[0]`` when the sequence is
            constant over time (current coding), else on its mean over T (the expected input of
            rate coding); ``spikes`` and ``mem`` are both the logits as ``[1, B, classes]``,
            ``rates`` is empty, ``hidden`` ends with the logits.
        """
        x_seq = self._normalise(x_seq)
        if not self.uses_lif:
            return self._forward_once(x_seq, record)
        return self._forward_snn(x_seq, record)

    def _forward_once(self, x_seq: torch.Tensor, record: bool) -> SNNOutput:
        x = x_seq[0] if is_time_constant(x_seq) or x_seq.shape[0] == 1 else x_seq.mean(0)
        hidden = []
        for kind, layer in zip(self.kinds, self.features):
            x = layer(x)
            if kind == "conv":
                x = self._act(x)
                if record:
                    hidden.append(x[None])
        x = x.flatten(1)
        for layer in self.hidden:
            x = self.dropout(self._act(layer(x)))
            if record:
                hidden.append(x[None])
        logits = self.readout(x)[None]
        if record:  # output last, as the LIF network's output spikes (what per-layer figures read the prediction from)
            hidden.append(logits)
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
                x = fire(layer(x, steps=1 if (constant and first) else T), first)
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


def _conv_variant(name: str, hidden_dim: int, n_hidden: int, dropout: float, batchnorm: bool, plain_downsample: str,
                  use_flex: bool, doc: str):
    def variant(
        *, in_shape: Sequence[int] = (3, 32, 32), num_classes: int = 10, hidden_dim: int = hidden_dim,
        T: int = 4, width: float = 1.0, dropout: float = dropout, spiking: bool = False, use_stbp: bool = True,
        beta: float = 0.95, threshold: float = 1.0, surrogate: str = "atan", use_flex: bool = use_flex,
        flex_layers: str = "all", masking_mechanism: str = "SIGMOID_HARD", logits_mechanism: str = "THRESHOLD",
        logits_use_batchnorm: bool = True, conv_pool_ratio: Sequence[float] = (1.0, 1.0),
        joint_mechanism: str = "NONE", flex_threshold: str = "learned", sigmoid_mul_factor: float = 50.0,
        attention_blocks: int = 1, neuron: str = "lif", init: str = "torch",
        input_norm: tuple[Sequence[float], Sequence[float]] | None = None, freeze_first_fc: bool = False,
    ) -> ConvNet:
        lif = LIFParams(beta=beta, threshold=threshold, surrogate=surrogate, through_time=bool(use_stbp))
        flex = dict(masking=masking_mechanism, logits=logits_mechanism, logits_bn=logits_use_batchnorm,
                    conv_pool_ratio=tuple(conv_pool_ratio), joint=joint_mechanism, threshold=flex_threshold,
                    sigmoid_mul_factor=sigmoid_mul_factor, attention_blocks=attention_blocks)
        return ConvNet(
            LAYOUTS[name], in_shape, num_classes, [hidden_dim] * n_hidden, batchnorm=batchnorm,
            plain_downsample=plain_downsample, dropout=dropout, spiking=spiking, lif=lif, T=T, use_flex=use_flex,
            flex_layers=flex_layers, flex=flex, width=width, neuron=neuron, init=init, input_norm=input_norm,
            freeze_first_fc=freeze_first_fc,
        )

    variant.__name__ = variant.__qualname__ = name
    variant.__doc__ = doc
    return variant


register_model(family="conv", defaults=CONV_DEFAULTS)(_conv_variant(
    "vgg11", 1024, 2, 0.5, True, "conv", False,
    "PlasticFlex's VGG-11: 64-D-128-D-256-256-D-512-512-D-512-512-D (3x3 conv + BN; D: 2x2 stride 2), "
    "classifier 1024-1024-classes with dropout 0.5.",
))
register_model(family="conv", defaults=CONV_DEFAULTS)(_conv_variant(
    "vgg6", 256, 2, 0.2, True, "conv", False,
    "PlasticFlex's VGG-6 (its MNIST network): 64-64-D-128-128-D, classifier 256-256-classes, dropout 0.2.",
))
register_model(family="conv", defaults=CONV_DEFAULTS)(_conv_variant(
    "vgg16", 4096, 2, 0.5, True, "conv", False,
    "VGG-16 layout with PlasticFlex's downsampling: 64x2-D-128x2-D-256x3-D-512x3-D-512x3-D, classifier 4096-4096-classes.",
))
register_model(family="conv", defaults=CONV_DEFAULTS)(_conv_variant(
    "simple_conv", 128, 1, 0.0, False, "pool", False,
    "PlasticFlex's small conv net: 32-D-64-D-128-D-256-D (3x3 conv, no BN; D: max-pool or Flex), classifier 128-classes.",
))
register_model(family="conv", defaults=CONV_DEFAULTS)(_conv_variant(
    "simple_flex", 128, 2, 0.2, False, "pool", True,
    "PlasticFlex's SimpleFlexNet: four 3x3 Flex convs 16-32-M-64-128-M (no BN; M: 2x2 max-pool, never Flex), "
    "classifier 128-128-classes, dropout 0.2; Flex on by default (use_flex=False: plain convs).",
))


def is_conv_model(name: str) -> bool:
    """Whether ``name`` is registered in the conv family (they take Flex and ANN/SNN settings)."""
    return name in MODELS.names(family="conv")
