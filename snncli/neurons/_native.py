"""The CPU kernels of ``_kernels.c`` (LIF scans, event-driven products): built on first use, optional.

The C file needs only a C compiler (no Python or torch headers), so it is compiled the first time
a process needs it (about a second), into a per-user cache keyed by the source, the compiler and
the CPU, and reused by every later process. Where there is no compiler, or the build fails, or
``SNNCLI_NATIVE=0`` is set, :func:`library` returns ``None`` and :mod:`snncli.neurons.lif` runs its
pure-PyTorch loops instead (same results up to floating-point rounding, measured slower).

Environment:
    SNNCLI_NATIVE: ``0`` disables the kernels.
    SNNCLI_OPENMP: ``0`` builds them on pthreads instead of torch's OpenMP pool.
    SNNCLI_MARCH: the ``-march`` they are built for (default ``native``: the vector loops this CPU has,
        AVX-512 or AVX2); e.g. ``x86-64-v3`` builds the AVX2 loops on a CPU with AVX-512 (tests).
    SNNCLI_MARCH_NATIVE: ``0`` builds them for the generic CPU of the compiler (no vector loops):
        the portable loops every CPU without AVX2 runs (tested on machines that have it).
    SNNCLI_CACHE_DIR: where the built library goes (default ``$XDG_CACHE_HOME/snncli`` or
        ``~/.cache/snncli``).
    CC: the C compiler (default ``cc``).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import torch

SOURCE = Path(__file__).with_name("_kernels.c")
# -ffp-contract=off: no fused multiply-adds, so the membrane update rounds exactly as snnTorch's
# separate multiply and add do (spikes and membranes equal to the per-step reference).
FLAGS = ["-O3", "-ffp-contract=off", "-fno-math-errno", "-shared", "-fPIC", "-pthread"]

_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_status: str | None = None  # why the kernels are (not) in use

DTYPES = {torch.float32: 0, torch.bfloat16: 1, torch.bool: 2}
SURROGATE_IDS = {"fast_sigmoid": 0, "atan": 1, "sigmoid": 2}


def _cache_dir() -> Path:
    if os.environ.get("SNNCLI_CACHE_DIR"):
        return Path(os.environ["SNNCLI_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "snncli"


def _cpu_signature() -> str:
    """The CPU as the compiler's -march=native sees it (model and feature flags)."""
    try:
        with open("/proc/cpuinfo") as f:
            lines = [ln for ln in f.read().splitlines() if ln.startswith(("model name", "flags"))]
        return "\n".join(sorted(set(lines)))
    except OSError:
        return sys.platform


def _openmp_flags() -> list[str]:
    """``["-fopenmp"]`` when torch runs on GNU OpenMP (libgomp loaded in this process), else ``[]``.

    The kernels then share torch's thread pool (same soname, so the loader reuses torch's copy)
    instead of starting threads that compete with the workers torch's matmuls leave spinning. With
    another runtime (Intel's or LLVM's) a second pool would compete the same way: pthreads then.
    ``SNNCLI_OPENMP=0`` asks for pthreads.
    """
    if os.environ.get("SNNCLI_OPENMP", "1") == "0":
        return []
    try:
        with open("/proc/self/maps") as f:
            return ["-fopenmp"] if "libgomp" in f.read() else []
    except OSError:
        return []


