"""What each engine optimisation buys: one training step of the seed's dense 3 x 2048 layout
(T 50, batch 256, current coding, bf16 products, count loss, Adam), with the optimisations
switched on one at a time.

Times are CPU seconds of this process at one thread (best of ``--repeats`` after a warm-up step),
so that the figures hold on a machine shared with other jobs. ``--weights`` takes a trained
state dict (``benchmarks/train_dense3.py``), so the event-driven products see real firing rates;
without it the network is at initialisation. Run: ``python benchmarks/ablation.py [--weights W]``.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
import torch.nn.functional as F

from snncli.data import encode
from snncli.engine.bench import cpu_model, load_average
from snncli.engine.device import keep_freed_memory, seed_everything
from snncli.models.mlp import SpikingMLP
from snncli.neurons import LIFParams, lif


def build(weights: str | None) -> SpikingMLP:
    model = SpikingMLP([784, 2048, 2048, 2048, 10], lif=LIFParams(0.9, 1.0, "atan"), T=50,
                       learn_beta=True, learn_threshold=True)
    if weights:
        model.load_state_dict(torch.load(weights, map_location="cpu"))
    model.set_precision("bf16")
    return model


def step_time(model: SpikingMLP, x: torch.Tensor, y: torch.Tensor, repeats: int) -> tuple[float, list[float]]:
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    state = {k: v.clone() for k, v in model.state_dict().items()}

    def step():
        out = model(encode(x, 50, "current"))
        loss = F.cross_entropy(out.spikes.sum(0), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return out

    out = step()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        out = step()
        best = min(best, time.process_time() - t0)
    model.load_state_dict(state)  # every configuration starts from the same weights
    return best, [round(r.item(), 4) for r in out.rates]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    keep_freed_memory()
    seed_everything(0)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(256, 1, 28, 28, generator=gen)
    y = torch.randint(0, 10, (256,), generator=gen)
    model = build(args.weights)
    print(f"# {cpu_model()}, torch {torch.__version__}, 1 thread, weights {args.weights or 'init'}, "
          f"load before {load_average()}", flush=True)
    configs = [
        ("NaN fill on, PyTorch LIF loops, dense products", True, False, None),
        ("+ no NaN fill", False, False, None),
        ("+ native one-pass LIF scans", False, True, None),
        ("+ event-driven products (input rate < 5%)", False, True, 0.05),
    ]
    for name, fill, native, max_rate in configs:
        torch.utils.deterministic.fill_uninitialized_memory = fill
        lif.NATIVE = native
        model.event_max_rate = max_rate
        t, rates = step_time(model, x, y, args.repeats)
        print(json.dumps({"config": name, "step_cpu_s": round(t, 3), "rates": rates,
                          "event_layers": model.last_event_layers, "load": load_average()}), flush=True)


if __name__ == "__main__":
    main()
