"""The capacity search: which lengths it tries and when it stops, early stopping inside a job, checkpoints,
resumption from a results file, failures as outcomes, the summary and the command line."""

import json
import os

import numpy as np
import pytest

import impls
from suite.records import read_records, write_records
from suite.studies.capacity import search as capacity
from suite.studies.capacity.search import fastest
from suite.training import job as training_job
from suite.training.spec import key, merge
from tests.conftest import framework_params, run_cli

SMALL = capacity.settings_for("temporal2", steps=300, hidden_size=16, eval_every=50)
SEARCH = [10, 20, 40, 80]
NUMPY = dict.fromkeys(impls.CELLS, "numpy")


def fake_runner(reach_by_cell: dict[str, int], calls: list | None = None):
    """A job that solves when its length is at most its cell's reach, for seeds below 2 only."""

    def run(spec: dict, timeout_s: float) -> dict:
        if calls is not None:
            calls.append(spec)
        solved = spec["seq_len"] <= reach_by_cell[spec["cell"]] and spec["seed"] < 2
        return {
            "status": "ok",
            "solved": solved,
            "solved_step": 100 if solved else None,
            "accuracy": 1.0 if solved else 0.3,
            "test_loss": 0.0,
            "wall_seconds": 0.0,
        }

    return run


def test_lengths_double_from_the_start_up_to_the_longest():
    assert capacity.lengths(10, 80) == [10, 20, 40, 80]
    assert capacity.lengths(10, 79) == [10, 20, 40]
    with pytest.raises(ValueError, match="start"):
        capacity.lengths(20, 10)


def test_the_tanh_rnn_is_searched_at_the_default_init_only():
    chains = capacity.chains(["adding"], ["rnn", "lstm"], ["default", "chrono"])
    assert chains == [
        ("adding", "rnn", "default"),
        ("adding", "lstm", "default"),
        ("adding", "lstm", "chrono"),
    ]


def done_at(chain, seq_len, solved_seeds, seeds=3):
    out = {}
    for s in range(seeds):
        spec = capacity.spec(chain, "numpy", seq_len, s, SMALL)
        out[key(spec)] = {**spec, "status": "ok", "solved": s in solved_seeds}
    return out


def test_next_jobs_walk_the_lengths_and_stop_once_no_seed_solves():
    chain = ("temporal2", "lstm", "default")

    def lengths_of(done):
        return sorted(
            {(s["seq_len"], s["seed"]) for s in capacity.next_jobs(chain, "numpy", 3, SMALL, done, SEARCH)}
        )

    assert lengths_of({}) == [(10, 0), (10, 1), (10, 2)]
    partial = done_at(chain, 10, {0})
    del partial[key(capacity.spec(chain, "numpy", 10, 2, SMALL))]
    assert lengths_of(partial) == [(10, 2)]  # the missing seed first
    one_solved = done_at(chain, 10, {2})
    assert lengths_of(one_solved) == [(20, 0), (20, 1), (20, 2)]  # one seed is enough to go on
    assert lengths_of({**one_solved, **done_at(chain, 20, set())}) == []  # no seed at 20: over
    every = {k: v for t in SEARCH for k, v in done_at(chain, t, {0}).items()}
    assert lengths_of(every) == []  # every length done


def test_when_the_first_length_fails_lengths_halve_down_to_the_tasks_shortest():
    chain = ("adding", "rnn", "default")
    search = [20, 40]

    def lengths_of(done):
        return sorted({s["seq_len"] for s in capacity.next_jobs(chain, "numpy", 3, SMALL, done, search)})

    failed = done_at(chain, 20, set())
    assert lengths_of(failed) == [10]
    assert lengths_of({**failed, **done_at(chain, 10, set())}) == [5]
    assert lengths_of({**failed, **done_at(chain, 10, {1})}) == []  # reach found: 10
    every = {k: v for t in (20, 10, 5, 2, 1) for k, v in done_at(chain, t, set()).items()}
    assert lengths_of(every) == []
    copy = ("copy", "rnn", "default")
    assert capacity.next_jobs(copy, "numpy", 3, SMALL, done_at(copy, 10, set()), [10, 20]) == []
    temporal = ("temporal2", "rnn", "default")  # shortest length 10: nothing below
    assert capacity.next_jobs(temporal, "numpy", 3, SMALL, done_at(temporal, 10, set()), [10, 20]) == []


