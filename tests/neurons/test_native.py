"""The one-pass C scans: same results as the PyTorch loops, and a clean fallback without a compiler."""

import os
import platform
import subprocess
import sys

import pytest
import torch

from snncli.neurons import LIFParams, _native, lif, lif_sequence


@pytest.fixture
def both(scan_engine, monkeypatch):
    if scan_engine != "native":
        pytest.skip("compares both engines itself")

    def run(fn):
        out = []
        for native in (True, False):
            monkeypatch.setattr(lif, "NATIVE", native)
            out.append(fn())
        return out

    return run


@pytest.mark.parametrize("compact", [False, True])
@pytest.mark.parametrize("constant", [False, True])
@pytest.mark.parametrize("per_neuron", [False, True])
def test_native_equals_torch_loops(both, compact, constant, per_neuron):
    gen = torch.Generator().manual_seed(0)
    shape = (6, 33) if constant else (20, 6, 33)
    cur = (torch.randn(*shape, generator=gen) * 0.7 + 0.4).bfloat16()
    w = torch.randn(20, 6, 33, generator=gen)
    coef_shape = (33,) if per_neuron else ()

    def run():
        x = cur.clone().requires_grad_()
        beta = torch.full(coef_shape, 0.85, requires_grad=True)
        thr = torch.full(coef_shape, 0.9, requires_grad=True)
        spk, mem = lif_sequence(x, LIFParams(beta, thr, "atan"), T=20 if constant else None,
                                spike_dtype=torch.bfloat16, compact=compact)
        loss = (spk.float() * w).sum() + (0 if mem is None else 0.1 * (mem * w).sum())
        loss.backward()
        return spk, x.grad, beta.grad, thr.grad

    (s1, *g1), (s2, *g2) = both(run)
    assert s1.dtype == s2.dtype == torch.bfloat16
    assert 0.05 < s1.float().mean() < 0.95
    assert torch.equal(s1, s2)
    for a, b in zip(g1, g2):
        assert a.dtype == b.dtype and a.shape == b.shape
        # Same formulas; the torch loop's fused multiply-add can move U by one ulp, which can move
        # the compact path's bf16 copy of U by one bf16 ulp (2^-8); sums may group differently.
        rtol = 1e-2 if compact or a.dtype == torch.bfloat16 else 1e-4
        torch.testing.assert_close(a.float(), b.float(), rtol=rtol, atol=1e-4 * b.float().abs().max().item())


def test_native_membrane_is_bit_identical_to_snntorch_arithmetic(both):
    """The C scan rounds (beta U + I) - theta S exactly as snnTorch's separate ops do."""
    import snntorch as snn

    cur = torch.randn(25, 4, 300, generator=torch.Generator().manual_seed(1)) * 0.8 + 0.35
    leaky = snn.Leaky(beta=0.9, threshold=1.0)
    mem, mems = leaky.reset_mem(), []
    for t in range(25):
        _, mem = leaky(cur[t], mem)
        mems.append(mem)
    native, _ = both(lambda: lif_sequence(cur, LIFParams(0.9, 1.0))[1])
    assert torch.equal(native, torch.stack(mems))


