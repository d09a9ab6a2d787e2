"""Mean/std normalisation as the encoders' affine map."""

import pytest
import torch

from snncli.data import MNIST_MEAN_STD, ImageSet, MeanStd, encode, pixel_mean_std, resolve_normalization


def images(values):
    x = torch.tensor(values, dtype=torch.uint8).reshape(len(values), 1, 1, -1)
    return ImageSet(x=x, y=torch.zeros(len(values), dtype=torch.long), classes=["a"], name="tiny")


def test_pixel_mean_std_is_the_population_statistic_over_every_pixel_in_unit_range():
    data = images([[0, 255], [255, 255]])  # pixels 0, 1, 1, 1 -> mean 0.75, std sqrt(0.1875)
    assert pixel_mean_std(data) == MeanStd(0.75, round(0.1875**0.5, 4))
    with pytest.raises(ValueError, match="same value"):
        pixel_mean_std(images([[7, 7]]))


def test_affine_of_mean_std_in_the_current_encoder_is_x_minus_mean_over_std():
    scale, bias = MeanStd(*MNIST_MEAN_STD).affine()
    x = torch.tensor([[0.0, 0.5, 1.0]])
    seq = encode(x, 3, "current", scale, bias)
    assert torch.allclose(seq[2], (x - 0.1307) / 0.3081)
    assert seq[0, 0, 0].item() == pytest.approx(-0.4242, abs=1e-4)  # the seed's printed minimum


def test_resolve_normalization_names():
    data = images([[0, 255], [255, 255]])
    assert resolve_normalization("none", data) is None
    assert resolve_normalization("mnist", data) == MeanStd(0.1307, 0.3081)
    assert resolve_normalization("dataset", data) == pixel_mean_std(data)
    with pytest.raises(ValueError, match="choose from dataset, mnist, none"):
        resolve_normalization("zscore", data)
