"""Run under TRITON_INTERPRET=1 by test_triton.py: the Triton LIF kernels on CPU tensors against the
PyTorch loops, every path. Prints one line per case; exits non-zero on the first mismatch."""

import itertools
import sys

import torch

from snncli.neurons import LIFParams, lif, lif_sequence


def run(backend, cur, compact, constant, per_neuron, surrogate, through_time):
    lif.NATIVE, lif.BACKEND_OVERRIDE = backend == "triton", "triton" if backend == "triton" else None
    shape = (cur.shape[-1],) if per_neuron else ()
    x = cur.clone().requires_grad_()
    beta = torch.full(shape, 0.85, requires_grad=True)
    thr = torch.full(shape, 0.9, requires_grad=True)
    params = LIFParams(beta, thr, surrogate, through_time=through_time)
    spk, mem = lif_sequence(x, params, T=6 if constant else None, spike_dtype=torch.bfloat16 if compact else None,
                            compact=compact)
    w = torch.randn(spk.shape, generator=torch.Generator().manual_seed(5))
    loss = (spk.float() * w).sum() + (0 if mem is None else 0.1 * (mem * w).sum())
    loss.backward()
    return spk.float(), x.grad, beta.grad, thr.grad


def main():
    gen = torch.Generator().manual_seed(0)
    failures = 0
    for compact, constant, per_neuron, surrogate, through_time in itertools.product(
        (False, True), (False, True), (False, True), ("fast_sigmoid", "atan"), (True, False)
    ):
        shape = (3, 40) if constant else (6, 3, 40)
        cur = torch.randn(*shape, generator=gen) * 0.7 + 0.4
        ref = run("torch", cur, compact, constant, per_neuron, surrogate, through_time)
        got = run("triton", cur, compact, constant, per_neuron, surrogate, through_time)
        ok = torch.equal(ref[0], got[0])
        for a, b in zip(got[1:], ref[1:]):
            tol = 2e-2 if compact else 1e-4
            ok = ok and a.shape == b.shape and torch.allclose(a, b, rtol=tol, atol=tol * b.abs().max().item())
        print(f"compact={compact} constant={constant} per_neuron={per_neuron} {surrogate} stbp={through_time}: "
              f"{'ok' if ok else 'MISMATCH'}")
        failures += not ok
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