def _compile(cc: str, out: Path, omp: list[str], arch: list[str]) -> str | None:
    """Build the library at ``out`` (atomically) with the OpenMP and architecture flags, or without
    those the compiler refuses; returns an error message or ``None``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=out.parent)
    os.close(fd)
    try:
        err = ""
        # -march=native is not known to every compiler, -fopenmp not to every installation
        variants = [(*o, *a) for o in (omp, []) for a in (arch, [])]
        for extra in dict.fromkeys(variants):
            proc = subprocess.run(
                [cc, *FLAGS, *extra, "-o", tmp, str(SOURCE), "-lm"], capture_output=True, text=True, timeout=120
            )
            if proc.returncode == 0:
                os.replace(tmp, out)
                return None
            err = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
            err = err[0]
        return f"{cc} failed: {err}"
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{cc} failed: {exc}"
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _bind(lib: ctypes.CDLL) -> ctypes.CDLL:
    i64, i32, f32, ptr = ctypes.c_int64, ctypes.c_int, ctypes.c_float, ctypes.c_void_p
    lib.snn_lif_forward.argtypes = [i64, i64, i64, i32, ptr, i32, ptr, i64, ptr, i64, ptr, i32,
                                    ptr, ptr, ptr, ptr, i32, f32, f32, i32]
    lib.snn_lif_forward.restype = i32
    lib.snn_lif_backward.argtypes = [i64, i64, i64, i32, ptr, i32, ptr, ptr, ptr, ptr, ptr, ptr, i64, ptr, i64,
                                     ptr, i32, ptr, i64, ptr, i32, f32, f32, i32]
    lib.snn_lif_backward.restype = i32
    lib.snn_lif_threads_for.argtypes = [i64, i32]
    lib.snn_lif_threads_for.restype = i32
    lib.snn_vector_tile.argtypes = []
    lib.snn_vector_tile.restype = i32
    lib.snn_events_csr.argtypes = [i64, i64, ptr, i32, ptr, ptr, i32, i32]
    lib.snn_events_csr.restype = i32
    lib.snn_events_gather.argtypes = [i64, i64, ptr, ptr, ptr, i32, i64, i64, ptr, ptr, i32, i32]
    lib.snn_events_gather.restype = i32
    lib.snn_events_scatter.argtypes = [i64, i64, i64, ptr, ptr, ptr, i32, ptr, i64, ptr, i32]
    lib.snn_events_scatter.restype = i32
    lib.snn_count_nonzero.argtypes = [i64, ptr, i32, i32]
    lib.snn_count_nonzero.restype = i64
    lib.snn_events_csc.argtypes = [i64, i64, ptr, ptr, ptr, ptr, ptr, i32]
    lib.snn_events_csc.restype = i32
    lib.snn_thin.argtypes = [i32, i64, i64, i64, ptr, i32, ptr, ptr, ptr, ptr, i32, i32]
    lib.snn_thin.restype = i32
    lib.snn_openmp.argtypes = []
    lib.snn_openmp.restype = i32
    return lib


def library() -> ctypes.CDLL | None:
    """The loaded kernels, building them if needed; ``None`` when they cannot be had."""
    global _lib, _status
    if _status is not None:
        return _lib
    with _lock:
        if _status is not None:
            return _lib
        if os.environ.get("SNNCLI_NATIVE", "1") == "0":
            _status = "disabled by SNNCLI_NATIVE=0"
            return None
        cc = shutil.which(os.environ.get("CC", "cc"))
        if cc is None:
            _status = "no C compiler found (set CC): pure-PyTorch LIF scans"
            return None
        try:
            version = subprocess.run([cc, "--version"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            _status = f"{cc} --version failed ({exc}): pure-PyTorch LIF scans"
            return None
        omp = _openmp_flags()
        march = os.environ.get("SNNCLI_MARCH", "native")
        arch = [f"-march={march}"] if os.environ.get("SNNCLI_MARCH_NATIVE", "1") != "0" else []
        key = hashlib.sha256(
            "\0".join([SOURCE.read_text(), " ".join(FLAGS + omp + arch), cc, version, _cpu_signature()]).encode()
        ).hexdigest()[:16]
        path = _cache_dir() / f"kernels-{key}.so"
        if not path.exists():
            error = _compile(cc, path, omp, arch)
            if error:
                _status = f"{error}: pure-PyTorch LIF scans"
                return None
        try:
            _lib = _bind(ctypes.CDLL(str(path)))
            threads = "OpenMP threads" if _lib.snn_openmp() else "pthreads"
            _status = f"native LIF scans ({path}, {threads})"
        except OSError as exc:
            _status = f"could not load {path} ({exc}): pure-PyTorch LIF scans"
        return _lib


def status() -> str:
    """One line: whether the native scans are in use, and if not, why."""
    library()
    return _status or ""


def _ptr(t: torch.Tensor | None) -> int | None:
    return None if t is None else t.data_ptr()


def neurons_per_row(coef: torch.Tensor | float, row_shape: torch.Size) -> int | None:
    """N such that element m of a contiguous step uses ``coef[m % N]``; ``None`` if not of that form."""
    if not isinstance(coef, torch.Tensor) or coef.numel() == 1:
        return 1
    shape = list(coef.shape)
    while shape and shape[0] == 1:
        shape.pop(0)
    k = len(shape)
    if k == 0 or k > len(row_shape) or list(row_shape[len(row_shape) - k :]) != shape:
        return None
    return coef.numel()


def _coef_tensor(c) -> torch.Tensor:
    if isinstance(c, torch.Tensor):
        return c.detach().reshape(-1).to(torch.float32).contiguous()
    return torch.tensor([float(c)], dtype=torch.float32)


def layout_ok(cur_seq: torch.Tensor, row_shape: torch.Size, *coefs) -> bool:
    """Whether a fused scan handles this input: fp32/bf16, contiguous, coefficients scalar or per
    neuron of the trailing dims (one layout for all of them). The Triton kernels share the rule."""
    if cur_seq.dtype not in (torch.float32, torch.bfloat16) or not cur_seq.is_contiguous():
        return False
    sizes = {neurons_per_row(c, row_shape) for c in coefs if c is not None}
    return None not in sizes and len(sizes - {1}) <= 1


def usable(cur_seq: torch.Tensor, row_shape: torch.Size, *coefs) -> bool:
    """Whether these kernels can run this scan (a CPU tensor, :func:`layout_ok`, the library built)."""
    return cur_seq.device.type == "cpu" and layout_ok(cur_seq, row_shape, *coefs) and library() is not None


def surrogate_constants(name: str, slope: float) -> tuple[int, float, float]:
    """(kind, k1, k2) with the constants rounded as the in-place torch formulas round them."""
    import math

    if name == "atan":
        return SURROGATE_IDS[name], math.pi / 2.0 * slope, slope / 2.0
    return SURROGATE_IDS[name], slope, 0.0


def scan_forward(
    cur_seq: torch.Tensor, T: int, constant: bool, beta, threshold, *, spike_dtype: torch.dtype,
    surrogate: tuple[int, float, float], exact: bool, keep_mem: bool = False, keep_spikes: bool = False,
):
    """One pass over time. Returns ``(spk, mem, factor, mem_keep, spk_keep)`` ([T, ...] or ``None``):
    ``exact`` gives the fp32 membrane ``mem``; otherwise the bf16 surrogate ``factor``."""
    lib = library()
    row_shape = cur_seq.shape if constant else cur_seq.shape[1:]
    M = row_shape.numel()
    N = max(neurons_per_row(beta, row_shape), neurons_per_row(threshold, row_shape))
    b, th = _coef_tensor(beta), _coef_tensor(threshold)
    shape = (T, *row_shape)
    spk = torch.empty(shape, dtype=spike_dtype)
    mem = torch.empty(shape, dtype=torch.float32) if exact else None
    factor = None if exact else torch.empty(shape, dtype=torch.bfloat16)
    mem_keep = torch.empty(shape, dtype=torch.bfloat16) if keep_mem else None
    spk_keep = torch.empty(shape, dtype=torch.bool) if keep_spikes else None
    kind, k1, k2 = surrogate
    lib.snn_lif_forward(
        T, M, N, int(constant), cur_seq.data_ptr(), DTYPES[cur_seq.dtype], b.data_ptr(), b.numel(),
        th.data_ptr(), th.numel(), spk.data_ptr(), DTYPES[spike_dtype], _ptr(mem), _ptr(factor),
        _ptr(mem_keep), _ptr(spk_keep), kind, k1, k2, torch.get_num_threads(),
    )
    return spk, mem, factor, mem_keep, spk_keep


def scan_backward(
    grad_spk: torch.Tensor | None, grad_mem: torch.Tensor | None, *, T: int, row_shape: torch.Size, constant: bool,
    out_dtype: torch.dtype, leak, threshold, surrogate: tuple[int, float, float],
    factor: torch.Tensor | None = None, mem: torch.Tensor | None = None,
    mem_keep: torch.Tensor | None = None, spk_keep: torch.Tensor | None = None,
    beta_like: torch.Tensor | None = None, threshold_like: torch.Tensor | None = None,
):
    """One reverse pass: the gradient w.r.t. the current ([T, ...], or [...] summed when ``constant``)
    and, for ``beta_like``/``threshold_like`` given, the gradients of beta and threshold in their shapes.

    The surrogate factor comes from ``factor`` (bf16, compact) or is recomputed from the exact ``mem``;
    U_{t-1} and S_{t-1} for the parameter gradients from ``mem_keep``/``spk_keep`` or from ``mem``.
    """
    lib = library()
    M = row_shape.numel()
    coefs = [c for c in (leak, threshold) if c is not None]
    N = max(neurons_per_row(c, row_shape) for c in coefs) if coefs else 1
    if beta_like is not None:
        N = max(N, neurons_per_row(beta_like, row_shape))
    if threshold_like is not None:
        N = max(N, neurons_per_row(threshold_like, row_shape))
    th = _coef_tensor(threshold)
    lk = None if leak is None else _coef_tensor(leak)
    if grad_spk is not None:
        grad_spk = grad_spk.contiguous()
        if grad_spk.dtype not in (torch.float32, torch.bfloat16):
            grad_spk = grad_spk.float()
    if grad_mem is not None:
        grad_mem = grad_mem.to(torch.float32).contiguous()
    out = torch.empty(row_shape if constant else (T, *row_shape), dtype=out_dtype)
    threads = lib.snn_lif_threads_for(M, torch.get_num_threads())
    nb = 1 if beta_like is None else beta_like.numel()
    nt = 1 if threshold_like is None else threshold_like.numel()
    d_beta = torch.zeros(threads, nb, dtype=torch.float64) if beta_like is not None else None
    d_thr = torch.zeros(threads, nt, dtype=torch.float64) if threshold_like is not None else None
    kind, k1, k2 = surrogate
    lib.snn_lif_backward(
        T, M, N, int(constant), _ptr(grad_spk), DTYPES[grad_spk.dtype] if grad_spk is not None else 0,
        _ptr(grad_mem), _ptr(factor), _ptr(mem), _ptr(mem_keep), _ptr(spk_keep), th.data_ptr(), th.numel(),
        _ptr(lk), 0 if lk is None else lk.numel(), out.data_ptr(), DTYPES[out_dtype],
        _ptr(d_beta), nb, _ptr(d_thr), kind, k1, k2, threads,
    )

    def reduce(acc, like):
        return None if acc is None else acc.sum(0).reshape(like.shape).to(like.dtype)

    return out, reduce(d_beta, beta_like), reduce(d_thr, threshold_like)


# --- event-driven (spike-sparse) products -------------------------------------------------------


#: Bytes of one column tile over all rows: the weights a forward gather reads at random, the
#: accumulator a weight-gradient scatter updates at random; both meant to stay in a core's L2. Measured
#: on 2048 x 2048 at 11% and 0.5% firing (AMD EPYC, 1 MiB L2 per core; benchmarks/README.md): the
#: gather is fastest at 256 KiB (64 bf16 columns), the scatter at 1 MiB (128 fp32 columns).
GATHER_TILE_BYTES = 256 * 1024
SCATTER_TILE_BYTES = 1024 * 1024
#: The widest tile without vector loops (portable builds): the scalar loops' accumulators stay in L1.
PORTABLE_TILE = 128


def max_vector_tile() -> int:
    """The widest column tile the built event loops run as vector code: 128 (AVX-512: 8 x 16 columns),
    64 (AVX2: 8 x 8); a portable build takes ``PORTABLE_TILE``. Wider tiles would run the scalar loops."""
    lib = library()
    return (lib.snn_vector_tile() if lib is not None else 0) or PORTABLE_TILE


def _tile(rows: int, elem: int, budget: int, cols: int) -> int:
    """Columns per tile: as many as fit ``budget`` over ``rows`` rows, a multiple of 16, at most
    :func:`max_vector_tile`, and no wider than ``cols`` rounded up to 16 (a 10-class readout: one vector)."""
    fit = max(16, budget // max(1, rows * elem) // 16 * 16)
    return int(min(max_vector_tile(), fit, -(-cols // 16) * 16))


def tiled(rows_by_cols: torch.Tensor, tile: int, transpose: bool = False) -> torch.Tensor:
    """``[ceil(C / tile), R, tile]`` copy of an ``[R, C]`` matrix (of ``[C, R]`` with ``transpose``),
    zero-padded: every column tile of all rows is one contiguous block."""
    m = rows_by_cols.t() if transpose else rows_by_cols
    R, C = m.shape
    pad = -C % tile
    if pad:
        m = torch.nn.functional.pad(m, (0, pad))
    return m.reshape(R, (C + pad) // tile, tile).permute(1, 0, 2).contiguous()


def events(spikes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Row lists of the active inputs of a contiguous ``[R, N]`` 0/1 matrix (fp32, bf16 or bool):
    ``rowptr`` (int64, ``[R + 1]``) and ``idx`` (int32, ``[E]``), inputs ascending within a row."""
    lib = library()
    R, N = spikes.shape
    spikes = spikes.contiguous()
    rowptr = torch.zeros(R + 1, dtype=torch.int64)
    threads = torch.get_num_threads()
    lib.snn_events_csr(R, N, spikes.data_ptr(), DTYPES[spikes.dtype], rowptr.data_ptr(), None, 1, threads)
    torch.cumsum(rowptr, 0, out=rowptr)
    idx = torch.empty(int(rowptr[-1]), dtype=torch.int32)
    lib.snn_events_csr(R, N, spikes.data_ptr(), DTYPES[spikes.dtype], rowptr.data_ptr(), idx.data_ptr(), 2, threads)
    return rowptr, idx


