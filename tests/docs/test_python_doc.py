"""docs/python.md's worked example runs as written, and `import snncli` stays light."""

import re
import subprocess
import sys
from pathlib import Path

import snncli

DOC = Path(__file__).resolve().parents[2] / "docs" / "python.md"


def test_worked_example_runs(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert blocks, "docs/python.md has no python block"
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the example's runs go under pytest's tmp_path
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    exec(compile(blocks[0], str(DOC), "exec"), {"__name__": "__doc_example__"})
    printed = capsys.readouterr().out
    assert "test accuracy" in printed and "FGSM accuracy by eps" in printed and "top Hessian eigenvalue" in printed
    assert list(tmp_path.rglob("result.json")), "the example trained outside tmp_path"


def test_import_snncli_imports_no_torch_and_exports_the_api():
    code = "import sys, snncli; assert 'torch' not in sys.modules; print(len(snncli.__all__))"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    from snncli import api

    assert set(snncli.__all__) - {"__version__"} == set(api.__all__)
    for name in api.__all__:
        assert getattr(snncli, name) is getattr(api, name), name
        assert name in dir(snncli)


def test_settings_given_twice_are_validated_and_override():
    cfg = snncli.TrainConfig(dataset="synthetic", model="mlp", epochs=3)
    from snncli.api import _config

    assert _config(snncli.TrainConfig, cfg, {"epochs": 1}).epochs == 1
    import pydantic
    import pytest

    with pytest.raises(pydantic.ValidationError):
        _config(snncli.TrainConfig, None, {"epochs": -1})
    with pytest.raises(AttributeError):
        snncli.no_such_function
