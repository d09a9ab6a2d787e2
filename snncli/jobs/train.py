"""``snn train`` and ``snn dst``: the job is the training engine's :func:`~snncli.engine.trainer.train`."""

from ..engine.trainer import TrainResult, train

__all__ = ["TrainResult", "train"]
