import platform

import pytest
import torch

from snncli.engine import device
from snncli.engine.device import (
    DeviceUnavailableError,
    keep_freed_memory,
    peak_rss_mb,
    resolve_device,
    resolve_precision,
)


def test_allocator_setting_takes_effect_exactly_when_malloc_accepts_both_parameters(monkeypatch):
    calls = []
    monkeypatch.setattr(device, "_ALLOCATOR_TUNED", False)
    monkeypatch.setattr(device, "_mallopt", lambda param, value: calls.append(param) or False)
    assert keep_freed_memory() is False
    assert calls == [device._M_MMAP_THRESHOLD]  # refused: the second is not tried
    monkeypatch.setattr(device, "_ALLOCATOR_TUNED", False)
    monkeypatch.setattr(device, "_mallopt", lambda param, value: param == device._M_MMAP_THRESHOLD)
    assert keep_freed_memory() is False
    monkeypatch.setattr(device, "_ALLOCATOR_TUNED", False)
    monkeypatch.setattr(device, "_mallopt", lambda param, value: True)
    assert keep_freed_memory() is True


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_glibc_accepts_the_allocator_parameters():
    largest = 2**31 - 1
    assert device._mallopt(device._M_MMAP_THRESHOLD, largest) is True
    assert device._mallopt(device._M_TRIM_THRESHOLD, largest) is True


def test_peak_rss_is_the_resident_set_in_mib_or_none_without_resource(monkeypatch):
    import builtins

    if platform.system() == "Linux":
        with open("/proc/self/status") as f:
            hwm_kib = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
        assert peak_rss_mb() == pytest.approx(hwm_kib / 1024, rel=0.05)
    real_import = builtins.__import__

    def no_resource(name, *args, **kwargs):
        if name == "resource":
            raise ImportError("no resource module (Windows)")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_resource)
    assert peak_rss_mb() is None


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_missing_cuda_is_a_clear_error_and_auto_falls_back():
    with pytest.raises(DeviceUnavailableError, match="--device cuda"):
        resolve_device("cuda")
    assert resolve_device("auto").type in ("cpu", "mps")


def test_precision_auto_is_bf16_exactly_where_bf16_products_are_fast(monkeypatch):
    cpu = torch.device("cpu")
    assert resolve_precision("fp32", cpu) == "fp32" and resolve_precision("bf16", cpu) == "bf16"
    monkeypatch.setattr(device, "bf16_matmul_is_fast", lambda d: True)
    assert resolve_precision("auto", cpu) == "bf16"
    monkeypatch.setattr(device, "bf16_matmul_is_fast", lambda d: False)
    # a CPU without fast bf16: fp32 products, event-driven where spikes are sparse; elsewhere plain fp32
    assert resolve_precision("auto", cpu) == "fp32-events"
    assert resolve_precision("auto", torch.device("meta")) == "fp32"
    assert resolve_precision("fp32-events", cpu) == "fp32-events"


def test_seeding_is_deterministic_without_nan_fills():
    import torch

    from snncli.engine.device import seed_everything

    seed_everything(3)
    a = torch.rand(4)
    seed_everything(3)
    assert torch.equal(a, torch.rand(4))
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.utils.deterministic.fill_uninitialized_memory is False


def test_precision_names_agree_between_the_settings_and_the_models():
    """--precision is declared torch-free (config) and the models validate it: the two lists must match."""
    from typing import get_args

    from snncli.config.fields import Precision
    from snncli.models.mlp import PRECISIONS

    assert set(get_args(Precision)) == {"auto", *PRECISIONS}