def test_a_search_goes_as_far_as_each_cell_reaches_and_no_further():
    calls = []
    chains = capacity.chains(["temporal2"], ["rnn", "lstm"], ["default"])
    done = {}
    out = capacity.run(
        chains,
        NUMPY,
        3,
        lambda task: SMALL,
        SEARCH,
        done,
        jobs=2,
        runner=fake_runner({"rnn": 10, "lstm": 40}, calls),
    )
    tried = {(s["cell"], s["seq_len"]) for s in calls}
    assert tried == {("rnn", 10), ("rnn", 20), ("lstm", 10), ("lstm", 20), ("lstm", 40), ("lstm", 80)}
    assert len(calls) == 3 * len(tried) == len(out) == len(done)
    (rnn, lstm) = sorted(capacity.reach(out.values()), key=lambda r: r["cell"], reverse=True)
    assert (rnn["cell"], rnn["longest_half"], rnn["longest_any"]) == ("rnn", 10, 10)
    assert (lstm["longest_half"], lstm["longest_any"], lstm["seeds"]) == (40, 40, 3)
    assert lstm["by_length"][40]["fraction"] == pytest.approx(2 / 3)
    assert lstm["by_length"][80]["solved"] == 0 and not lstm["capped"]
    capped = capacity.reach(
        capacity.run(
            chains[1:], NUMPY, 3, lambda task: SMALL, SEARCH, {}, runner=fake_runner({"lstm": 80})
        ).values()
    )
    assert capped[0]["capped"] and capped[0]["longest_half"] == 80


def test_finished_records_are_never_run_again_and_an_interrupted_search_resumes():
    chains = capacity.chains(["temporal2"], ["lstm"], ["default"])
    runner = fake_runner({"lstm": 20})
    first = capacity.run(chains, NUMPY, 3, lambda task: SMALL, SEARCH, {}, runner=runner)
    calls = []
    capacity.run(
        chains,
        NUMPY,
        3,
        lambda task: SMALL,
        SEARCH,
        dict(first),
        runner=fake_runner({"lstm": 20}, calls),
    )
    assert calls == []
    interrupted = dict(list(first.items())[:4])  # length 10 done, one seed of length 20
    calls = []
    again = capacity.run(
        chains,
        NUMPY,
        3,
        lambda task: SMALL,
        SEARCH,
        interrupted,
        runner=fake_runner({"lstm": 20}, calls),
    )
    assert len(calls) == len(first) - 4
    assert {k: v["solved"] for k, v in again.items()} == {k: v["solved"] for k, v in first.items()}


def test_a_crashed_job_is_recorded_counts_as_unsolved_and_is_tried_again_later():
    chains = capacity.chains(["temporal2"], ["lstm"], ["default"])
    records = []

    def crash(spec, timeout_s):
        return {"status": "crash", "error": "worker killed by SIGSEGV", "solved": False}

    done = {}
    capacity.run(chains, NUMPY, 2, lambda task: SMALL, SEARCH, done, runner=crash, on_record=records.append)
    assert [r["status"] for r in records] == ["crash", "crash"] and done == {}


def test_a_job_stops_once_it_solves_and_records_the_step():
    spec = capacity.spec(("temporal2", "lstm", "default"), "numpy", 10, 0, {**SMALL, "steps": 1500})
    record = training_job.run_job(spec)
    assert record["solved"] and record["accuracy"] > 0.99
    assert record["solved_step"] == record["steps_run"] < spec["steps"]
    assert record["solved_step"] % spec["eval_every"] == 0
    assert record["validation_curve"][-1][0] == record["solved_step"]
    assert record["learning_curve"][-1][0] == record["solved_step"]


