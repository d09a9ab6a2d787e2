"""snncli: train, sparsify, attack and analyse spiking neural networks from one `snn` command, or from Python.

The Python API (:mod:`snncli.api`, documented in ``docs/python.md``) is re-exported here and imported
on first use, so that ``import snncli`` (and ``snn --help``) import no torch::

    import snncli
    result = snncli.train(dataset="synthetic", model="mlp", epochs=1, out="runs")
    run = snncli.load_run(result["run_dir"])
"""

from ._version import __version__

#: Names of :mod:`snncli.api` available as ``snncli.<name>``.
_API = (
    "AttackConfig", "AttackResult", "Callbacks", "CrossvalConfig", "ExportConfig", "ExportResult", "GradflowConfig",
    "GradflowResult",
    "HessianConfig", "HessianResult", "ImageSet", "JobCallbacks", "LandscapeConfig", "LandscapeResult",
    "LoadedRun", "SNNClassifier", "SNNOutput", "SnnError", "SweepConfig", "TrainConfig", "TrainResult",
    "attack", "build_model", "classifier", "create_model", "evaluate", "export", "find_runs", "gradflow", "hessian",
    "landscape", "list_datasets", "list_models", "load_dataset", "load_run", "train",
)

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from . import api

        value = getattr(api, name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'snncli' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})
