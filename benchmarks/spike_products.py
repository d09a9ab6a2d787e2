"""Spike-sparse (event-driven) products against dense bf16 products: where is the crossover?

Part 1 (synthetic): one 2048 -> 2048 hidden layer over T*B = 50*256 = 12,800 spike rows at
firing rates from 0.4% to 20% (the G2G seed's trained dense network logs 3.6%, 0.54% and 0.44%
for its three hidden layers): forward product and weight-gradient product, event-driven
(``snncli.neurons.events``) against the dense bf16 matmuls ``snn`` uses otherwise.

Part 2 (trained, with ``--checkpoint``): the per-layer spike matrices of a trained 784-2048x3-10
network on Fashion-MNIST test images, each product timed both ways at the rates that network
really has (``benchmarks/train_dense3.py`` writes such a checkpoint).

Times are CPU seconds of this process (``time.process_time``) at one thread, best of
``--repeats``: on a machine shared with other jobs that is what the kernel itself costs, where
wall time would mostly measure the neighbours. Run: ``python benchmarks/spike_products.py``.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from snncli.engine.bench import cpu_model, load_average
from snncli.engine.device import keep_freed_memory
from snncli.neurons import events as ev

RATES = (0.0044, 0.0054, 0.01, 0.02, 0.036, 0.06, 0.1, 0.15, 0.2)


def cpu_ms(fn, repeats: int) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best * 1e3


def products(spikes: torch.Tensor, weight: torch.Tensor, grad: torch.Tensor, repeats: int) -> dict:
    """Times (ms) of forward and weight-gradient products for one layer, both ways."""
    s16, w16, g16 = spikes.bfloat16(), weight.bfloat16(), grad.bfloat16()
    rowptr, idx = ev.events(s16)
    return {
        "rate": float(rowptr[-1]) / spikes.numel(),
        "events_list": cpu_ms(lambda: ev.events(s16), repeats),
        "events_fwd": cpu_ms(lambda: ev.events_matmul(rowptr, idx, w16, None, torch.bfloat16), repeats),
        "events_grad_w": cpu_ms(lambda: ev.events_weight_grad(rowptr, idx, spikes.shape[1], g16), repeats),
        "dense_fwd": cpu_ms(lambda: s16 @ w16.t(), repeats),
        "dense_grad_w": cpu_ms(lambda: g16.t() @ s16, repeats),
    }


def crossover(rows: list[dict]) -> float | None:
    """Firing rate where event-driven (list + forward + weight gradient) costs what dense does,
    interpolated linearly between the measured rates; ``None`` if one side always wins."""
    def margin(r):
        return (r["events_list"] + r["events_fwd"] + r["events_grad_w"]) - (r["dense_fwd"] + r["dense_grad_w"])

    for a, b in zip(rows, rows[1:]):
        if margin(a) <= 0 < margin(b):
            return a["rate"] + (b["rate"] - a["rate"]) * (-margin(a)) / (margin(b) - margin(a))
    return None


def synthetic(repeats: int) -> list[dict]:
    gen = torch.Generator().manual_seed(0)
    weight = torch.randn(2048, 2048, generator=gen) * 0.02
    grad = torch.randn(12800, 2048, generator=gen)
    rows = []
    for rate in RATES:
        spikes = (torch.rand(12800, 2048, generator=gen) < rate).float()
        rows.append(products(spikes, weight, grad, repeats))
        print(json.dumps({k: round(v, 5 if k == "rate" else 1) for k, v in rows[-1].items()}), flush=True)
    return rows


def trained(checkpoint: str, repeats: int) -> list[dict]:
    from snncli.data import encode, load_dataset
    from snncli.models.mlp import SpikingMLP
    from snncli.neurons import LIFParams

    state = torch.load(checkpoint, map_location="cpu")
    model = SpikingMLP([784, 2048, 2048, 2048, 10], lif=LIFParams(0.9, 1.0, "atan"), T=50,
                       learn_beta=True, learn_threshold=True)
    model.load_state_dict(state)
    model.set_precision("bf16")
    data = load_dataset("fashionmnist", download=False)
    x = data.test.x[:256].float() / 255.0
    with torch.no_grad():
        out = model(encode(x, 50, "current"), record=True)
    rows = []
    gen = torch.Generator().manual_seed(1)
    for i, spk in enumerate(out.hidden[:-1]):  # spikes of hidden layer i feed layer i + 1
        layer = model.layers[i + 1]
        flat = spk.reshape(-1, spk.shape[-1]).float()
        grad = torch.randn(flat.shape[0], layer.out_features, generator=gen)
        r = products(flat, layer.effective_weight().detach(), grad, repeats)
        r["layer"] = f"hidden {i + 1} -> layer {i + 2} ({layer.in_features} -> {layer.out_features})"
        rows.append(r)
        print(json.dumps({k: (round(v, 5 if k == "rate" else 1) if isinstance(v, float) else v) for k, v in r.items()}),
              flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="state dict of a trained 784-2048x3-10 SpikingMLP (learned beta/threshold)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-synthetic", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    keep_freed_memory()
    print(f"# {cpu_model()}, torch {torch.__version__}, 1 thread, load before {load_average()}", flush=True)
    if not args.skip_synthetic:
        rows = synthetic(args.repeats)
        print(f"# crossover (list + forward + weight gradient): {crossover(rows)}", flush=True)
    if args.checkpoint:
        trained(args.checkpoint, args.repeats)
    print(f"# load after {load_average()}")


if __name__ == "__main__":
    main()
