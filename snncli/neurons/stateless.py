r"""The PlasticFlex seed's "spiking" activation: a stateless step with no membrane and no time.

The seed's conv networks call this activation ``SpikingActivation``; it keeps no state between
calls and sees each input once, so it is a nonlinearity of a rate-free ANN, not a neuron model:

- with a surrogate (the seed's ``use_STBP`` true): :math:`s = 1[x > 0]` forward, the slope of
  :math:`0.3 \tanh(x)` backward, :math:`\partial s / \partial x = 0.3\,(1 - \tanh^2 x)`;
- without (``use_STBP`` false, which is what every seed config ran, as they spell the key
  ``use_stbp``): :math:`s = \mathrm{clamp}(x, 0, 1)`, a ReLU capped at 1, not a spike at all.

``snn``'s spiking networks use LIF neurons over T steps instead (:mod:`snncli.neurons.lif`);
this activation is there to reproduce the seed's numbers (``--neuron heaviside``).
"""

from __future__ import annotations

import torch

#: the seed's surrogate scale: ``d s / d x = SCALE * (1 - tanh(x)^2)``
SCALE = 0.3


def stateless_spike(x: torch.Tensor, straight_through: bool = True) -> torch.Tensor:
    """The seed's activation: ``1[x > 0]`` with the ``0.3 tanh`` straight-through slope, or ``clamp(x, 0, 1)``.

    Twice differentiable (the surrogate term is an ordinary tanh), so Hessian tools run through it.

    Shape:
        any; the output has ``x``'s shape and dtype.
    """
    if not straight_through:
        return x.clamp(0.0, 1.0)
    smooth = SCALE * torch.tanh(x)
    return (x > 0).to(x.dtype) + (smooth - smooth.detach())
