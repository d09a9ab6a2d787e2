"""snncli: train, sparsify, attack and analyse spiking neural networks from one `snn` command."""

__version__ = "0.1.0"
