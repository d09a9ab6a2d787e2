"""On-device crop + flip, and the epoch-wise learning-rate schedules."""

import math

import pytest
import torch
import torch.nn.functional as F

from snncli.config import TrainConfig
from snncli.engine.augment import random_crop_flip
from snncli.engine.trainer import lr_at


def test_crop_flip_cuts_windows_of_the_padded_image_and_mirrors_about_half():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).view(2, 3, 8, 8).repeat(100, 1, 1, 1)
    out = random_crop_flip(x, torch.Generator().manual_seed(0), pad=2)
    assert out.shape == x.shape
    padded = F.pad(x, (2, 2, 2, 2))
    flipped = 0
    for i in range(len(x)):
        windows = [padded[i, :, r : r + 8, c : c + 8] for r in range(5) for c in range(5)]
        plain = any(torch.equal(out[i], w) for w in windows)
        mirrored = any(torch.equal(out[i].flip(-1), w) for w in windows)
        assert plain or mirrored
        flipped += mirrored and not plain
    assert 60 < flipped < 140
    again = random_crop_flip(x, torch.Generator().manual_seed(0), pad=2)
    assert torch.equal(out, again)  # drawn from the generator only: resumable


def test_lr_schedules():
    cos = TrainConfig(lr=0.1, epochs=4, lr_schedule="cosine")
    assert [round(lr_at(cos, e), 6) for e in range(4)] == [0.1, round(0.05 * (1 + math.cos(math.pi / 4)), 6), 0.05,
                                                           round(0.05 * (1 + math.cos(3 * math.pi / 4)), 6)]
    step = TrainConfig(lr=0.1, epochs=10, lr_schedule="step", lr_step=3, lr_gamma=0.5)
    assert [lr_at(step, e) for e in (0, 2, 3, 6, 9)] == pytest.approx([0.1, 0.1, 0.05, 0.025, 0.0125])
    assert lr_at(TrainConfig(lr=0.1), 7) == 0.1


def test_augmentation_defaults_to_crop_flip_for_cifar_shaped_data_only():
    assert TrainConfig(dataset="synthetic-cifar", model="vgg6").augment == "crop-flip"
    assert TrainConfig(dataset="synthetic").augment == "none"


def test_input_noise_is_gaussian_in_normalised_units():
    from snncli.engine.augment import add_input_noise

    x = torch.full((4000, 3, 4, 4), 0.5)
    out = add_input_noise(x, 0.1, torch.Generator().manual_seed(0), scale=(0.2, 0.4, 1.0))
    per_channel = (out - x).transpose(0, 1).reshape(3, -1)
    assert per_channel.mean(1).abs().max() < 0.002
    torch.testing.assert_close(per_channel.std(1), torch.tensor([0.02, 0.04, 0.1]), rtol=0.02, atol=0)
    assert out.max() > 0.5 + 0.1 * 3  # not clipped (the seed does not clip)
    assert add_input_noise(x, 0.0, torch.Generator()) is x
    again = add_input_noise(x, 0.1, torch.Generator().manual_seed(0), scale=(0.2, 0.4, 1.0))
    assert torch.equal(out, again)


def test_batchnorm_recalibration_is_the_plain_mean_of_batch_statistics():
    from snncli.data import ImageSet
    from snncli.engine.trainer import recalibrate_batchnorm
    from snncli.models import create_model, flex_layers

    torch.manual_seed(0)
    model = create_model("vgg6", in_shape=(3, 8, 8), num_classes=2, width=0.125, hidden_dim=4, use_flex=True).train()
    data = ImageSet(torch.randint(0, 256, (40, 3, 8, 8), dtype=torch.uint8), torch.arange(40) % 2, ["a", "b"], "t")
    cfg = TrainConfig(model="vgg6", dataset="synthetic-cifar", batch_size=10, bn_recalibrate=3, T=1)
    first_bn = flex_layers(model)[0].bn
    seen = []
    first_bn.register_forward_hook(lambda m, inp, out: seen.append(inp[0].mean((0, 2, 3))) if m.training else None)
    used = recalibrate_batchnorm(model, data, cfg, torch.device("cpu"), epoch=0)
    assert used == 3 and len(seen) == 3 and model.training and first_bn.momentum == 0.1
    torch.testing.assert_close(first_bn.running_mean, torch.stack(seen).mean(0))
    assert flex_layers(model)[0].epoch_stats()["conv_ratio"] != flex_layers(model)[0].epoch_stats()["conv_ratio"]  # NaN: not counted
