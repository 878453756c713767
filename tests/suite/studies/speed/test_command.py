"""``python -m suite run speed|memory``: end to end on a small slice, and bad arguments."""

import pytest

from suite.records import derived, read_records
from tests.conftest import run_cli


@pytest.mark.parametrize("kind", ["speed", "memory"])
def test_a_small_run_writes_records_with_their_environment(capsys, tmp_path, kind):
    path = tmp_path / f"{kind}.json"
    group = "deepbench_inference" if kind == "speed" else "fastrnns"
    code, out = run_cli(
        capsys,
        "run",
        kind,
        "--frameworks",
        "numpy",
        "--cells",
        "rnn",
        "--groups",
        group,
        "--threads",
        "1",
        "--json",
        str(path),
    )
    assert code == 0, out.err
    records = derived(read_records(path))
    assert records and all(r["kind"] == kind and r["status"] == "ok" for r in records)
    r = records[0]
    assert r["threads"] == 1 and r["threads_effective"]["cpu_affinity"] == 1
    assert {"git_commit", "cpu", "versions", "date", "blas", "kernel_variables"} <= set(r["environment"])
    assert r["libraries"] and r["libraries"][0]["internal_api"]  # the worker's own BLAS
    if kind == "speed":
        assert {
            "median_s",
            "iqr_s",
            "samples",
            "gflops",
            "efficiency",
            "peak_gflops",
            "compile_seconds",
            "first_call_s",
            "flops",
            "path",
        } <= set(r)
    else:
        assert r["peak_bytes"] > 0 and r["analytic_bytes"] > 0


def test_the_subnormals_group_times_each_flushed_step_in_a_process_of_its_own(capsys, tmp_path, monkeypatch):
    from suite.measurement import grids

    shapes, modes = grids.GRIDS["quick"]["speed"]["subnormals"]
    short = [{**shapes[0], "seq_len": 20}]  # the logic, not the cost: one short length (the grid's: 100, 400)
    monkeypatch.setitem(grids.GRIDS["quick"]["speed"], "subnormals", (short, modes))
    path = tmp_path / "speed.json"
    argv = ["run", "speed", "--impls", "numpy,torch", "--cells", "rnn", "--groups", "subnormals"]
    code, out = run_cli(capsys, *argv, "--threads", "1", "--json", str(path))
    assert code == 0, out.err
    records = [r for r in read_records(path) if r["kind"] == "speed"]
    modes = {(r["implementation"], r["mode"], r["seq_len"]): r for r in records}
    assert {m for _, m, _ in modes} == {"train_last", "train_last_flushed"}
    assert {r.get("denormals") for r in records if r["mode"] == "train_last_flushed"} <= {"flushed", "kept"}
    if ("torch", "train_last_flushed", 20) in modes:
        assert modes[("torch", "train_last_flushed", 20)]["denormals"] == "flushed"
        assert "denormals" not in modes[("torch", "train_last", 20)]
    assert modes[("numpy", "train_last_flushed", 20)]["denormals"] == "kept"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["speed", "--frameworks", "mxnet"], "unknown framework 'mxnet'"),
        (["speed", "--cells", "tcn"], "unknown cell 'tcn'"),
        (["speed", "--dtype", "float8"], "unknown dtype 'float8'"),
        (["speed", "--threads", "0"], "threads must be between 1 and"),
        (["memory", "--threads", "999"], "threads must be between 1 and"),
        (["speed", "--timeout", "0"], "--timeout must be > 0"),
        (["speed", "--groups", "everything"], "unknown group 'everything'"),
        (["speed", "--profile", "huge"], "invalid choice"),
        (["latency"], "invalid choice"),
        (
            ["speed", "--impls", "torch-cells", "--groups", "bidirectional"],
            "torch-cells is not bidirectional",
        ),
        (["memory", "--impls", "torch-cudagraph", "--groups", "lengths"], "does not take sequence lengths"),
    ],
)
def test_bad_arguments_exit_2(capsys, argv, message):
    code, out = run_cli(capsys, "run", *argv)
    assert code == 2 and message in out.err
