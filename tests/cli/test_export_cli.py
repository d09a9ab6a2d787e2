"""`snn export --format nir`: the file holds the network, and snnTorch re-imports it with the same spikes
up to NIR's reset (docs/export.md)."""

import importlib.util
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from snncli.cli.app import app
from snncli.engine import load_run
from snncli.models import SNNClassifier, create_model
from snncli.models.nir_export import DT, ExportError, mlp_layers, to_nir

nir = pytest.importorskip("nir")


def _snn_semantics(graph, x_seq):
    """snn's neuron (subtract the threshold one step after a spike) run on the parameters the file holds."""
    h_seq, spikes = x_seq.flatten(2), []
    i = 0
    while f"fc{i}" in graph.nodes:
        fc, lif = graph.nodes[f"fc{i}"], graph.nodes[f"lif{i}"]
        w, b = torch.from_numpy(fc.weight), torch.from_numpy(fc.bias)
        beta = torch.from_numpy(1 - DT / lif.tau) if isinstance(lif, nir.LIF) else torch.ones(len(b))
        thr = torch.from_numpy(lif.v_threshold)
        u = s = torch.zeros(h_seq.shape[1], len(b))
        out = []
        for t in range(h_seq.shape[0]):
            u = beta * u + (h_seq[t] @ w.T + b) - thr * s
            s = (u > thr).float()
            out.append(s)
        h_seq = torch.stack(out)
        spikes.append(h_seq)
        i += 1
    return spikes


def _snntorch_spikes(graph, x_seq):
    """The graph re-imported by snnTorch (``import_from_nir``), stepped over time; spikes of every LIF layer."""
    import snntorch.utils
    from snntorch.import_nir import import_from_nir

    net = import_from_nir(graph)
    names = sorted(n for n, _ in net.named_children() if n.startswith("lif"))
    seen = {n: [] for n in names}
    for n in names:
        getattr(net, n).register_forward_hook(lambda m, i, o, n=n: seen[n].append(o[0] if isinstance(o, tuple) else o))
    snntorch.utils.reset(net)
    with torch.no_grad():
        for t in range(x_seq.shape[0]):
            net(x_seq[t].flatten(1))
    return [torch.stack(seen[n]).float() for n in names]


def _first_spike(s):
    T = s.shape[0]
    return torch.where(s.any(0), s.argmax(0), torch.full_like(s[0], T))


@pytest.fixture(scope="module")
def g2g():
    """An index-G2G network with per-neuron learned beta (varied), masks, and every layer firing 10-40%."""
    torch.manual_seed(0)
    net = create_model("index", in_shape=(1, 28, 28), num_classes=10, hidden_dim=64, learn_beta=True, per_neuron=True)
    net.eval().set_precision("fp32")
    # zero-mean currents: a G2G layer's initial weights sum negative, so [0, 1] images alone barely drive it
    x_seq = SNNClassifier(net, T=16, enc="current").encode(torch.randn(32, 1, 28, 28)).contiguous()
    with torch.no_grad():
        for neuron in net.neurons:
            neuron.beta.uniform_(0.6, 0.95)
        for i, layer in enumerate(net.layers):  # scale each layer's weights until it fires at a moderate rate
            w0, lo, hi = layer.weight.clone(), 0.0, 64.0
            for _ in range(30):
                k = (lo + hi) / 2
                layer.weight.copy_(w0 * k)
                rate = net(x_seq, record=True).hidden[i].float().mean().item()
                if 0.1 <= rate <= 0.4:
                    break
                lo, hi = (k, hi) if rate < 0.1 else (lo, k)
    return net, x_seq


def _read_back(graph):
    buf = io.BytesIO()
    nir.write(buf, graph)
    return nir.read(io.BytesIO(buf.getvalue()))


