"""The accuracy sweep: caching and resuming, failures as outcomes, the Dask cluster, bad arguments."""

import pytest

from suite.records import read_records
from suite.studies.learning import presets
from suite.studies.learning import sweep as accuracy
from tests.conftest import run_cli

SETTINGS = {
    "steps": 3,
    "batch_size": 4,
    "hidden_size": 4,
    "optimizer": "adam",
    "lr": 1e-3,
    "clip": 1.0,
    "dtype": "float32",
    "threads": 1,
}


def specs(frameworks=("numpy",), lengths=(4,), cells=("rnn", "gru")):
    return accuracy.job_specs("adding", lengths, frameworks, cells, 1, SETTINGS)


def comparable(record):
    keep = (
        "task",
        "framework",
        "cell",
        "seq_len",
        "seed",
        "steps",
        "status",
        "test_loss",
        "accuracy",
        "solved",
        "baseline_loss",
        "learning_curve",
    )
    return {k: record[k] for k in keep}


def test_a_job_trains_at_its_init_and_records_chronos_t_max():
    from suite.training import job as training_job

    spec = {**specs()[0], "cell": "lstm", "init": "chrono", "t_max": None}
    record = training_job.run_job(spec)
    assert record["status"] == "ok" and record["t_max"] == max(3, 3 * spec["seq_len"] // 2)
    assert training_job.run_job({**spec, "init": "default"})["t_max"] is None


def sweep(job_list, folder, **kw):
    return accuracy.sweep(job_list, folder / "results.json", folder / "cache", progress=False, **kw)


def test_sweep_caches_finished_jobs_and_a_rerun_skips_them(tmp_path):
    first = sweep(specs(), tmp_path)
    assert [r["status"] for r in first] == ["ok", "ok"]
    assert len(list((tmp_path / "cache").glob("*.json"))) == 2
    assert len(read_records(tmp_path / "results.json")) == 2  # written as they finish
    record = first[0]
    assert {"test_loss", "baseline_loss", "accuracy", "solved", "wall_seconds", "learning_curve"} <= set(
        record
    )
    assert record["learning_curve"][-1][0] == 3
    again = sweep(specs(), tmp_path)
    assert all(r["cached"] for r in again)
    assert [comparable(r) for r in again] == [comparable(r) for r in first]


def test_an_interrupted_sweep_resumes(tmp_path):
    sweep(specs(cells=("rnn",)), tmp_path)  # the first job finished, then a stop
    (tmp_path / "cache" / "broken.json").write_text("{")  # a cache file cut short is ignored
    records = sweep(specs(), tmp_path)
    assert [r.get("cached", False) for r in records] == [True, False]


def test_a_job_finished_in_the_results_file_alone_is_not_run_again(tmp_path):
    sweep(specs(cells=("rnn",)), tmp_path)
    for path in (tmp_path / "cache").glob("*.json"):
        path.unlink()  # a fresh clone: the committed results, no cache
    records = sweep(specs(), tmp_path)
    assert [r.get("cached", False) for r in records] == [True, False]
    assert len(read_records(tmp_path / "results.json")) == 2


def test_a_timeout_is_an_outcome_and_is_not_cached(tmp_path):
    long = [{**s, "steps": 10**6} for s in specs()]  # minutes of training
    records = sweep(long, tmp_path, timeout_s=1.0)
    assert [r["status"] for r in records] == ["timeout", "timeout"]
    assert not list((tmp_path / "cache").glob("*.json"))


def test_a_crash_is_an_outcome(tmp_path):
    bad = [{**specs()[0], "implementation": "nonexistent"}]
    (record,) = sweep(bad, tmp_path)
    assert record["status"] == "error" and "unknown implementation" in record["error"]


def test_a_local_dask_cluster_gives_the_same_records_as_local(tmp_path):
    pytest.importorskip("distributed")
    jobs = specs(frameworks=("numpy", "torch"), cells=("lstm",))
    local = sweep(jobs, tmp_path / "local")
    cluster = sweep(jobs, tmp_path / "dask", executor="dask", jobs=2)
    assert [comparable(r) for r in cluster] == [comparable(r) for r in local]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--task", "parity"], "unknown task 'parity'"),
        (["--task", "adding", "--lengths", "1"], "integer >= 2"),
        (["--task", "copy", "--lengths", "0,10"], "integer >= 1"),
        (["--task", "copy", "--lengths", "ten"], "comma-separated integers"),
        (["--task", "adding", "--steps", "0"], "steps must be > 0"),
        (["--task", "adding", "--frameworks", "mxnet"], "unknown framework"),
        (["--task", "adding", "--init", "orthogonal"], "unknown init 'orthogonal'"),
        (["--task", "adding", "--init", "chrono", "--cells", "rnn"], "gated cells"),
        (["--task", "adding", "--init", "chrono", "--t-max", "1"], "t-max must be >= 3"),
        (
            ["--task", "varadding", "--impls", "numpy,torch-cudagraph"],
            "torch-cudagraph does not take lengths",
        ),
    ],
)
def test_bad_arguments_exit_2(capsys, argv, message):
    code, out = run_cli(capsys, "run", "accuracy", *argv)
    assert code == 2 and message in out.err


