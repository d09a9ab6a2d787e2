"""``snn export``: a trained run's network written in an exchange format (NIR; a torch.export program for ANNs)."""

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


class _Logits(torch.nn.Module):
    """An ANN run's network as ``images [B, C, H, W] (pixel units) -> logits [B, classes]``, the input
    normalisation included, as ``snn`` evaluates it (one pass, no time steps)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images.unsqueeze(0)).mem[0]


def _torch_export(run: Any, path: Path) -> list[dict[str, Any]]:
    """Export the ANN of ``run`` with ``torch.export`` (batch size symbolic) to ``path``; the rows of the
    result (one per weight layer)."""
    import warnings

    if getattr(run.model, "spiking", True):
        raise ExportError(f"{run.cfg.model}: --format torch-export writes ANN models (--spiking false); a spiking "
                          "network runs over time steps with state: use --format nir")
    module = _Logits(run.model).eval()
    example = torch.rand(2, *run.input["shape"], generator=torch.Generator().manual_seed(0))
    check = torch.rand(3, *run.input["shape"], generator=torch.Generator().manual_seed(1))
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Flex layers keep statistics of the last batch: not part of the program
        try:
            program = torch.export.export(module, (example,), dynamic_shapes={"images": {0: torch.export.Dim.DYNAMIC}},
                                          strict=False)
        except Exception as exc:  # torch's message is many lines: its first names the cause
            raise ExportError(f"{run.cfg.model}: torch.export could not capture the network "
                              f"({str(exc).strip().splitlines()[0]})") from None
        if not torch.allclose(program.module()(check), module(check), rtol=1e-5, atol=1e-5):
            raise ExportError(f"{run.cfg.model}: the exported program does not reproduce the model on a test batch")
        buf = io.BytesIO()
        torch.export.save(program, buf)
    write_bytes_atomic(path, buf.getvalue())
    return [{"inputs": int(m.weight.shape[1]), "neurons": int(m.weight.shape[0]),
             "connections": int((m.weight != 0).sum()), "node": type(m).__name__}
            for m in run.model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]


def export(cfg: ExportConfig, callbacks: JobCallbacks | None = None) -> ExportResult:
    """Write the run's network as ``{out}/{run name}.nir`` or ``.pt2`` (default ``out``: ``RUN/export/``).

    Raises:
        MissingExtraError: the ``nir`` package is not installed (``--format nir``).
        ExportError: the model has layers the format cannot express.
    """
    cb = callbacks or JobCallbacks()

    def target(run: Any) -> Path:
        folder = out_dir(run, cfg.out if cfg.out is not None else run.dir / "export")
        return Path(folder) / f"{run.checkpoint.stem}{FORMATS[cfg.format]}"

    def result(run: Any, path: Path, rows: list[dict[str, Any]]) -> ExportResult:
        return {"run": str(run.dir), "format": cfg.format, "file": str(path), "layers": rows}

    if cfg.format == "torch-export":
        run = load_run(cfg.run, device="cpu")
        path = target(run)
        rows = _torch_export(run, path)
        cb.on_log(f"{run.checkpoint.stem}: exported program written to {path}")
        return result(run, path, rows)
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
    path = target(run)
    buf = io.BytesIO()
    nir.write(buf, graph)
    write_bytes_atomic(path, buf.getvalue())
    cb.on_log(f"{run.checkpoint.stem}: {len(layers)} layers written to {path}")
    rows = [{"inputs": int(w.shape[1]), "neurons": int(w.shape[0]), "connections": int((w != 0).sum()),
             "node": type(graph.nodes[f"lif{i}"]).__name__} for i, (w, *_rest) in enumerate(layers)]
    return result(run, path, rows)
