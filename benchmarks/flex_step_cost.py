"""CPU cost of one VGG-6 training step: Flex at every convolution (the seed's) vs at the downsamplings only.

Both networks live in one process and alternate, so the ratio holds under a shared machine's load
(CPU seconds of this process, one torch thread; the minimum of --repeats steps after a warm-up).

    python benchmarks/flex_step_cost.py            # ANN
    python benchmarks/flex_step_cost.py --T 4      # LIF SNN, T = 4, STBP
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from snncli.models import create_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--T", type=int, default=0, help="time steps of a LIF SNN (0: the ANN)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x = torch.rand(args.batch_size, 3, 28, 28)
    y = torch.randint(0, 10, (args.batch_size,))
    x_seq = x[None].expand(max(args.T, 1), *x.shape)
    spiking = dict(spiking=True, T=args.T, use_stbp=True) if args.T else dict(spiking=False)
    models = {fl: create_model("vgg6", in_shape=(3, 28, 28), num_classes=10, use_flex=True, flex_layers=fl, **spiking)
              for fl in ("all", "downsample")}
    optimizers = {fl: torch.optim.Adam(m.parameters(), 1e-3) for fl, m in models.items()}

    def step(fl: str) -> float:
        start = time.process_time()
        optimizers[fl].zero_grad()
        F.cross_entropy(models[fl](x_seq).mem.sum(0), y).backward()
        optimizers[fl].step()
        return time.process_time() - start

    for fl in models:
        step(fl)
    times = {fl: [] for fl in models}
    for _ in range(args.repeats):
        for fl in models:
            times[fl].append(step(fl))
    for fl, ts in times.items():
        print(f"{fl:10s} CPU s per step: " + ", ".join(f"{t:.3f}" for t in ts))
    print(f"ratio all / downsample (minimum): {min(times['all']) / min(times['downsample']):.2f}")


if __name__ == "__main__":
    main()