def test_framework_not_installed_exits_2(capsys, monkeypatch):
    import impls

    monkeypatch.setattr(impls, "available", lambda: ("numpy",))
    code, out = run_cli(capsys, "run", "accuracy", "--task", "adding", "--frameworks", "tensorflow")
    assert code == 2 and "tensorflow is not installed" in out.err


def test_cli_writes_records(capsys, tmp_path):
    path = tmp_path / "acc.json"
    code, out = run_cli(
        capsys,
        "run",
        "accuracy",
        "--task",
        "copy",
        "--lengths",
        "3",
        "--impls",
        "numpy",
        "--cells",
        "gru",
        "--steps",
        "2",
        "--batch-size",
        "4",
        "--hidden-size",
        "4",
        "--no-progress",
        "--cache",
        str(tmp_path / "cache"),
        "--json",
        str(path),
    )
    assert code == 0
    (record,) = read_records(path)
    assert record["kind"] == "accuracy" and record["task"] == "copy" and record["environment"]["git_commit"]


def test_the_profile_sets_the_optimizer_and_flags_override_it(capsys, tmp_path):
    assert presets.training("full", "copy")["optimizer"] == "rmsprop"  # the papers' setup for copy
    assert presets.training("full", "adding")["optimizer"] == presets.TRAINING_DEFAULTS["optimizer"]
    common = ["run", "accuracy", "--task", "varcopy", "--profile", "full", "--lengths", "3", "--impls"]
    common += ["numpy", "--cells", "rnn", "--steps", "2", "--batch-size", "2", "--hidden-size", "2"]
    common += ["--no-progress", "--cache", str(tmp_path / "cache")]
    for extra, expected in (
        ([], ("rmsprop", 1e-3, 1.0)),
        (["--optimizer", "adam", "--lr", "0.1", "--clip", "0"], ("adam", 0.1, None)),
    ):
        path = tmp_path / f"acc-{len(extra)}.json"  # a results file keeps every finished job it held
        assert run_cli(capsys, *common, "--json", str(path), *extra)[0] == 0
        (record,) = read_records(path)
        assert (record["optimizer"], record["lr"], record["clip"]) == expected


def test_run_accuracy_takes_its_budget_in_sequences(capsys, tmp_path):
    path = tmp_path / "acc.json"
    argv = ["run", "accuracy", "--task", "adding", "--lengths", "3", "--impls", "numpy", "--cells", "rnn"]
    argv += ["--batch-size", "4", "--hidden-size", "2", "--no-progress", "--cache", str(tmp_path / "cache")]
    assert run_cli(capsys, *argv, "--sequences", "10", "--json", str(path))[0] == 0
    (record,) = read_records(path)
    assert record["steps"] == 3  # 10 sequences in batches of 4
    assert run_cli(capsys, *argv, "--sequences", "0", "--json", str(path))[0] == 2


def test_a_task_of_different_lengths_trains_and_tests_with_them(capsys, tmp_path):
    path = tmp_path / "acc.json"
    argv = ["run", "accuracy", "--task", "varadding", "--lengths", "6", "--impls", "numpy,torch"]
    argv += ["--cells", "gru", "--steps", "3", "--batch-size", "4", "--hidden-size", "4", "--no-progress"]
    code, _ = run_cli(capsys, *argv, "--cache", str(tmp_path / "cache"), "--json", str(path))
    assert code == 0
    records = read_records(path)
    assert {r["implementation"] for r in records} == {"numpy", "torch"}
    assert all(r["task"] == "varadding" and r["status"] == "ok" for r in records)
    numpy_curve, torch_curve = (
        next(r for r in records if r["implementation"] == n) for n in ("numpy", "torch")
    )
    assert numpy_curve["test_loss"] == pytest.approx(torch_curve["test_loss"], rel=1e-4)
