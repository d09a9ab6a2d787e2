"""Piped output: one record per line, whole paths, however narrow the terminal the pipe came from."""

import os
import subprocess
import sys

FAST = ["--dataset", "synthetic", "--model", "mlp", "--hidden-dim", "16", "--T", "3", "--batch-size", "64",
        "--epochs", "2", "--max-batches", "2"]


def test_piped_train_output_has_one_record_per_line_and_whole_paths(tmp_path):
    out = tmp_path / ("a_rather_long_folder_name_that_does_not_fit_in_eighty_columns_" * 2)
    env = {**os.environ, "COLUMNS": "80", "TERM": "dumb"}
    res = subprocess.run([sys.executable, "-m", "snncli", "train", *FAST, "--out", str(out)],
                         capture_output=True, text=True, env=env, check=True)
    lines = res.stderr.splitlines()
    epochs = [line for line in lines if line.startswith("epoch=")]
    assert len(epochs) == 2, res.stderr
    for line in epochs:  # every field of the record on its line
        for key in ("train_loss=", "rate_l1=", "time_s=", "val_acc=", "test_loss=", "test_acc="):
            assert key in line, line
    header = next(line for line in lines if line.startswith("synthetic_mlp_"))
    assert "data=generated" in header
    # Every stderr line is a whole message: none starts with a continuation of the line before.
    assert all(line.startswith(("synthetic_mlp_", "epoch=", "warning: ")) for line in lines), lines
    run_dir = str(out / "synthetic_mlp_p0.15_T3_current")
    assert run_dir in res.stdout and "…" not in res.stdout
    assert any(len(line) > 80 for line in res.stdout.splitlines())  # the table is not squeezed to 80 columns


def test_a_table_title_holding_a_path_is_one_line_when_piped_and_folds_on_a_narrow_terminal():
    import io

    from snncli.cli.progress import OutputConsole, titled_table

    title = "report: runs/" + "a_long_run_folder_name_" * 5 + "/analysis/report.md"
    table = titled_table(title)
    table.add_column("part")
    table.add_row("visualize")
    piped = io.StringIO()
    OutputConsole(file=piped).print(table)
    assert title in piped.getvalue().splitlines()[0]
    narrow = io.StringIO()
    OutputConsole(file=narrow, force_terminal=True, width=40, color_system=None).print(table)
    assert title not in narrow.getvalue() and all(len(line) <= 40 for line in narrow.getvalue().splitlines())
