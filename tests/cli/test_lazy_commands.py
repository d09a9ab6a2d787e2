"""``snn`` imports a command's module only when that command is used: the root's table of commands
(snncli.cli.app.COMMANDS) must agree with the modules, and listing or completing commands imports none."""

import subprocess
import sys

import pytest
import typer.main

from snncli.cli.app import COMMANDS, GROUPS, command_tree, load_command


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_table_names_each_commands_module_and_first_help_paragraph(name):
    cmd = load_command(name)
    assert cmd.name == name
    assert (cmd.help or "").split("\n\n")[0].strip() == COMMANDS[name][1], f"update COMMANDS[{name!r}] in cli/app.py"
    assert hasattr(cmd, "commands") == (name in GROUPS)


def test_every_command_of_every_module_is_in_the_table():
    import importlib
    import pkgutil

    import snncli.cli as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        module = importlib.import_module(f"snncli.cli.{info.name}")
        if info.name == "app" or not hasattr(module, "app"):
            continue
        group = typer.main.get_group(module.app)
        names = [info.name] if info.name in GROUPS else list(group.commands)
        for name in names:
            assert COMMANDS.get(name, ("", ""))[0] == info.name, f"{name} (in snncli/cli/{info.name}.py) is not in COMMANDS"
    assert set(command_tree().commands) == set(COMMANDS)


def _modules_after(argv, env=""):
    code = ("import sys\nfrom snncli.cli.app import app\nsys.argv = ['snn', *sys.argv[1:]]\n"
            "try:\n    app()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('snncli.cli.') or m.startswith('snncli.config.')))")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "COLUMNS": "120", **dict([env.split("=", 1)] if env else [])})
    return out.stdout, eval(out.stdout.strip().splitlines()[-1])


def test_listing_the_commands_imports_no_command():
    text, loaded = _modules_after(["--help"])
    assert all(f" {name} " in text for name in COMMANDS)
    assert not [m for m in loaded if m.split(".")[2] in {mod for mod, _ in COMMANDS.values()}], loaded
    assert not [m for m in loaded if m.startswith("snncli.config.")], loaded


def test_a_commands_help_imports_that_command_only():
    text, loaded = _modules_after(["train", "--help"])
    assert "--hidden-dim" in text
    modules = {m.split(".")[2] for m in loaded if m.startswith("snncli.cli.")}
    assert modules & {mod for mod, _ in COMMANDS.values()} == {"train"}, modules
