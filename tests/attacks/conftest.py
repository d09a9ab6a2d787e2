import pytest
from trained import trained_run


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory):
    return trained_run(tmp_path_factory.getbasetemp())