def test_without_a_compiler_the_torch_loops_run(tmp_path, scan_engine):
    if scan_engine != "native":
        pytest.skip("one run is enough")
    code = (
        "import torch; from snncli.neurons import _native, lif_sequence, LIFParams\n"
        "spk, _ = lif_sequence(torch.ones(5, 2, 3) * 0.6, LIFParams())\n"
        "assert _native.library() is None\n"
        "print(_native.status()); print(int(spk.sum()))\n"
    )
    env = {**os.environ, "CC": str(tmp_path / "no-such-cc"), "SNNCLI_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert "no C compiler" in out
    assert out.split()[-1] == "12"  # 0.6, 1.14 (spike), 0.626, 1.16 (spike), 0.65: two spikes x 6 neurons
    assert not (tmp_path / "cache").exists()


def test_status_names_the_library():
    assert _native.status()


_WIDE = (
    "import torch; from snncli.neurons import _native, lif_sequence, LIFParams\n"
    "torch.set_num_threads(2)\n"
    "g = torch.Generator().manual_seed(3)\n"
    "x = (torch.randn(9, 2, 2100, generator=g) * 0.7 + 0.4).requires_grad_()\n"
    "b = torch.tensor(0.8, requires_grad=True)\n"
    "spk, mem = lif_sequence(x, LIFParams(b, 1.0, 'fast_sigmoid'))\n"
    "(spk * torch.randn(spk.shape, generator=g) + 0.1 * mem).sum().backward()\n"
    "print(_native.status())\n"
    "torch.save([spk, mem, x.grad, b.grad], {out!r})\n"
)


def test_threaded_scans_agree_on_openmp_and_pthreads(tmp_path, scan_engine):
    """A scan wide enough for two threads gives the same bits on torch's OpenMP pool and on pthreads
    (every element is independent; per-thread parameter sums are added in thread order)."""
    if scan_engine != "native":
        pytest.skip("one run is enough")
    runs = {}
    for openmp in ("1", "0"):
        out = tmp_path / f"omp{openmp}.pt"
        env = {**os.environ, "SNNCLI_OPENMP": openmp, "SNNCLI_CACHE_DIR": str(tmp_path / f"cache{openmp}")}
        proc = subprocess.run([sys.executable, "-c", _WIDE.format(out=str(out))], env=env, capture_output=True,
                              text=True, check=True)
        runs[openmp] = (proc.stdout, torch.load(out))
    assert "pthreads" in runs["0"][0]
    for a, b in zip(runs["1"][1], runs["0"][1]):
        assert torch.equal(a, b)
    spk = runs["1"][1][0]
    assert 0.05 < spk.mean() < 0.95


def test_threaded_scans_equal_the_torch_loops(both):
    """Blocks split across threads (M = 4200 > 2 x 1024) give the loops' results."""
    torch.set_num_threads(2)
    gen = torch.Generator().manual_seed(5)
    cur = torch.randn(9, 2, 2100, generator=gen) * 0.7 + 0.4
    w = torch.randn(9, 2, 2100, generator=gen)

    def run():
        x = cur.clone().requires_grad_()
        spk, mem = lif_sequence(x, LIFParams(0.8, 1.0, "fast_sigmoid"))
        (spk * w + 0.1 * mem).sum().backward()
        return spk, mem, x.grad

    (s1, m1, g1), (s2, m2, g2) = both(run)
    assert torch.equal(s1, s2)
    # the loops' autograd path may fuse a multiply-add (one ulp); the C scan rounds each op
    torch.testing.assert_close(m1, m2, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(g1, g2, rtol=1e-4, atol=1e-4 * g2.abs().max().item())


_PORTABLE = '''
import torch, torch.nn.functional as F
from snncli.neurons import _native, events, lif_sequence, LIFParams
from snncli.models.layers import MaskedLinear
torch.set_num_threads(2)
g = torch.Generator().manual_seed(11)
spk = (torch.rand(70, 300, generator=g) < 0.08)
for dt in (torch.float32, torch.bfloat16, torch.bool):
    rowptr, idx = events.events(spk.to(dt))
    assert torch.equal(idx.long(), spk.float().nonzero()[:, 1]), dt
s = spk.to(torch.bfloat16)
w = torch.randn(90, 300, generator=g)
rowptr, idx = events.events(s)
ref = s.float() @ w.t().bfloat16().float()
out = events.events_matmul(rowptr, idx, w.bfloat16(), None, torch.float32)
assert torch.allclose(out, ref, atol=1e-4), (out - ref).abs().max()
assert torch.equal(events.events_matmul(rowptr, idx, w.bfloat16(), None, torch.bfloat16), out.bfloat16())
b = torch.randn(90, generator=g)
out32 = events.events_matmul(rowptr, idx, w, b, torch.float32)  # fp32 weights, a bias, a partial tile
assert torch.allclose(out32, s.float() @ w.t() + b, atol=1e-4), (out32 - s.float() @ w.t() - b).abs().max()
G = torch.randn(70, 90, generator=g)
gw = events.events_weight_grad(rowptr, idx, 300, G)
assert torch.allclose(gw, G.t() @ s.float(), atol=1e-4)
for Gd in (G, G.bfloat16()):
    by_rows = _native.events_weight_grad_by_rows(rowptr, idx, 300, Gd)
    assert torch.equal(by_rows, _native.events_weight_grad_by_columns(rowptr, idx, 300, Gd))
    assert torch.allclose(by_rows, Gd.float().t() @ s.float(), atol=1e-4)
r = torch.randn(10, 300, generator=g)
assert torch.allclose(events.thin_linear(s, r, None), s.float() @ r.t(), atol=1e-4)
G10 = torch.randn(70, 10, generator=g)
assert torch.allclose(events.thin_input_grad(G10, r, torch.float32), G10 @ r, atol=1e-4)
assert torch.allclose(events.thin_weight_grad(G10, s), G10.t() @ s.float(), atol=1e-4)
cur = torch.randn(9, 2, 2100, generator=g) * 0.7 + 0.4
spk_n, mem_n = lif_sequence(cur, LIFParams(0.8, 1.0))
from snncli.neurons import lif
lif.NATIVE = False
spk_t, mem_t = lif_sequence(cur, LIFParams(0.8, 1.0))
assert torch.equal(spk_n, spk_t) and torch.allclose(mem_n, mem_t, atol=1e-6)
print(_native.status(), _native.max_vector_tile(), int(spk_n.sum()))
'''


@pytest.mark.parametrize("build", ["portable", "avx2"])
def test_portable_and_avx2_kernels_compute_the_same(tmp_path, scan_engine, build):
    """The loops a CPU without AVX-512 runs (built here for a lesser CPU: the generic one of the compiler,
    or x86-64-v3, i.e. AVX2) give the products, spike lists and scans of the reference computations."""
    if scan_engine != "native":
        pytest.skip("one run is enough")
    env = {**os.environ, "SNNCLI_OPENMP": "0", "SNNCLI_CACHE_DIR": str(tmp_path / "c")}
    if build == "portable":
        env["SNNCLI_MARCH_NATIVE"] = "0"
    else:
        if platform.machine() not in ("x86_64", "AMD64") or "avx2" not in _native._cpu_signature():
            pytest.skip("AVX2 loops need an x86-64 CPU with AVX2")
        env["SNNCLI_MARCH"] = "x86-64-v3"
    out = subprocess.run([sys.executable, "-c", _PORTABLE], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    status, vector_tile, n_spikes = out.stdout.rsplit(maxsplit=2)
    assert "pthreads" in status and int(n_spikes) > 0
    # the build has the loops it was asked for: none (portable tile) or AVX2's 8 x 8 columns
    assert int(vector_tile) == (_native.PORTABLE_TILE if build == "portable" else 64)