def test_a_job_that_does_not_solve_runs_its_whole_budget():
    spec = capacity.spec(
        ("temporal2", "rnn", "default"), "numpy", 40, 0, {**SMALL, "steps": 20, "eval_every": 10}
    )
    record = training_job.run_job(spec)
    assert not record["solved"] and record["solved_step"] is None and record["steps_run"] == 20
    assert [p[0] for p in record["validation_curve"]] == [10, 20]


def test_checkpoints_hold_the_canonical_weights_at_their_steps(tmp_path):
    spec = capacity.spec(("adding", "gru", "forget1"), "numpy", 6, 3, {**SMALL, "steps": 4, "eval_every": 0})
    spec.update(checkpoints=[0, 2, 4], checkpoint_dir=str(tmp_path))
    training_job.run_job(spec)
    saved = {s: dict(np.load(training_job.checkpoint_path(spec, s))) for s in (0, 2, 4)}
    initial = impls.create("numpy", "gru", 2, 16, 1, "float32", seed=3, init="forget1").get_params()
    for name, value in initial.items():
        np.testing.assert_array_equal(saved[0][name], value)
    assert not np.array_equal(saved[2]["weight_hh_l0"], saved[4]["weight_hh_l0"])
    assert {"readout.weight", "readout.bias"} <= set(saved[4])


def throughput(name, cell, seconds, first=0.0, cpu="A", seq_len=100):
    return {
        "throughput": True,
        "implementation": name,
        "cell": cell,
        "seq_len": seq_len,
        "seconds_per_step": seconds,
        "first_step_seconds": first,
        "environment": {"cpu": cpu},
    }


def test_the_cheapest_implementation_per_cell_counts_its_compile_and_this_cpu_only():
    records = [
        throughput("numpy", "rnn", 0.004),
        throughput("jax", "rnn", 0.003, first=2.0),  # 5 s a job against numpy's 4 s
        throughput("numpy", "lstm", 0.016),
        throughput("torch", "lstm", 0.005),
        throughput("torch", "rnn", 0.001, cpu="B"),
    ]
    assert fastest(records, "A") == {("rnn", 100): "numpy", ("lstm", 100): "torch"}
    assert fastest(records, "C") == {}


def packed(name, cell, seconds, runs, seq_len=100, fused=True):
    return {
        **throughput(name, cell, seconds, seq_len=seq_len),
        "throughput": runs,
        **({"runs_per_step": runs} if fused else {}),
    }


def test_runs_train_together_only_where_measured_cheaper_per_run_than_alone():
    records = [
        throughput("jax", "lstm", 0.010),
        packed("jax", "lstm", 0.030, 4),  # 7.5 ms a run: cheaper than alone
        packed("jax", "lstm", 0.200, 16),  # 12.5 ms a run
        throughput("torch", "lstm", 0.008),  # cheaper alone than jax is packed
        throughput("jax", "gru", 0.010),
        packed("jax", "gru", 0.080, 4),  # 20 ms a run: dearer
        throughput("torch", "gru", 0.009),
        packed("torch", "gru", 0.001, 4, fused=False),  # stepped in turn: not a together timing
        throughput("jax", "rnn", 0.010, seq_len=10),
        packed("jax", "rnn", 0.020, 4, seq_len=10),
    ]
    assert capacity.together(records, "A") == {("jax", "lstm", 100): 4, ("jax", "rnn", 10): 4}
    assert fastest(records, "A") == {("lstm", 100): "jax", ("gru", 100): "torch", ("rnn", 10): "jax"}
    pack = capacity.packer(records, "A")
    job = {"implementation": "jax", "cell": "rnn", "seq_len": 40}
    assert pack(job) == {**job, "together": 4}  # measured at T=10 only: the nearest
    assert pack({**job, "cell": "gru"}) == {**job, "cell": "gru"}
    assert capacity.packer(records, "B")(job) == job
    # packing measured dearer at T=80, cheaper at T=640: a T=160 job follows T=80, its nearest: alone
    records += [throughput("jax", "rnn", 0.010, seq_len=80), packed("jax", "rnn", 0.080, 4, seq_len=80)]
    records += [throughput("jax", "rnn", 0.010, seq_len=640), packed("jax", "rnn", 0.020, 4, seq_len=640)]
    pack = capacity.packer(records, "A")
    assert pack({**job, "seq_len": 160}) == {**job, "seq_len": 160}
    assert pack({**job, "seq_len": 640}) == {**job, "seq_len": 640, "together": 4}


