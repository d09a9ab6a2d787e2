"""A real multi-node Ray run, simulated on one machine: a head node and a second node, each its own raylet
process with one CPU (``ray.cluster_utils.Cluster`` starts them as ``ray start --head`` / ``ray start
--address`` would, and stops only its own processes; ``ray stop`` would end every Ray instance on the machine).

``snn crossval`` and ``snn sweep`` join it with ``--ray-address``: every fold and point runs, on both nodes
(one CPU each, one task each), and a re-run skips what finished.
"""

import json

import pytest
from typer.testing import CliRunner

from snncli.cli.app import app

ray = pytest.importorskip("ray")

FAST = ["--dataset", "synthetic", "--model", "mlp", "--hidden-dim", "16", "--T", "3", "--batch-size", "64",
        "--max-batches", "2", "--epochs", "1"]


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "num_gpus": 0})
    try:
        nodes.add_node(num_cpus=1, num_gpus=0)
        nodes.wait_for_nodes()
        yield nodes
    finally:
        nodes.shutdown()


def invoke(*args):
    res = CliRunner().invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_crossval_folds_run_on_both_nodes_and_are_skipped_on_rerun(cluster, tmp_path):
    args = ["crossval", *FAST, "--k-folds", "2", "--executor", "ray", "--ray-address", cluster.address,
            "--cpus-per-fold", "1", "--out", tmp_path, "--json"]
    report = invoke(*args)
    assert [f["fold"] for f in report["folds"]] == [0, 1] and not report["failed"]
    assert {f["status"] for f in report["folds"]} == {"finished"}
    nodes = {f["ray_node"] for f in report["folds"]}
    alive = {n["NodeID"] for n in _nodes(cluster) if n["Alive"]}
    assert len(alive) == 2 and nodes <= alive
    assert len(nodes) == 2, "one CPU per node and two one-CPU folds: one fold on each node"
    again = invoke(*args)
    assert {f["status"] for f in again["folds"]} == {"skipped"}


def test_sweep_points_run_across_the_cluster(cluster, tmp_path):
    args = ["sweep", "--grid", "seed=1,2", *FAST, "--executor", "ray", "--ray-address", cluster.address,
            "--out", tmp_path, "--json"]
    report = invoke(*args)
    assert sorted(p["status"] for p in report["points"]) == ["finished", "finished"] and not report["failed"]
    assert {p["status"] for p in invoke(*args)["points"]} == {"skipped"}


def _nodes(cluster):
    ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        return ray.nodes()
    finally:
        ray.shutdown()