def _gather(ptr, idx, src_tiled, n_cols, bias, out):
    lib = library()
    Q = ptr.numel() - 1
    _, rows, tile = src_tiled.shape
    b = None if bias is None else bias.detach().to(torch.float32).contiguous()
    rc = lib.snn_events_gather(
        Q, n_cols, ptr.data_ptr(), idx.data_ptr(), src_tiled.data_ptr(), DTYPES[src_tiled.dtype], rows, tile,
        _ptr(b), out.data_ptr(), DTYPES[out.dtype], torch.get_num_threads(),
    )
    if rc < 0:
        raise ValueError(f"tile {tile} out of range")
    return out


def events_matmul(
    rowptr: torch.Tensor, idx: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, out_dtype: torch.dtype
) -> torch.Tensor:
    """``S @ weight.T + bias`` for a spike matrix ``S`` ``[R, N]`` given as row lists; ``weight`` is
    ``[O, N]`` (fp32 or bf16). Sums in fp32, rounded once to ``out_dtype``."""
    O, N = weight.shape
    w = tiled(weight.detach(), _tile(N, weight.element_size(), GATHER_TILE_BYTES, O), transpose=True)
    return _gather(rowptr, idx, w, O, bias, torch.empty(rowptr.numel() - 1, O, dtype=out_dtype))


