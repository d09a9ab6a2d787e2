"""The torch-free name catalog that ``--help`` and shell completion list agrees with the registries, and
showing any command's help or completing a name imports no torch."""

import os
import subprocess
import sys

import pytest

from snncli.config.catalog import CATALOG, names
from snncli.config.fields import registry


@pytest.mark.parametrize("kind", sorted(CATALOG))
def test_the_catalog_lists_exactly_the_registered_names(kind):
    module, written = CATALOG[kind]
    live = registry(kind)
    assert list(written) == live.names(), f"update snncli/config/catalog.py: {kind} names changed"
    assert module in sys.modules  # the module named is the one that holds the registry


def test_a_live_registry_wins_once_its_module_is_imported():
    from snncli.models import MODELS

    @MODELS.register("catalog-probe-model", family="mlp")
    def _probe(**kwargs):  # pragma: no cover - never built
        raise AssertionError

    try:
        assert "catalog-probe-model" in names("model")
    finally:
        MODELS._items.pop("catalog-probe-model", None)
        MODELS._meta.pop("catalog-probe-model", None)


COMMANDS = [["train"], ["crossval"], ["plasticity"], ["attack"], ["hessian"], ["landscape"], ["gradflow"],
            ["visualize"], ["analyze"], ["export"], ["bench"], ["info"], ["sweep", "run"], ["backbone", "train"]]


def _run_without_torch(argv, env=None):
    code = ("import sys\nfrom snncli.cli.app import app\nsys.argv = ['snn', *sys.argv[1:]]\n"
            "try:\n    app()\nexcept SystemExit:\n    pass\nprint('TORCH' if 'torch' in sys.modules else 'NO-TORCH')")
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200", **(env or {})}, timeout=120)


def test_no_command_help_imports_torch():
    for argv in COMMANDS:
        out = _run_without_torch([*argv, "--help"])
        assert out.stdout.strip().endswith("NO-TORCH"), (argv, out.stdout[-300:], out.stderr[-300:])
        assert "Usage" in out.stdout, argv


def test_shell_completion_lists_registry_and_choice_names_without_torch():
    def complete(words, cword):
        env = {"_SNN_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
        out = _run_without_torch([], env)
        lines = out.stdout.split()
        assert lines[-1] == "NO-TORCH", out
        return lines[:-1]

    assert complete("snn train --model mi", 3) == ["mixer"]
    assert complete("snn train --surrogate ", 3) == ["atan", "fast_sigmoid", "sigmoid"]
    assert complete("snn attack fgsm,p", 2) == ["fgsm,pgd"]  # the last of a comma list
    assert "fashionmnist" in complete("snn train --dataset f", 3)
