"""``snn export``: a trained run's network written in an exchange format (NIR)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, TypedDict

import torch

from ..config import ExportConfig
from ..config.export import FORMATS
from ..engine.runs import load_run
from ..engine.writers import write_bytes_atomic
from ..errors import require
from ..models.nir_export import ExportError, mlp_layers, to_nir
from .common import JobCallbacks, out_dir

#: Module types of the conv models that NIR has a node for (the rest are named when export is refused).
_NIR_HAS = {"Conv2d", "Linear", "Dropout", "ModuleList", "Sequential", "ConvNet", "Flatten", "AvgPool2d"}


class ExportResult(TypedDict):
    """What ``snn export`` returns."""

    run: str
    format: str
    file: str
    layers: list[dict[str, Any]]  # per layer: inputs, neurons, connections (non-zero weights), neuron node


def _refuse_conv(model: torch.nn.Module, name: str) -> ExportError:
    lacking = sorted({type(m).__name__ for m in model.modules()} - _NIR_HAS)
    return ExportError(f"{name}: only the spiking MLPs (mlp, dense, index, mixer, random) export to NIR; this conv "
                       f"model has layers NIR 1.0 has no node for ({', '.join(lacking) or 'Flex routing'}), "
                       "so it is not exported")


def export(cfg: ExportConfig, callbacks: JobCallbacks | None = None) -> ExportResult:
    """Write the run's network as ``{out}/{run name}.nir`` (default ``out``: ``RUN/export/``).

    Raises:
        MissingExtraError: the ``nir`` package is not installed.
        ExportError: the model has layers the format cannot express.
    """
    cb = callbacks or JobCallbacks()
    require("nir", "nir", "snn export --format nir")
    import nir

    run = load_run(cfg.run, device="cpu")  # the checkpoint alone: no dataset is read
    try:
        layers = list(mlp_layers(run.model))
    except ExportError:
        raise _refuse_conv(run.model, run.cfg.model) from None
    graph = to_nir(run.model, {"run": run.checkpoint.stem, "model": run.cfg.model, "T": run.cfg.T,
                               "encoding": run.cfg.enc, "readout": run.cfg.loss, "input_shape": run.input["shape"],
                               "classes": [str(c) for c in run.input["classes"]]})
    folder = out_dir(run, cfg.out if cfg.out is not None else run.dir / "export")
    path = Path(folder) / f"{run.checkpoint.stem}{FORMATS[cfg.format]}"
    buf = io.BytesIO()
    nir.write(buf, graph)
    write_bytes_atomic(path, buf.getvalue())
    cb.on_log(f"{run.checkpoint.stem}: {len(layers)} layers written to {path}")
    rows = [{"inputs": int(w.shape[1]), "neurons": int(w.shape[0]), "connections": int((w != 0).sum()),
             "node": type(graph.nodes[f"lif{i}"]).__name__} for i, (w, *_rest) in enumerate(layers)]
    return {"run": str(run.dir), "format": cfg.format, "file": str(path), "layers": rows}
