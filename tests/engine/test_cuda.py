"""CUDA paths: the fused engine on the GPU agrees with the CPU (skipped without a GPU)."""

import pytest
import torch
import torch.nn.functional as F

from snncli.models import create_model


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["dense", "mixer", "mlp"])
def test_cuda_fp32_matches_cpu(name):
    torch.manual_seed(0)
    model = create_model(name, hidden_dim=256, T=10)
    with torch.no_grad():
        for layer in model.layers:
            layer.weight.mul_(4.0)
    gpu = create_model(name, hidden_dim=256, T=10).cuda()
    gpu.load_state_dict(model.state_dict())
    x = torch.rand(16, 1, 28, 28)
    y = torch.randint(0, 10, (16,))
    out = model(x.expand(10, *x.shape), record=True)
    out_gpu = gpu(x.cuda().expand(10, *x.shape), record=True)
    for h, g in zip(out.hidden, out_gpu.hidden):
        assert (h != g.cpu()).float().mean() < 1e-3  # TF32/ordering may flip a rare spike
    F.cross_entropy(out.spikes.sum(0), y).backward()
    F.cross_entropy(out_gpu.spikes.sum(0), y.cuda()).backward()
    for a, b in zip(model.layers, gpu.layers):
        cos = F.cosine_similarity(a.weight.grad.flatten(), b.weight.grad.cpu().flatten(), dim=0)
        assert cos > 0.99


@pytest.mark.gpu
def test_cuda_bf16_training_step_runs_without_nan():
    model = create_model("dense", hidden_dim=512, T=8).cuda()
    model.set_precision("bf16")
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.rand(32, 1, 28, 28, device="cuda")
    y = torch.randint(0, 10, (32,), device="cuda")
    loss = F.cross_entropy(model(x.expand(8, *x.shape)).spikes.sum(0), y)
    loss.backward()
    opt.step()
    assert torch.isfinite(loss) and all(torch.isfinite(p).all() for p in model.parameters())