def test_an_anchors_job_is_packed_from_the_timing_at_its_own_settings_where_there_is_one():
    at_anchor = {"anchor": "copy:tallec2018"}
    records = [throughput("jax", "lstm", 0.010), packed("jax", "lstm", 0.080, 4)]  # dearer packed
    records += [
        {**throughput("jax", "lstm", 0.200), **at_anchor},
        {**packed("jax", "lstm", 0.400, 4), **at_anchor},
    ]
    pack = capacity.packer(records, "A")
    job = {"implementation": "jax", "cell": "lstm", "seq_len": 100}
    assert pack(job) == job
    assert pack({**job, **at_anchor}) == {**job, **at_anchor, "together": 4}
    other = {**job, "anchor": "adding:arjovsky2016"}  # not timed at its settings: the search's
    assert pack(other) == other


def test_the_throughput_jobs_time_jax_training_runs_together():
    specs = capacity.throughput_specs(["gru"], ["numpy", "jax"], seq_lens=[10], together=(3,))
    assert [(s["implementation"], s["throughput"], s.get("together"), s["seed"]) for s in specs] == [
        ("numpy", True, None, 0),
        ("jax", True, None, 0),
        ("jax", 3, 3, 0),
        ("jax", 3, 3, 1),
        ("jax", 3, 3, 2),
    ]
    assert len({key(s) for s in specs}) == 5


@pytest.mark.skipif("jax" not in impls.available(), reason="jax is not installed")
def test_a_search_trains_seeds_together_and_keeps_a_record_per_seed(capsys, tmp_path):
    path = tmp_path / "capacity.json"
    argv = ["run", "capacity", "--tasks", "adding", "--cells", "gru", "--init", "default", "--impls", "jax"]
    argv += ["--at", "4", "--seeds", "3", "--steps", "30", "--hidden-size", "4", "--together", "3"]
    code, out = run_cli(capsys, *argv, "--json", str(path), "--jobs", "1")
    assert code == 0, out.err
    records = read_records(path)
    assert sorted(r["seed"] for r in records) == [0, 1, 2]
    assert {r["runs_per_step"] for r in records} == {3} and {r["status"] for r in records} == {"ok"}
    assert len({json.dumps(r["learning_curve"]) for r in records}) == 3


def test_each_length_is_searched_on_the_cheapest_implementation_measured_nearest_to_it():
    from suite.studies.capacity.search import searched_on

    records = [
        throughput("numpy", "lstm", 0.004, seq_len=10),
        throughput("torch", "lstm", 0.005, seq_len=10),
        throughput("numpy", "lstm", 0.050, seq_len=160),  # subnormals: NumPy cannot flush them
        throughput("torch", "lstm", 0.010, seq_len=160),
        throughput("jax", "gru", 0.001, seq_len=10),
    ]
    choose, table = searched_on(records, "A", ["numpy", "torch"])
    assert table == {("lstm", 10): "numpy", ("lstm", 160): "torch"}  # jax is not installed: left out
    assert [choose("lstm", t) for t in (10, 20, 40, 80, 320)] == ["numpy", "numpy", "numpy", "torch", "torch"]
    assert choose("gru", 40) == "torch"  # nothing measured for the GRU: the fallback
    assert searched_on([], "A", ["numpy"])[0]("rnn", 10) == "numpy"


def test_the_command_resumes_from_its_results_file_without_running_a_finished_job(capsys, tmp_path):
    path = tmp_path / "capacity.json"
    chain = ("temporal2", "lstm", "default")
    spec = capacity.spec(chain, "numpy", 10, 0, capacity.settings_for("temporal2", steps=30))
    write_records(
        path,
        [{"kind": "capacity", **spec, "status": "ok", "solved": False, "accuracy": 0.3, "environment": {}}],
    )
    code, cap = run_cli(
        capsys,
        *[
            "run",
            "capacity",
            "--tasks",
            "temporal2",
            "--cells",
            "lstm",
            "--init",
            "default",
            "--impls",
            "numpy",
            "--seeds",
            "1",
            "--steps",
            "30",
            "--json",
            str(path),
        ],
    )
    assert code == 0, cap.err
    assert "1 finished jobs read" in cap.err and "T=10 seed 0" not in cap.err
    assert len(read_records(path)) == 1


