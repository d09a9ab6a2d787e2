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


def test_post_training_changes_every_layer_in_full_batches_and_clips_weights_only_unless_asked():
    data = make_synthetic(num_train=70, num_test=8).train  # 4 full batches of 16, 6 images left over
    tcfg = TrainConfig(model="mlp", dataset="synthetic", T=4, hidden_dim=16)
    for clip_biases in (False, True):
        torch.manual_seed(0)
        model = create_model("mlp", **TINY)
        before = [(l.weight.clone(), l.bias.clone()) for l in model.layers]
        seen = []
        n = post_train_epoch(model, data, tcfg, get_rule("hebb"), 1.0, {}, 16, 0.05, torch.Generator().manual_seed(0),
                             on_batch=seen.append, clip_biases=clip_biases)
        assert n == 4 and seen == [0, 1, 2, 3]
        for (w0, b0), layer in zip(before, model.layers):
            assert not torch.equal(layer.weight, w0)
            assert layer.weight.abs().max() <= torch.tensor(0.05)
            # Rules leave biases alone; only --clip-biases clamps them.
            assert torch.equal(layer.bias, b0.clamp(-0.05, 0.05) if clip_biases else b0)
        assert (model.layers[0].weight == torch.tensor(0.05)).any()  # Hebbian growth ran into the bound


def test_one_post_training_batch_equals_the_seed_notebooks_step_on_its_snntorch_network():
    """The seed's post-training step, written out as its notebook computes it (einsum Hebbian term minus
    lambda times the anti-Hebbian term, transposed, clamped), on the seed's snnTorch network."""
    snn = pytest.importorskip("snntorch")
    from snntorch import surrogate

    torch.manual_seed(1)
    model = create_model("mlp", **TINY).eval()
    with torch.no_grad():
        model.layers[1].weight.mul_(4)  # a livelier output layer, so both layers' updates are non-trivial
    scale, bias = 1 / 0.3081, -0.1307 / 0.3081
    tcfg = TrainConfig(model="mlp", dataset="synthetic", T=4, hidden_dim=16, enc_scale=scale, enc_bias=bias)
    data = make_synthetic(num_train=32, num_test=8).train

    class SupervisedSNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            grad = surrogate.fast_sigmoid()
            self.fc1, self.lif1 = torch.nn.Linear(784, 16), snn.Leaky(beta=0.9, spike_grad=grad)
            self.fc2, self.lif2 = torch.nn.Linear(16, 10), snn.Leaky(beta=0.9, spike_grad=grad)

    seed = SupervisedSNN()
    seed.load_state_dict(seed_state_dict(model))
    start = [l.weight.clone() for l in model.layers]
    eta, lam = 1e-2, 0.5
    with torch.no_grad():
        x = (data.x.float().flatten(1) / 255 - 0.1307) / 0.3081
        B = x.shape[0]
        mem1, mem2 = torch.zeros(B, 16), torch.zeros(B, 10)
        s1, s2 = [], []
        for _ in range(4):
            spk1, mem1 = seed.lif1(seed.fc1(x), mem1)
            spk2, mem2 = seed.lif2(seed.fc2(spk1), mem2)
            s1.append(spk1)
            s2.append(spk2)
        r1, r2 = torch.stack(s1).mean(0), torch.stack(s2).mean(0)
        assert r2.sum() > 0 and r1.sum() > 0
        for fc, pre, post in ((seed.fc1, x, r1), (seed.fc2, r1, r2)):
            hebb = torch.einsum("bi,bj->ij", pre, post) / B
            anti = torch.einsum("bi,bk->ik", pre, post.mean(dim=1, keepdim=True)) / B
            fc.weight.data = torch.clamp(fc.weight.data + (eta * (hebb - lam * anti)).T, -1.0, 1.0)

    n = post_train_epoch(model, data, tcfg, get_rule("hebb-anti-hebb"), eta, {"lambda_ltd": lam}, 32, 1.0,
                         torch.Generator().manual_seed(0))
    assert n == 1
    for fc, layer in ((seed.fc1, model.layers[0]), (seed.fc2, model.layers[1])):
        assert torch.allclose(layer.weight, fc.weight, rtol=0, atol=1e-6)
        assert torch.equal(layer.bias, fc.bias)
    assert all((l.weight - w0).abs().max() > 1e-3 for l, w0 in zip(model.layers, start))  # both layers really moved


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


def test_the_seed_settings_reach_the_baseline_config_and_normalisation_names_the_folder():
    from snncli.config.plasticity import PlasticityConfig
    from snncli.data import MeanStd

    cfg = PlasticityConfig()
    assert (cfg.rule, cfg.eta, cfg.lambda_ltd, cfg.post_clip, cfg.clip_biases) == ("hebb-anti-hebb", [1e-5, 1e-4], 0.5, 1.0, False)
    tcfg = cfg.train_config(MeanStd(0.1307, 0.3081))
    assert (tcfg.surrogate, tcfg.alpha_reg, tcfg.alpha_reg_term, tcfg.weight_clip) == ("fast_sigmoid", 1e-4, "output-mean", None)
    assert tcfg.enc_scale == pytest.approx(1 / 0.3081) and tcfg.enc_bias == pytest.approx(-0.1307 / 0.3081)
    assert (cfg.train_config(None).enc_scale, cfg.train_config(None).enc_bias) == (1.0, 0.0)
    assert cfg.folder_name() == "plasticity_fashionmnist_mlp512_T25_current"
    assert PlasticityConfig(normalize="none").folder_name() == "plasticity_fashionmnist_mlp512_T25_current_norm-none"


def test_eta_tags_and_regimes_are_the_seeds():
    from snncli.jobs.plasticity.common import eta_tag, regimes

    assert [eta_tag(e) for e in (1e-5, 1e-4, 2.5e-4, 0.001, 1.0)] == ["1e-5", "1e-4", "2.5e-4", "1e-3", "1e0"]
    assert regimes([1e-4, 1e-5]) == {1e-5: "gentle", 1e-4: "strong"}
    assert regimes([1e-5, 3e-5, 1e-4]) == {1e-5: "gentle", 3e-5: "medium", 1e-4: "strong"}
    assert regimes([1e-4]) == {1e-4: "gentle"}
