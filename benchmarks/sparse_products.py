"""Which product wins for a G2G hidden layer (2048 -> 2048, T*B = 12800 spike rows) at each p_inter?

Candidates: the masked dense product (fp32 and bf16, what `snn` uses), a CSR sparse weight
(torch.sparse.mm), and for p_inter = 0 with index grouping a block-diagonal batched product.
Forward only; run: python benchmarks/sparse_products.py
"""

from __future__ import annotations

import time
import warnings

import torch

from snncli.engine.device import keep_freed_memory
from snncli.sparsity import assign_groups, g2g_mask


def timed(fn, repeats: int = 3) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def main() -> None:
    warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
    keep_freed_memory()
    n, rows, groups = 2048, 12800, 8
    gen = torch.Generator().manual_seed(0)
    spikes = (torch.rand(rows, n, generator=gen) < 0.1).float()
    spikes_bf16 = spikes.bfloat16()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; spike rate 0.10; times in ms (best of 3)")
    print("| p_inter | density | masked fp32 | masked bf16 | CSR fp32 | block-diag fp32 (p=0) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for p in (0.0, 0.05, 0.15, 0.3, 0.5):
        pre = assign_groups(n, groups, "index", 1)
        post = assign_groups(n, groups, "index", 2)
        mask = g2g_mask(pre, post, p, gen)
        w = torch.randn(n, n, generator=gen) * 0.02 * mask
        t_fp32 = timed(lambda: spikes @ (w * mask).t())
        wb = (w * mask).bfloat16()
        t_bf16 = timed(lambda: spikes_bf16 @ wb.t())
        csr = (w * mask).to_sparse_csr()
        spikes_t = spikes.t().contiguous()
        t_csr = timed(lambda: torch.sparse.mm(csr, spikes_t), 1)  # [n, rows] = W @ S^T
        block = ""
        if p == 0.0:
            blocks = torch.stack([w[i * 256:(i + 1) * 256, i * 256:(i + 1) * 256] for i in range(groups)])
            x = spikes.view(rows, groups, 256).transpose(0, 1)
            block = f"{timed(lambda: torch.bmm(x, blocks.transpose(1, 2))):.1f}"
        print(f"| {p} | {mask.mean():.3f} | {t_fp32:.1f} | {t_bf16:.1f} | {t_csr:.1f} | {block} |")


if __name__ == "__main__":
    main()