def test_the_command_runs_fixed_points_for_several_implementations(capsys, tmp_path):
    path = tmp_path / "at.json"
    code, cap = run_cli(
        capsys,
        *[
            "run",
            "capacity",
            "--tasks",
            "adding",
            "--cells",
            "gru",
            "--init",
            "default",
            "--impls",
            "numpy,numpy",
            "--at",
            "6",
            "--seeds",
            "2",
            "--steps",
            "4",
            "--eval-every",
            "2",
            "--hidden-size",
            "4",
            "--json",
            str(path),
        ],
    )
    assert code == 0, cap.err
    records = read_records(path)
    assert sorted(r["seed"] for r in records) == [0, 1]
    assert all(r["steps_run"] == 4 and r["environment"]["cpu"] for r in records)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--tasks", "parity"], "unknown task 'parity'"),
        (["--seeds", "0"], "--seeds must be > 0"),
        (["--start", "40", "--longest", "20"], "start"),
        (["--cells", "rnn", "--init", "chrono"], "nothing to run"),
        (["--impls", "numpy,torch"], "one implementation"),
        (["--at", "0"], "--at must be lengths"),
        (["--at", "ten"], "--at must be comma-separated integers"),
        (["--impls", "nosuch"], "unknown implementation"),
        (["--impls", "numpy", "--device", "gpu", "--at", "10"], "numpy cannot run on the gpu"),
        (["--device", "tpu"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2(capsys, tmp_path, argv, message):
    code, cap = run_cli(capsys, "run", "capacity", "--json", str(tmp_path / "c.json"), *argv)
    assert code == 2 and message in cap.err


def test_a_gpu_job_has_its_own_key_and_a_cpu_job_keeps_the_key_it_had_before_devices():
    chain = ("temporal2", "lstm", "default")
    cpu = capacity.spec(chain, "torch", 40, 0, SMALL)
    gpu = capacity.spec(chain, "torch", 40, 0, capacity.settings_for("temporal2", device="gpu"))
    assert "device" not in cpu and gpu["device"] == "gpu"
    assert key(cpu) == key({**cpu, "device": "cpu"})
    assert key({**gpu, **SMALL, "device": "gpu"}) != key(cpu)
    assert capacity.where(cpu) == "torch" and capacity.where(gpu) == "torch (gpu)"


def test_the_framework_comparison_keeps_the_gpus_outcomes_apart_from_the_cpus():
    chain = ("temporal2", "lstm", "default")
    records = []
    for device in (None, "gpu"):
        settings = capacity.settings_for("temporal2", device=device)
        for seed in range(2):
            s = capacity.spec(chain, "torch", 40, seed, settings)
            records.append({"kind": "capacity", **s, "status": "ok", "solved": seed == 0, "accuracy": 1.0})
    rows = capacity.framework_points(records)
    outcomes = sorted((r["implementation"], r["solved"], r["seeds"]) for r in rows)
    assert outcomes == [("torch", 1, 2), ("torch (gpu)", 1, 2)]


def test_training_on_the_gpu_without_one_exits_2(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr("suite.environment.gpu_names", lambda: [])
    argv = ["--impls", "torch", "--device", "gpu", "--at", "10", "--json", str(tmp_path / "c.json")]
    code, cap = run_cli(capsys, "run", "capacity", *argv)
    assert code == 2 and "no GPU here" in cap.err


@pytest.mark.parametrize(
    "name", framework_params([n for n in impls.registry.names() if "gpu" in impls.get(n).devices], "gpu")
)
def test_a_job_trains_on_the_gpu_and_says_so(name):
    """Skips cleanly where the implementation is not installed or sees no GPU."""
    settings = capacity.settings_for("temporal2", steps=20, hidden_size=8, eval_every=10, device="gpu")
    spec = capacity.spec(("temporal2", "lstm", "default"), name, 10, 0, settings)
    try:
        record = training_job.run_job(spec)
    except impls.DeviceUnavailableError as e:
        pytest.skip(str(e))
    assert record["status"] == "ok" and record["steps_run"] == 20 and record["path"]


def test_a_corrupt_results_file_is_a_clear_error(capsys, tmp_path):
    path = tmp_path / "capacity.json"
    path.write_text(json.dumps({"format": "rnnbench-results", "schema_version": 2, "records": "x"}))
    code, cap = run_cli(capsys, "run", "capacity", "--impls", "numpy", "--json", str(path))
    assert code == 2 and "cannot resume" in cap.err


def test_two_runs_writing_one_file_keep_each_others_finished_jobs():
    chain = ("temporal2", "lstm", "default")
    a, b = done_at(chain, 10, {0}), done_at(chain, 20, {1})
    failed = {**capacity.spec(chain, "numpy", 10, 0, SMALL), "status": "crash"}
    merged = merge(a.values(), b.values(), [failed])  # a crash never replaces a finished job
    assert len(merged) == 6 and all(r["status"] == "ok" for r in merged)
    retried = capacity.spec(chain, "numpy", 40, 0, SMALL)
    merged = merge([{**retried, "status": "crash"}], [{**retried, "status": "timeout"}])
    assert [r["status"] for r in merged] == ["timeout"]


def test_an_interrupt_starts_no_new_job():
    chains = capacity.chains(["temporal2"], ["lstm"], ["default"])
    calls = []

    def interrupt(record):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        capacity.run(
            chains,
            NUMPY,
            5,
            lambda task: SMALL,
            SEARCH,
            {},
            jobs=1,
            runner=fake_runner({"lstm": 80}, calls),
            on_record=interrupt,
        )
    assert len(calls) <= 2  # the first job, and at most one already taken by the worker


def test_an_interrupt_lets_the_jobs_in_flight_finish_and_records_them():
    import threading

    from suite.training import scheduler

    started, release, seen, calls = threading.Event(), threading.Event(), [], []

    def runner(spec, timeout_s):
        calls.append(spec["seed"])
        if spec["seed"] == 0:
            started.set()
            release.wait(5)
        return {"status": "ok", "seed": spec["seed"]}

    def on_result(spec, result):
        seen.append(spec["seed"])
        if spec["seed"] == 1:  # the user interrupts while seed 0 is still training
            release.set()
            raise KeyboardInterrupt

    first = [
        (None, {**SMALL, "task": "adding", "implementation": "numpy", "cell": "gru", "seq_len": 5, "seed": s})
        for s in range(4)
    ]
    with pytest.raises(KeyboardInterrupt):
        scheduler.schedule(first, on_result, jobs=2, runner=runner)
    assert started.is_set() and 0 in seen  # seed 0 was in flight when the interrupt came: recorded
    assert (
        sorted(seen) == sorted(calls) and len(calls) <= 3
    )  # every job started is recorded; seed 3 never starts


def test_a_second_interrupt_gives_the_jobs_in_flight_up():
    import threading

    from suite import harness
    from suite.training import scheduler

    first_done = threading.Event()

    def runner(spec, timeout_s):
        if spec["seed"] == 0:  # still training when the first interrupt comes
            first_done.wait(10)
        return {"status": "ok", "seed": spec["seed"]}

    def on_result(spec, result):
        first_done.set()
        raise KeyboardInterrupt  # the first after seed 1; the second while seed 0's result is handed over

    first = [
        (None, {**SMALL, "task": "adding", "implementation": "numpy", "cell": "gru", "seq_len": 5, "seed": s})
        for s in range(2)
    ]
    try:
        with pytest.raises(KeyboardInterrupt):
            scheduler.schedule(first, on_result, jobs=2, runner=runner)
        assert harness.ABANDON.is_set()  # the harness's workers are told to stop (test_harness: killed)
    finally:
        harness.ABANDON.clear()


def test_jobs_sharing_a_gpu_do_not_let_jax_claim_its_memory_up_front(capsys, monkeypatch, tmp_path):
    from suite.studies.capacity import command

    seen = {}
    monkeypatch.delenv("XLA_PYTHON_CLIENT_PREALLOCATE", raising=False)
    monkeypatch.setattr("suite.environment.gpu_names", lambda: ["NVIDIA H200"])
    monkeypatch.setattr(command.capacity, "run_grid", lambda *a, **k: seen.update(os.environ))
    argv = ["--impls", "torch", "--device", "gpu", "--at", "10", "--jobs", "2"]
    argv += ["--json", str(tmp_path / "c.json")]
    run_cli(capsys, "run", "capacity", *argv)
    assert seen["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"


def test_seed_agreement_counts_outcomes_that_match_the_majority_at_their_seed():
    chain = ("temporal2", "lstm", "default")
    records = []
    for impl, solved_seeds, seeds in (("torch", {0, 1}, 3), ("jax", {0, 1, 2}, 3), ("numpy", {0}, 1)):
        for seed in range(seeds):
            s = capacity.spec(chain, impl, 40, seed, SMALL)
            records.append({"kind": "capacity", **s, "status": "ok", "solved": seed in solved_seeds})
    (row,) = capacity.seed_agreement(records)
    # seed 0: 3 of 3; seed 1: 2 of 2; seed 2: torch no, jax yes: 1 of 2
    assert row["runs"] == ["jax", "numpy", "torch"] and (row["agree"], row["outcomes"]) == (6, 7)


def test_a_search_runs_each_length_on_its_chooser_and_reads_back_as_one_chain():
    chain = ("temporal2", "lstm", "default")

    def choose(cell, seq_len):
        return "numpy" if seq_len < 40 else "torch"

    done = {}
    outcomes = capacity.run(
        [chain], choose, 2, lambda task: SMALL, [10, 20, 40, 80], done, runner=fake_runner({"lstm": 40})
    )
    ran = {(r["seq_len"], r["implementation"]) for r in outcomes.values()}
    assert ran == {(10, "numpy"), (20, "numpy"), (40, "torch"), (80, "torch")}
    # the framework comparison at T=40 on two more implementations does not split or change the chain
    extra = [
        {**capacity.spec(chain, name, 40, s, SMALL), "kind": "capacity", "status": "ok", "solved": False}
        for name in ("jax", "tensorflow")
        for s in range(2)
    ]
    (row,) = capacity.search_rows([*outcomes.values(), *extra])
    assert row["longest_half"] == 40 and row["implementation"] == "numpy, torch"
    assert row["by_length"][40]["implementations"] == ["torch"]


def test_the_search_trains_each_task_at_its_published_budget_unless_told_otherwise():
    import tasks

    assert tasks.get("adding").budget == 400_000 and tasks.get("temporal3").budget == 600_000
    settings = capacity.settings_for("adding")
    assert settings["steps"] * settings["batch_size"] == 400_000 and settings["eval_every"] == 200
    assert capacity.settings_for("adding", steps=50, eval_every=10) | {} == {
        **settings,
        "steps": 50,
        "eval_every": 10,
    }
    assert capacity.in_steps(31_390, 20) == (1570, 100)


def test_the_plan_prices_every_length_from_the_throughput_measured_nearest_it():
    records = [
        throughput("torch", "lstm", 0.010, seq_len=100),
        throughput("torch", "lstm", 0.040, seq_len=400),
    ]
    rows = capacity.plan(
        [("adding", "lstm", "default"), ("copy", "lstm", "default")],
        lambda cell, t: "torch",
        5,
        lambda task: capacity.settings_for(task, steps=1000),
        [100, 200],
        records,
        "A",
    )
    adding = [r for r in rows if r["task"] == "adding"]
    assert [r["ms_per_step"] for r in adding] == [pytest.approx(10.0), pytest.approx(20.0)]  # nearest: T=100
    assert adding[0]["worst_hours"] == pytest.approx(5 * 1000 * 0.010 / 3600)
    assert adding[1]["chain_hours"] == pytest.approx(5 * 1000 * 0.030 / 3600)
    copy = [r for r in rows if r["task"] == "copy"]
    assert copy[0]["ms_per_step"] == pytest.approx(10.0 * 120 / 100)  # copy's sequence is T + 20 steps long
    unmeasured = capacity.plan(
        [("adding", "gru", "default")], lambda c, t: "torch", 5, capacity.settings_for, [100], records, "A"
    )
    assert unmeasured[0]["worst_hours"] is None and unmeasured[0]["chain_hours"] is None


def test_the_plan_command_prints_the_cost_and_trains_nothing(capsys, monkeypatch, tmp_path):
    code, out = run_cli(
        capsys, "run", "capacity", "--plan", "--tasks", "temporal2", "--cells", "lstm", "--impls", "numpy"
    )
    assert code == 0, out.err
    assert "core-hours at worst" in out.out and "temporal2" in out.out


def published_job(chain, name, seq_len, seed, solved, wall=0.0, **extra):
    spec = capacity.spec(chain, name, seq_len, seed, capacity.settings_for(chain[0]))
    return {**spec, "kind": "capacity", "status": "ok", "solved": solved, "wall_seconds": wall, **extra}


def test_the_search_cost_counts_each_cpu_job_at_the_published_budget_once():
    chain = ("adding", "lstm", "default")
    records = [
        published_job(chain, "torch", 10, 0, True, wall=3600.0),
        published_job(chain, "torch", 10, 1, True, wall=3600.0),
        *[
            published_job(chain, "jax", 20, s, True, wall=3600.0, runs_per_step=4, together=4)
            for s in range(4)
        ],
        *[
            {**published_job(chain, "jax", 40, s, False, wall=1800.0, together=4), "status": "timeout"}
            for s in range(4)
        ],
        {**published_job(chain, "torch", 40, 0, True, wall=3600.0), "steps": 2000},  # the earlier budget
        {**published_job(chain, "torch", 40, 1, True, wall=3600.0), "device": "gpu"},
        {**published_job(chain, "torch", 40, 2, True, wall=3600.0), "anchor": "adding:x"},
        {**published_job(chain, "torch", 40, 3, True, wall=3600.0), "throughput": True},
    ]
    # two jobs alone, four runs trained together in one, four more that timed out together at half an hour
    assert capacity.spent(records) == {"adding": pytest.approx(3.5)}


def test_what_is_still_to_train_resumes_each_chain_where_its_records_stop():
    lstm, gru, rnn = ("adding", "lstm", "chrono"), ("adding", "gru", "default"), ("adding", "rnn", "default")
    records = [published_job(lstm, "jax", 10, s, s == 0) for s in range(5)]  # T=10 passed: T=20 next
    records += [published_job(gru, "numpy", 10, s, False) for s in range(3)]  # 2 seeds short, on numpy
    records += [published_job(rnn, "jax", 10, s, False) for s in range(5)]  # over: T=5 then 2
    records += [published_job(rnn, "jax", t, s, False) for t in (2, 5) for s in range(5)]
    measured = [throughput("torch", "lstm", 0.010, cpu="A", seq_len=20)]
    left = {
        (q["task"], q["cell"], q["init"]): q for q in capacity.queued(records, measured, "A", search=[10, 20])
    }
    assert rnn not in left
    assert left[lstm] == {
        "task": "adding",
        "cell": "lstm",
        "init": "chrono",
        "T": 20,
        "seeds": 5,
        "implementation": "torch",  # the cheapest measured on this CPU
        "worst_hours": pytest.approx(5 * 20_000 * 0.010 / 3600),
    }
    assert (left[gru]["T"], left[gru]["seeds"], left[gru]["implementation"]) == (10, 2, "numpy")
    assert left[gru]["worst_hours"] is None  # no throughput for the GRU
    assert all(q["T"] == 10 and q["seeds"] == 5 for c, q in left.items() if c not in (lstm, gru))


def test_a_chain_resumes_on_the_implementation_most_of_its_runs_used_the_first_by_name_on_a_tie():
    assert capacity.most_run(["torch", "jax-flax", "torch"]) == "torch"
    assert capacity.most_run(["torch", "jax-flax"]) == "jax-flax"
    assert capacity.most_run(["numpy"]) == "numpy"
