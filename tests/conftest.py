import os

import pytest
import torch

# Two cores: keep torch from oversubscribing when pytest and the code both use threads.
torch.set_num_threads(min(2, os.cpu_count() or 1))


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory):
    """The small trained run of ``tests/trained.py``: trained once per session, shared by every test that reads a run."""
    from trained import trained_run

    return trained_run(tmp_path_factory.getbasetemp())
