r"""How a Flex layer decides, per output unit, between its convolution and its max-pool.

Three registries, one per stage of the decision (PlasticFlex's ``masks``, ``logits`` and
``joint`` modules):

- **logits** (:func:`register_logits`): a module ``(x, pool) -> logits`` shaped like the
  layer's output; large logits favour the convolution.
- **masks** (:func:`register_mask`): a function ``logits -> m``; the layer outputs
  :math:`y = m \odot c + (1 - m) \odot p` (convolution :math:`c`, pool :math:`p`).
- **joints** (:func:`register_joint`): a function ``(pool, conv) -> (y, m)`` that replaces
  logits and mask altogether.

Masks whose forward value and backward slope differ (straight-through estimators) are built on
:class:`_SlopeFunction`: the forward value and the slope are computed without autograd and the
backward pass is ``grad * slope``. That backward is itself differentiable in ``grad``, so the
networks stay twice differentiable for Hessian-vector products (the slope is a constant: the
mask's second derivative is 0).

Seed-name notation of the straight-through masks: **F**\ orward **P**\ lain / **S**\ igmoid /
**C**\ lamped, **B**\ ackward **P**\ lain (identity) / **S**\ igmoid (slope :math:`\sigma'`).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn as nn

from ..registry import Registry

__all__ = [
    "JOINTS",
    "LOGITS",
    "MASKS",
    "MaskEntry",
    "SpatialAttentionLogits",
    "ThresholdLogits",
    "create_logits",
    "joint_fn",
    "list_joints",
    "list_logits",
    "list_masks",
    "make_mask",
    "mask_entry",
    "register_joint",
    "register_logits",
    "register_mask",
    "resolve_name",
]


# ----------------------------------------------------------------------------- masks


class _SlopeFunction(torch.autograd.Function):
    """``value`` forward, ``grad * slope`` backward (both given, neither differentiated)."""

    @staticmethod
    def forward(ctx, logits: torch.Tensor, value: torch.Tensor, slope: torch.Tensor) -> torch.Tensor:  # noqa: ANN001
        ctx.save_for_backward(slope)
        return value

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # noqa: ANN001
        (slope,) = ctx.saved_tensors
        return grad * slope, None, None


def with_slope(logits: torch.Tensor, value: torch.Tensor, slope: torch.Tensor) -> torch.Tensor:
    """``value`` in the forward pass, ``d/dlogits = slope`` in the backward pass."""
    return _SlopeFunction.apply(logits, value.detach(), slope.detach())


def _dsigmoid(x: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(x)
    return s * (1 - s)


def _stochastic_round(p: torch.Tensor) -> torch.Tensor:
    """``floor(p) + Bernoulli(p - floor(p))``: unbiased rounding to a neighbouring integer."""
    low = p.floor()
    return low + (torch.rand_like(p) < p - low).to(p.dtype)


@dataclass(frozen=True)
class MaskEntry:
    """A registered masking mechanism.

    Attributes:
        name: registry key (the seed's spelling).
        fn: ``fn(logits, **options) -> mask``.
        binary: its forward values are exactly 0 or 1.
        stochastic: its forward pass draws random numbers.
        doc: first line of the docstring.
    """

    name: str
    fn: Callable[..., torch.Tensor]
    binary: bool
    stochastic: bool

    @property
    def doc(self) -> str:
        return (self.fn.__doc__ or "").strip().splitlines()[0]

    def __call__(self, logits: torch.Tensor, **options) -> torch.Tensor:
        accepted = inspect.signature(self.fn).parameters
        return self.fn(logits, **{k: v for k, v in options.items() if k in accepted})


#: Every masking mechanism by name (the seed's spellings).
MASKS: Registry[MaskEntry] = Registry("masking mechanism")


def register_mask(name: str, *, binary: bool = False, stochastic: bool = False):
    """Register ``fn(logits, **options) -> mask`` under ``name``."""

    def deco(fn):
        MASKS.add(name, MaskEntry(name, fn, binary, stochastic), binary=binary, stochastic=stochastic)
        return fn

    return deco


def list_masks() -> list[str]:
    """Names of all masking mechanisms, sorted."""
    return MASKS.names()


def resolve_name(name: str, names: list[str], kind: str) -> str:
    """``name`` spelled as registered (case-insensitive); ``ValueError`` listing ``names`` otherwise."""
    folded = {n.lower(): n for n in names}
    try:
        return folded[str(name).lower()]
    except KeyError:
        raise ValueError(f"unknown {kind} {name!r}; choose from {', '.join(names)}") from None


def mask_entry(name: str) -> MaskEntry:
    return MASKS[resolve_name(name, list_masks(), "masking mechanism")]


def make_mask(logits: torch.Tensor, mechanism: str, **options) -> torch.Tensor:
    """The routing mask of ``logits`` under the registered ``mechanism`` (options: ``sigmoid_mul_factor``)."""
    return mask_entry(mechanism)(logits, **options)


@register_mask("SIGMOID_HARD")
def sigmoid_hard(logits: torch.Tensor) -> torch.Tensor:
    r"""Hard sigmoid :math:`m = \mathrm{clamp}(\ell/6 + 1/2, 0, 1)`; slope 1/6 on :math:`|\ell| < 3`, else 0 (the seed's ``HardsigmoidFunc``)."""
    value = (logits / 6 + 0.5).clamp(0.0, 1.0)
    return with_slope(logits, value, (logits.abs() < 3).to(logits.dtype) / 6)


@register_mask("SIGMOID_SOFT")
def sigmoid_soft(logits: torch.Tensor) -> torch.Tensor:
    r"""Logistic sigmoid :math:`m = \sigma(\ell)`, its own derivative backward (the seed's ``NoneScaledSigmoid``)."""
    return torch.sigmoid(logits)


@register_mask("SIGMOID_MUL")
def sigmoid_mul(logits: torch.Tensor, sigmoid_mul_factor: float = 50.0) -> torch.Tensor:
    r"""Sharpened sigmoid :math:`m = \sigma(k \ell)`, :math:`k` = ``sigmoid_mul_factor`` (default 50, the seed's ``SharpScaledSigmoid``)."""
    return torch.sigmoid(logits * sigmoid_mul_factor)


@register_mask("STE", binary=True)
def ste(logits: torch.Tensor) -> torch.Tensor:
    r"""Step :math:`m = 1[\ell > 0]`, identity backward (straight-through estimator, Bengio et al. 2013); equals ``STE_FSBP``."""
    return with_slope(logits, (logits > 0).to(logits.dtype), torch.ones_like(logits))


@register_mask("STE_FPBP", binary=True)
def ste_fpbp(logits: torch.Tensor) -> torch.Tensor:
    r"""Step on the plain logits :math:`m = 1[\ell > 1/2]`, identity backward."""
    return with_slope(logits, (logits > 0.5).to(logits.dtype), torch.ones_like(logits))


@register_mask("STE_FPBS", binary=True)
def ste_fpbs(logits: torch.Tensor) -> torch.Tensor:
    r"""Step :math:`m = 1[\ell > 1/2]`, sigmoid slope :math:`\sigma'(\ell)` backward."""
    return with_slope(logits, (logits > 0.5).to(logits.dtype), _dsigmoid(logits))


@register_mask("STE_FSBP", binary=True)
def ste_fsbp(logits: torch.Tensor) -> torch.Tensor:
    r"""Step on the sigmoid :math:`m = 1[\sigma(\ell) > 1/2] = 1[\ell > 0]`, identity backward."""
    return with_slope(logits, (logits > 0).to(logits.dtype), torch.ones_like(logits))


@register_mask("STE_FSBS", binary=True)
def ste_fsbs(logits: torch.Tensor) -> torch.Tensor:
    r"""Step :math:`m = 1[\ell > 0]`, sigmoid slope :math:`\sigma'(\ell)` backward."""
    return with_slope(logits, (logits > 0).to(logits.dtype), _dsigmoid(logits))


@register_mask("StochasticRoundFPBP", stochastic=True)
def stochastic_fpbp(logits: torch.Tensor) -> torch.Tensor:
    r"""Stochastic rounding of the plain logits :math:`m = \lfloor\ell\rfloor + \mathrm{Bernoulli}(\ell - \lfloor\ell\rfloor)` (any integer), identity backward."""
    return with_slope(logits, _stochastic_round(logits), torch.ones_like(logits))


@register_mask("StochasticRoundFPBS", stochastic=True)
def stochastic_fpbs(logits: torch.Tensor) -> torch.Tensor:
    r"""Stochastic rounding of the plain logits (any integer), slope :math:`\sigma'(\ell)` backward."""
    return with_slope(logits, _stochastic_round(logits), _dsigmoid(logits))


@register_mask("StochasticRoundFSBP", binary=True, stochastic=True)
def stochastic_fsbp(logits: torch.Tensor) -> torch.Tensor:
    r""":math:`m \sim \mathrm{Bernoulli}(\sigma(\ell))`, identity backward."""
    return with_slope(logits, _stochastic_round(torch.sigmoid(logits)), torch.ones_like(logits))


@register_mask("StochasticRoundFSBS", binary=True, stochastic=True)
def stochastic_fsbs(logits: torch.Tensor) -> torch.Tensor:
    r""":math:`m \sim \mathrm{Bernoulli}(\sigma(\ell))`, slope :math:`\sigma'(\sigma(\ell))` backward (the seed differentiates the sigmoid it already applied)."""
    p = torch.sigmoid(logits)
    return with_slope(logits, _stochastic_round(p), _dsigmoid(p))


@register_mask("StochasticRoundFCBP", binary=True, stochastic=True)
def stochastic_fcbp(logits: torch.Tensor) -> torch.Tensor:
    r""":math:`m \sim \mathrm{Bernoulli}(\mathrm{clamp}(\ell, 0, 1))`, identity backward."""
    return with_slope(logits, _stochastic_round(logits.clamp(0.0, 1.0)), torch.ones_like(logits))


@register_mask("StochasticRoundFCBS", binary=True, stochastic=True)
def stochastic_fcbs(logits: torch.Tensor) -> torch.Tensor:
    r""":math:`m \sim \mathrm{Bernoulli}(\mathrm{clamp}(\ell, 0, 1))`, slope :math:`\sigma'(\mathrm{clamp}(\ell, 0, 1))` backward (as the seed)."""
    p = logits.clamp(0.0, 1.0)
    return with_slope(logits, _stochastic_round(p), _dsigmoid(p))


@register_mask("NONE", binary=True)
def no_mask(logits: torch.Tensor) -> torch.Tensor:
    """All ones: the plain convolution (the layer skips the pool and the logits)."""
    return torch.ones_like(logits)


# ----------------------------------------------------------------------------- logits

#: Every logits mechanism (a module class) by name.
LOGITS: Registry[type[nn.Module]] = Registry("logits mechanism")
#: the seed's config spellings of our logits names
LOGITS_ALIASES = {"spatialattentionblock": "SPATIAL_ATTENTION", "spatial_attention_block": "SPATIAL_ATTENTION"}


def register_logits(name: str):
    """Class decorator: register a logits module ``cls(in_channels, out_channels, geometry, out_hw, **options)``."""

    def deco(cls):
        LOGITS.add(name, cls)
        cls.name = name
        return cls

    return deco


def list_logits() -> list[str]:
    """Names of all logits mechanisms, sorted."""
    return LOGITS.names()


def logits_name(name: str) -> str:
    return resolve_name(LOGITS_ALIASES.get(str(name).lower(), name), list_logits(), "logits mechanism")


def create_logits(name: str, in_channels: int, out_channels: int, geometry: tuple[int, int, int],
                  out_hw: tuple[int, int], **options) -> nn.Module:
    """Build the registered logits module ``name`` for a Flex layer.

    Args:
        geometry: the layer's ``(kernel_size, stride, padding)``.
        out_hw: its output height and width.
        options: mechanism settings (``threshold``: ``learned``/``redrawn``; ``blocks``).
    """
    cls = LOGITS[logits_name(name)]
    accepted = inspect.signature(cls.__init__).parameters
    return cls(in_channels, out_channels, geometry, out_hw, **{k: v for k, v in options.items() if k in accepted})


@register_logits("THRESHOLD")
class ThresholdLogits(nn.Module):
    r"""Pooled input minus a threshold per output unit: :math:`\ell = p - \vartheta`, :math:`\vartheta \in \mathbb{R}^{C \times H \times W}`.

    ``threshold="learned"`` (default): :math:`\vartheta` is a parameter, initialised to 0 and
    trained. ``threshold="redrawn"``: the seed code's behaviour, whose threshold is replaced by a
    fresh draw at every forward pass (it compares a ``[C, H, W]`` tensor's shape with the batch's
    ``[B, C, H, W]``, which never match) and so is never trained:
    :math:`\vartheta \sim U(-b, b)`, :math:`b = \sqrt{6 / (C H W)}` (``kaiming_uniform_`` of a
    ``[1, C, H, W]`` tensor), at train and test time alike.
    """

    def __init__(self, in_channels: int, out_channels: int, geometry, out_hw, threshold: str = "learned"):
        super().__init__()
        if threshold not in ("learned", "redrawn"):
            raise ValueError(f"threshold must be 'learned' or 'redrawn', got {threshold!r}")
        self.mode = threshold
        shape = (1, out_channels, *out_hw)
        if threshold == "learned":
            self.threshold = nn.Parameter(torch.zeros(shape))
        else:
            self.register_buffer("threshold", torch.zeros(shape), persistent=False)
            self.bound = (6.0 / (out_channels * out_hw[0] * out_hw[1])) ** 0.5

    def forward(self, x: torch.Tensor, pool: torch.Tensor) -> torch.Tensor:
        if self.mode == "redrawn":
            self.threshold.uniform_(-self.bound, self.bound)
        return pool - self.threshold

    def extra_repr(self) -> str:
        return f"threshold={self.mode}"


@register_logits("SPATIAL_ATTENTION")
class SpatialAttentionLogits(nn.Module):
    r"""Logits computed from the layer's input by a small conv stack (the seed's ``SpatialAttentionBlock``).

    ``blocks`` times :math:`[\mathrm{Conv}_{3\times3}(C_{in} \to C_{in}) \to \mathrm{LeakyReLU} \to \mathrm{BN}]`,
    then a convolution :math:`C_{in} \to C_{out}` with the Flex layer's own kernel, stride and
    padding, LeakyReLU, BN. At the seed's 3x3 stride-1 layers this last convolution is its
    3x3 stride-1 padded one; the seed uses that geometry at every layer, which fails at its
    2x2 stride-2 layers (the logits are twice the pool's size), so ours follows the layer.
    """

    def __init__(self, in_channels: int, out_channels: int, geometry, out_hw, blocks: int = 1):
        super().__init__()
        k, s, p = geometry
        layers: list[nn.Module] = []
        for _ in range(blocks):
            layers += [nn.Conv2d(in_channels, in_channels, 3, 1, 1), nn.LeakyReLU(), nn.BatchNorm2d(in_channels)]
        layers += [nn.Conv2d(in_channels, out_channels, k, s, p), nn.LeakyReLU(), nn.BatchNorm2d(out_channels)]
        self.blocks = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, pool: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)


# ----------------------------------------------------------------------------- joints

JointFn = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
#: ``NONE`` (the layer uses logits and a mask) and every joint by name.
JOINTS: Registry[JointFn | None] = Registry("joint mechanism", {"NONE": None})


def register_joint(name: str):
    """Register ``fn(pool, conv) -> (output, mask)`` under ``name``."""

    def deco(fn: JointFn) -> JointFn:
        return JOINTS.add(name, fn)

    return deco


def list_joints() -> list[str]:
    """``NONE`` (logits and mask) and the registered joints, sorted."""
    return JOINTS.names()


def joint_fn(name: str | None) -> JointFn | None:
    """The joint registered as ``name``; ``None`` for ``NONE`` (the layer uses logits and a mask)."""
    return JOINTS[resolve_name(name or "NONE", list_joints(), "joint mechanism")]


@register_joint("CHANNELWISE_MAXPOOL")
def channelwise_maxpool(pool: torch.Tensor, conv: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Unit-wise maximum of the two paths, :math:`y = \max(c, p)`, :math:`m = 1[c > p]`.

    The gradient reaches only the larger path at each unit (ties go to the pool).
    """
    mask = (conv > pool).to(conv.dtype)
    return torch.where(conv > pool, conv, pool), mask