def test_file_holds_masked_weights_and_per_neuron_parameters(g2g):
    net, _ = g2g
    graph = _read_back(to_nir(net))
    for i, (layer, neuron) in enumerate(zip(net.layers, net.neurons)):
        w = graph.nodes[f"fc{i}"].weight
        expected = (layer.weight * layer.mask).detach().numpy() if layer.mask is not None else layer.weight.detach().numpy()
        assert np.array_equal(w, expected)
        assert layer.mask is None or (w[layer.mask.numpy() == 0] == 0).all()
        lif = graph.nodes[f"lif{i}"]
        assert lif.tau.shape == (layer.out_features,)
        np.testing.assert_allclose(1 - DT / lif.tau, neuron.beta.detach().numpy(), rtol=0, atol=1e-5)
    assert any(layer.mask is not None for layer in net.layers)  # a G2G model: some layer is masked


def test_round_trip_through_snntorch_matches_snn_spikes(g2g):
    """Tolerances: (1) the file's parameters under snn's neuron give snn's spikes; both are fp32 but summed in
    different orders, so a membrane within rounding of the threshold may cross in one and not the other:
    >= 99.9% of spikes agree. (2) snnTorch's importer builds NIR's LIF, which resets to zero in the step it
    spikes (snn subtracts the threshold one step later); the two agree exactly until a neuron's first spike,
    so first-layer first-spike times agree (>= 99.9%, rounding); later spikes differ by the reset only, and
    the predicted classes (output spike counts) agree on most samples."""
    net, x_seq = g2g
    with torch.no_grad():
        ours = [h.float() for h in net(x_seq, record=True).hidden]
    graph = _read_back(to_nir(net))
    for a, b in zip(ours, _snn_semantics(graph, x_seq)):
        assert a.mean() > 0.01  # the layer fires: the comparison means something
        assert (a == b).float().mean() >= 0.999
    theirs = _snntorch_spikes(graph, x_seq)
    assert [t.shape for t in theirs] == [o.shape for o in ours]
    assert (_first_spike(ours[0]) == _first_spike(theirs[0])).float().mean() >= 0.999
    counts_ours, counts_theirs = ours[-1].sum(0), theirs[-1].sum(0)
    assert (counts_ours.argmax(1) == counts_theirs.argmax(1)).float().mean() >= 0.5


def test_conv_models_are_refused_naming_the_missing_layers():
    from snncli.jobs.export import _refuse_conv

    net = create_model("simple_conv", in_shape=(3, 32, 32), num_classes=10)
    with pytest.raises(ExportError):
        list(mlp_layers(net))
    assert "MaxPool2d" in str(_refuse_conv(net, "simple_conv"))


def test_snn_export_cli(run_dir, tmp_path):
    res = CliRunner().invoke(app, ["export", str(run_dir), "--out", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    path = Path(result["file"])
    assert path.parent == tmp_path and path.suffix == ".nir"
    graph = nir.read(path)
    run = load_run(run_dir)
    for i, (w, b, beta, thr) in enumerate(mlp_layers(run.model)):
        assert np.array_equal(graph.nodes[f"fc{i}"].weight, w) and np.array_equal(graph.nodes[f"fc{i}"].bias, b)
    assert graph.metadata["model"] == run.cfg.model and graph.metadata["T"] == run.cfg.T
    assert [r["neurons"] for r in result["layers"]] == [run.cfg.hidden_dim] * (len(result["layers"]) - 1) + [10]


def test_snn_export_without_nir_exits_2_with_the_install_line(run_dir, tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nir" else real(name, *a))
    res = CliRunner().invoke(app, ["export", str(run_dir), "--out", str(tmp_path / "x")])
    assert res.exit_code == 2
    assert "pip install 'snncli[nir]'" in res.output and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_snn_export_bad_format_exits_2(run_dir, tmp_path):
    res = CliRunner().invoke(app, ["export", str(run_dir), "--format", "onnx", "--out", str(tmp_path / "y")])
    assert res.exit_code == 2 and not (tmp_path / "y").exists()
