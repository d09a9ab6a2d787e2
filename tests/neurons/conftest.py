import pytest

from snncli.neurons import _native, lif


@pytest.fixture(autouse=True, params=["native", "torch"])
def scan_engine(request, monkeypatch):
    """Every neuron test runs on the one-pass C scans and on the pure-PyTorch loops."""
    if request.param == "native" and _native.library() is None:
        pytest.skip(f"native LIF scans unavailable: {_native.status()}")
    monkeypatch.setattr(lif, "NATIVE", request.param == "native")
    return request.param
