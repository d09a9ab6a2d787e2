"""snncli: train, sparsify, attack and analyse spiking neural networks from one `snn` command."""

from ._version import __version__
