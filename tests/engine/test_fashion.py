"""A short real-data run: Fashion-MNIST must be learned far above chance."""

from pathlib import Path

import pytest

from snncli.config import TrainConfig
from snncli.engine import train

FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.slow
@pytest.mark.skipif(not FASHION.is_dir(), reason="apt-get install dataset-fashion-mnist")
def test_short_fashion_mnist_run_beats_chance_by_far(tmp_path):
    cfg = TrainConfig(dataset="fashionmnist", model="mlp", hidden_dim=256, T=10, batch_size=128,
                      epochs=1, max_batches=120, out=tmp_path)
    result = train(cfg)
    assert result["data_source"].startswith(str(FASHION)) or "fashion" in result["data_source"]
    assert result["test_acc"] > 0.6  # chance: 0.1
