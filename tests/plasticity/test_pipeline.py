"""The post-training loop, the seed-layout state dict, and the baseline's new training terms."""

import pytest
import torch

from snncli.config import TrainConfig
from snncli.data.synthetic import make_synthetic
from snncli.jobs.plasticity import post_train_epoch, seed_state_dict
from snncli.engine.trainer import _check_identity, clip_parameters, spikes_per_sample
from snncli.models import create_model
from snncli.plasticity import get_rule

TINY = {"in_shape": (1, 28, 28), "num_classes": 10, "hidden_dim": 16, "T": 4}


def test_seed_state_dict_loads_into_the_seeds_snntorch_class_and_spikes_the_same():
    snn = pytest.importorskip("snntorch")
    torch.manual_seed(0)
    model = create_model("mlp", **TINY).eval()

    class SupervisedSNN(torch.nn.Module):  # the seed notebook's class (README), hidden size 16
        def __init__(self):
            super().__init__()
            self.fc1, self.lif1 = torch.nn.Linear(784, 16), snn.Leaky(beta=0.9)
            self.fc2, self.lif2 = torch.nn.Linear(16, 10), snn.Leaky(beta=0.9)

        def forward(self, x, num_steps):
            mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
            out = []
            for _ in range(num_steps):
                spk1, mem1 = self.lif1(self.fc1(x), mem1)
                spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
                out.append(spk2)
            return torch.stack(out)

    seed = SupervisedSNN()
    seed.load_state_dict(seed_state_dict(model))  # strict: every key present, none extra
    x = torch.rand(8, 784) * 3
    ours = model(x.unsqueeze(0).expand(4, 8, 784)).spikes
    assert ours.sum() > 0
    assert torch.equal(seed(x, 4), ours)


def test_post_training_changes_every_layer_keeps_biases_and_clips():
    torch.manual_seed(0)
    model = create_model("mlp", **TINY)
    tcfg = TrainConfig(model="mlp", dataset="synthetic", T=4, hidden_dim=16)
    data = make_synthetic(num_train=64, num_test=8).train
    before = [(l.weight.clone(), l.bias.clone()) for l in model.layers]
    n = post_train_epoch(model, data, tcfg, get_rule("hebb"), 1.0, {}, 16, 0.05, torch.Generator().manual_seed(0))
    assert n == 4
    for (w0, b0), layer in zip(before, model.layers):
        assert not torch.equal(layer.weight, w0)
        assert torch.equal(layer.bias, b0.clamp(-0.05, 0.05))  # rules leave biases alone; the clip does not
        assert layer.weight.abs().max() <= torch.tensor(0.05)
    assert (model.layers[0].weight == torch.tensor(0.05)).any()  # Hebbian growth ran into the bound


def test_spikes_per_sample_counts_every_layer_and_step():
    hidden = (torch.ones(3, 2, 4), torch.zeros(3, 2, 5))
    hidden[1][0, 1, 0] = 1.0
    assert spikes_per_sample(hidden).item() == pytest.approx((3 * 2 * 4 + 1) / 2)


def test_clip_parameters_bounds_weights_and_biases():
    lin = torch.nn.Linear(3, 2)
    with torch.no_grad():
        lin.weight.mul_(100)
        lin.bias.fill_(-7)
    clip_parameters(lin, 0.5)
    assert lin.weight.abs().max() <= 0.5 and torch.equal(lin.bias, torch.full((2,), -0.5))


def test_runs_written_before_alpha_reg_and_weight_clip_existed_still_resume(tmp_path):
    cfg = TrainConfig(model="mlp", dataset="synthetic")
    stored = cfg.model_dump(mode="json")
    del stored["alpha_reg"], stored["weight_clip"]
    _check_identity(stored, cfg, tmp_path / "x.pth")  # no error: missing means the default
    with pytest.raises(Exception, match="alpha_reg"):
        _check_identity(stored, cfg.model_copy(update={"alpha_reg": 1e-4}), tmp_path / "x.pth")