def events_weight_grad(rowptr: torch.Tensor, idx: torch.Tensor, n_inputs: int, grad: torch.Tensor) -> torch.Tensor:
    """``grad.T @ S`` (``[O, N]``, fp32, a transposed view) for a spike matrix ``S`` ``[R, N]`` given as
    row lists and ``grad`` ``[R, O]`` (fp32 or bf16): each input sums the gradient rows of the steps
    it fired at. From COLUMNS_MIN_RATE up as a gather over column lists, below as a scatter of the
    gradient rows; both sum the rows in ascending order: the same bits."""
    R = grad.shape[0]
    if idx.numel() >= COLUMNS_MIN_RATE * R * n_inputs:
        return events_weight_grad_by_columns(rowptr, idx, n_inputs, grad)
    return events_weight_grad_by_rows(rowptr, idx, n_inputs, grad)


def events_weight_grad_by_rows(rowptr: torch.Tensor, idx: torch.Tensor, n_inputs: int, grad: torch.Tensor) -> torch.Tensor:
    """:func:`events_weight_grad` as a scatter: every gradient row is added to the inputs that fired at it."""
    lib = library()
    R, O = grad.shape
    grad = grad.contiguous()
    tile = _tile(n_inputs, 4, SCATTER_TILE_BYTES, O)
    threads = max(1, min(torch.get_num_threads(), -(-O // tile)))
    scratch = torch.empty(threads, n_inputs, tile, dtype=torch.float32)
    out_t = torch.empty(n_inputs, O, dtype=torch.float32)
    lib.snn_events_scatter(
        R, n_inputs, O, rowptr.data_ptr(), idx.data_ptr(), grad.data_ptr(), DTYPES[grad.dtype], out_t.data_ptr(),
        tile, scratch.data_ptr(), threads,
    )
    return out_t.t()


#: Input firing rate from which the weight gradient gathers over column lists instead of scattering
#: rows: 2048 x 2048 over 12 800 rows, 2 threads (AMD EPYC): 52 vs 68 ms at 2 %, 166 vs 209 ms at 8 %,
#: 30 vs 26 ms at 0.5 % (benchmarks/README.md).
COLUMNS_MIN_RATE = 0.01


def columns(rowptr: torch.Tensor, idx: torch.Tensor, n_inputs: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Column lists of row lists: ``colptr`` (int64, ``[N + 1]``) and ``rows`` (int32, ``[E]``), the rows
    at which each input fired, ascending."""
    R = rowptr.numel() - 1
    threads = max(1, min(torch.get_num_threads(), R))
    colptr = torch.empty(n_inputs + 1, dtype=torch.int64)
    rows = torch.empty(idx.numel(), dtype=torch.int32)
    scratch = torch.empty(threads, n_inputs, dtype=torch.int64)
    library().snn_events_csc(R, n_inputs, rowptr.data_ptr(), idx.data_ptr(), colptr.data_ptr(), rows.data_ptr(),
                             scratch.data_ptr(), threads)
    return colptr, rows


def events_weight_grad_by_columns(rowptr: torch.Tensor, idx: torch.Tensor, n_inputs: int, grad: torch.Tensor,
                                  tile: int | None = None) -> torch.Tensor:
    """:func:`events_weight_grad` as a gather over column lists: every input sums the (column-tiled)
    gradient rows of the steps it fired at, its tile of the result held in registers. The same sums
    in the same order (rows ascending), so the same bits.

    ``tile`` (default half the widest vector tile: 4 registers, 64 columns with AVX-512, 32 with
    AVX2): measured on 2048 x 2048 over 12 800 fp32 rows at 10 % firing, AVX2 (AMD EPYC, 2026-12-02):
    254 ms at 32 columns, 344 at 64, 305 at 16."""
    R, O = grad.shape
    tile = tile or max_vector_tile() // 2
    colptr, rows = columns(rowptr, idx, n_inputs)
    g = tiled(grad.contiguous(), min(tile, -(-O // 16) * 16))
    return _gather(colptr, rows, g, O, None, torch.empty(n_inputs, O, dtype=torch.float32)).t()


#: Widest output of the thin-product kernels (``THIN_MAX`` in _kernels.c).
THIN_MAX = 16


def _thin(kind: int, R: int, N: int, O: int, out: torch.Tensor, x=None, weight=None, bias=None, grad=None):
    if not 1 <= O <= THIN_MAX:
        raise ValueError(f"thin products take 1 to {THIN_MAX} outputs, not {O}")
    library().snn_thin(
        kind, R, N, O, _ptr(x), DTYPES[x.dtype] if x is not None else 0, _ptr(weight), _ptr(bias), _ptr(grad),
        out.data_ptr(), DTYPES[out.dtype], torch.get_num_threads(),
    )
    return out


def thin_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``x @ weight.T + bias`` for ``[R, N]`` ``x`` (fp32 or bf16) and a ``weight`` with at most
    THIN_MAX rows; fp32 result."""
    (R, N), O = x.shape, weight.shape[0]
    b = None if bias is None else bias.detach().float().contiguous()
    out = torch.empty(R, O, dtype=torch.float32)
    return _thin(0, R, N, O, out, x=x.contiguous(), weight=weight.detach().float().contiguous(), bias=b)


def thin_input_grad(grad: torch.Tensor, weight: torch.Tensor, out_dtype: torch.dtype) -> torch.Tensor:
    """``grad @ weight`` (``[R, N]`` in ``out_dtype``, fp32 or bf16) for ``[R, O]`` ``grad``, O <= THIN_MAX."""
    (O, N), R = weight.shape, grad.shape[0]
    out = torch.empty(R, N, dtype=out_dtype)
    return _thin(1, R, N, O, out, weight=weight.detach().float().contiguous(), grad=grad.float().contiguous())


def thin_weight_grad(grad: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``grad.T @ x`` (``[O, N]``, fp32) for ``[R, O]`` ``grad`` and ``[R, N]`` ``x`` (fp32 or bf16), O <= THIN_MAX."""
    (R, O), N = grad.shape, x.shape[1]
    out = torch.empty(O, N, dtype=torch.float32)
    return _thin(2, R, N, O, out, x=x.contiguous(), grad=grad.float().contiguous())


def count_nonzero(x: torch.Tensor) -> int:
    """Nonzero elements of a contiguous CPU fp32/bf16/bool tensor (spike counts), multithreaded."""
    return int(library().snn_count_nonzero(x.numel(), x.data_ptr(), DTYPES[x.dtype], torch.get_num_threads()))
