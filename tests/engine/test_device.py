import platform

import pytest
import torch

from snncli.engine.device import (
    DeviceUnavailableError,
    keep_freed_memory,
    resolve_device,
    resolve_precision,
)


def test_allocator_setting_reports_success_on_glibc():
    result = keep_freed_memory()
    assert isinstance(result, bool)
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert result is True


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_missing_cuda_is_a_clear_error_and_auto_falls_back():
    with pytest.raises(DeviceUnavailableError, match="--device cuda"):
        resolve_device("cuda")
    assert resolve_device("auto").type in ("cpu", "mps")


def test_precision_auto_is_explicit_choice():
    cpu = torch.device("cpu")
    assert resolve_precision("fp32", cpu) == "fp32"
    assert resolve_precision("auto", cpu) in ("fp32", "bf16")


def test_seeding_is_deterministic_without_nan_fills():
    import torch

    from snncli.engine.device import seed_everything

    seed_everything(3)
    a = torch.rand(4)
    seed_everything(3)
    assert torch.equal(a, torch.rand(4))
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.utils.deterministic.fill_uninitialized_memory is False
