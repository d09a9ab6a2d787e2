"""graphed_step: the eager step off CUDA (the reference path of the captured GPU step), captured on CUDA."""

import pytest
import torch
import torch.nn.functional as F

from snncli.engine.graphs import graphed_step
from snncli.models import create_model


def _step_fn(model, opt):
    def step(x, y):
        out = model(x.unsqueeze(0).expand(model.T, *x.shape))
        loss = F.cross_entropy(out.spikes.sum(0), y)
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()
        return loss.detach()

    return step


def _run(device):
    torch.manual_seed(0)
    model = create_model("dense", in_shape=(1, 4, 4), num_classes=3, hidden_dim=32, T=5).to(device)
    opt = torch.optim.Adam(model.parameters(), 1e-3, capturable=device.type == "cuda")
    x = torch.rand(6, 1, 4, 4, device=device) * 3
    y = torch.arange(6, device=device) % 3
    run, how = graphed_step(_step_fn(model, opt), x, y)
    losses = [run(x, y).item() for _ in range(3)]
    return how, losses


def test_off_cuda_the_step_stays_eager_and_trains():
    how, losses = _run(torch.device("cpu"))
    assert how.startswith("eager")
    assert losses[-1] < losses[0]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_graph_replays_the_step():
    how, losses = _run(torch.device("cuda"))
    assert how == "cuda graph", how
    assert losses[-1] < losses[0]
