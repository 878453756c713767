"""The published anchors rerun at their own settings: the jobs they make, the table they give, and the
command that runs them (on a stand-in runner: the real budgets take hours)."""

import math

import pytest

import tasks
from suite.records import read_records
from suite.report.page import Report
from suite.studies.capacity import anchors, report
from suite.studies.capacity import search as capacity
from suite.training import scheduler, spec
from tests.conftest import run_cli
from tests.suite.studies.capacity.test_search import throughput


def numpy_everywhere(anchor, cell, init, seq_len):
    return "numpy"


def test_the_adding_anchor_runs_arjovskys_setting_at_his_lengths_with_the_gru_beside_it():
    jobs = [j for j in anchors.specs(["adding"], 5, numpy_everywhere) if j["anchor"] == "adding:arjovsky2016"]
    assert {(j["cell"], j["seq_len"]) for j in jobs} == {
        (c, t) for c in ("lstm", "rnn", "gru") for t in (100, 200, 400)
    }
    assert len(jobs) == 9 * 5 and len({spec.key(j) for j in jobs}) == len(jobs)
    j = jobs[0]
    assert (j["hidden_size"], j["batch_size"], j["optimizer"], j["lr"], j["clip"]) == (
        128,
        20,
        "rmsprop",
        1e-3,
        1.0,
    )
    assert j["steps"] == 20_000 and j["eval_every"] == 200 and j["threads"] == 1  # 400,000 sequences


def test_the_probe_of_the_t400_difference_trains_the_lstm_as_their_script_did_and_no_gru():
    jobs = [j for j in anchors.specs(["adding"], 5, numpy_everywhere) if "script" in j["anchor"]]
    assert {(j["cell"], j["seq_len"], j["init"], j["clip"]) for j in jobs} == {("lstm", 400, "glorot", None)}
    paper = [
        j for j in anchors.specs(["adding"], 5, numpy_everywhere) if j["anchor"] == "adding:arjovsky2016"
    ]
    probe = {spec.key(j) for j in jobs}
    assert len(probe) == 5 and not probe & {spec.key(j) for j in paper}  # its own jobs, not the rerun's


def test_chrono_against_forget_bias_1_on_copy_500_and_budgets_rounded_up():
    jobs = anchors.specs(["copy"], 1, numpy_everywhere)
    tallec = {(j["cell"], j["init"]) for j in jobs if j["anchor"] == "copy:tallec2018"}
    assert tallec == {("lstm", "forget1"), ("lstm", "chrono"), ("gru", "forget1"), ("gru", "chrono")}
    assert all(j["clip"] is None for j in jobs if j["anchor"] == "copy:tallec2018")
    h_s = [j for j in anchors.specs(["temporal3"], 1, numpy_everywhere) if j["cell"] == "lstm"]
    assert [j["init"] for j in h_s] == ["forget1", "chrono"]  # their LSTM has no forget gate: biased open
    assert h_s[0]["steps"] * h_s[0]["batch_size"] >= 571_100  # at least Hochreiter & Schmidhuber's budget
    assert anchors.budget({"batch_size": 20}, 31_390)["steps"] == 1570


def test_every_rerun_anchor_is_described_and_quoted_ones_only_quote():
    for name in tasks.TASKS:
        for a in tasks.get(name).anchors:
            assert a.source and a.result and a.cells
            if a.lengths:
                assert a.sequences > 0 and {"hidden_size", "batch_size", "optimizer", "lr"} <= set(a.settings)


def test_the_table_sets_each_anchor_beside_the_outcome_and_the_search_ignores_anchor_jobs():
    jobs = [j for j in anchors.specs(["temporal2"], 2, numpy_everywhere) if j["seq_len"] == 100]
    records = [
        {
            **j,
            "kind": "capacity",
            "status": "ok",
            "solved": j["seed"] == 0,
            "solved_step": 800,
            "test_loss": 0.1,
            "accuracy": 0.99,
        }
        for j in jobs
    ]
    rows = {r["cell"]: r for r in anchors.rows(records)}
    assert rows["lstm"]["solved"] == 1 and rows["lstm"]["seeds"] == 2
    assert rows["lstm"]["median_solve_sequences"] == 800 * 20
    assert "31,390" in rows["lstm"]["published"] and rows["gru"]["published"].startswith("no published")
    assert capacity.search_rows(records) == []
    assert rows["lstm"]["below_baseline"] is None  # records that name no baseline


def test_an_anchor_nothing_solves_says_how_many_seeds_ended_below_the_memoryless_baseline():
    jobs = [j for j in anchors.specs(["copy"], 3, numpy_everywhere) if j["seq_len"] == 100]
    losses = {0: 0.15, 1: 0.168, 2: 0.13}  # 0.168 is within 5 % of the baseline 0.1733: not below
    records = [
        {**j, "kind": "capacity", "status": "ok", "solved": False, "test_loss": losses[j["seed"]]}
        | {"accuracy": 0.2, "baseline_loss": 10 * math.log(8) / 120}
        for j in jobs
    ]
    (lstm,) = [r for r in anchors.rows(records) if r["cell"] == "lstm"]
    assert (
        lstm["solved"] == 0
        and lstm["below_baseline"] == 2
        and lstm["baseline"] == pytest.approx(0.1733, 1e-3)
    )


def test_the_command_reruns_the_anchors_and_resumes(capsys, monkeypatch, tmp_path):
    ran = []

    def stand_in(job, timeout_s):
        ran.append(job)
        return {"status": "ok", "solved": True, "solved_step": 100, "test_loss": 0.0, "accuracy": 1.0}

    monkeypatch.setattr(scheduler, "run_in_subprocess", stand_in)
    path = tmp_path / "anchors.json"
    argv = ["run", "capacity", "--anchors", "--tasks", "temporal2", "--impls", "numpy", "--seeds", "2"]
    code, out = run_cli(capsys, *argv, "--json", str(path))
    assert code == 0 and len(ran) == 2 * 2 * 2  # the LSTM (the paper's) and the GRU, 2 inits, T=100, 2 seeds
    assert {r["anchor"] for r in read_records(path)} == {"temporal2:hochreiter1997"}
    assert "hochreiter" in out.out.lower() or "Hochreiter" in out.out
    assert run_cli(capsys, *argv, "--json", str(path))[0] == 0 and len(ran) == 8  # all finished: none rerun
    argv[argv.index("numpy")] = "torch"  # another implementation named: the finished seeds still count
    code, out = run_cli(capsys, *argv, "--json", str(path))
    assert code == 0 and len(ran) == 8 and "8 jobs, 8 already done" in out.err


def test_a_budget_in_sequences_sets_the_steps_and_not_with_steps_too(capsys, monkeypatch, tmp_path):
    seen = []
    monkeypatch.setattr(scheduler, "run_in_subprocess", lambda job, t: seen.append(job) or {"status": "ok"})
    argv = ["run", "capacity", "--tasks", "adding", "--cells", "rnn", "--impls", "numpy", "--seeds", "1"]
    argv += ["--at", "10", "--batch-size", "20", "--json", str(tmp_path / "c.json")]
    assert run_cli(capsys, *argv, "--sequences", "101")[0] == 0 and seen[0]["steps"] == 6  # rounded up
    code, out = run_cli(capsys, *argv, "--sequences", "100", "--steps", "5")
    assert code == 2 and "not both" in out.err


def test_the_points_short_of_five_seeds_are_listed_with_the_commands_that_finish_them(tmp_path):
    every = [j for t in capacity.TASKS for j in anchors.specs([t], 5, numpy_everywhere)]
    done = [{**j, "kind": "capacity", "status": "ok", "solved": False} for j in every if j["seq_len"] != 400]
    crashed = [{**j, "kind": "capacity", "status": "crash"} for j in every if j["seq_len"] == 400]
    gaps = anchors.missing(done + crashed)
    assert {(g["task"], g["T"]) for g in gaps} == {("adding", 400)} and all(g["seeds"] == 0 for g in gaps)
    assert anchors.missing(done[1:])[0]["seeds"] == 4 and len(anchors.missing(done + crashed[:0])) == 4

    page = Report(tmp_path)
    report._missing_anchors(page, [r for r in done if r["seq_len"] != 500])
    text = "\n".join(page.parts)
    assert "Not complete yet** (8 points" in text and "copy LSTM chrono T=500: 0/5" in text
    assert "--tasks adding --at 400 --seeds 5" in text and report.GPU_ANCHORS in text
    assert "adding LSTM glorot T=400 (probe): 0/5" in text
    assert "core-hours" not in text  # no throughput: no cost

    timed = [
        {
            "throughput": True,
            "implementation": "numpy",
            "cell": cell,
            "seq_len": 520,
            "seconds_per_step": 0.036,
            "first_step_seconds": 0.0,
            "environment": {"cpu": "A"},
        }
        for cell in ("lstm", "gru")
    ]
    ran = [{**r, "environment": {"cpu": "A"}} for r in done if r["seq_len"] != 500]
    page = Report(tmp_path)
    report._missing_anchors(page, ran + timed)
    text = "\n".join(page.parts)
    # 4 points x 5 seeds x 25,000 steps x 36 ms (copy at T=500 is 520 steps long, as timed)
    assert "On A the 20 runs left at T>=500 would take at least 5 core-hours (25,000 steps each" in text
    assert "`rnnbench run capacity --anchors --tasks copy --at 500 --seeds 5 --jobs 2` runs them" in text


def test_the_anchors_throughput_is_timed_at_their_own_settings_and_lengths():
    jobs = anchors.throughput_specs(["copy"], ["numpy"], at=[500])
    assert {(j["anchor"], j["cell"], j["seq_len"]) for j in jobs} == {
        ("copy:tallec2018", "lstm", 500),
        ("copy:tallec2018", "gru", 500),
    }  # one timing per cell: the inits cost the same
    j = jobs[0]
    assert (j["task"], j["hidden_size"], j["optimizer"], j["clip"], j["throughput"]) == (
        "copy",
        128,
        "rmsprop",
        None,
        True,
    )
    assert j["steps"] == capacity.THROUGHPUT_STEPS and j["eval_every"] == 0


def timing(name, cell, seconds, anchor=None, seq_len=500):
    return {**throughput(name, cell, seconds, seq_len=seq_len), **({"anchor": anchor} if anchor else {})}


def test_an_anchor_runs_on_the_cheapest_at_its_own_settings_where_timed_and_resumes_on_its_own():
    # at the search's hidden 50 jax is cheaper; at the anchor's hidden 128, torch
    timed = [timing("jax", "lstm", 0.02), timing("torch", "lstm", 0.03)]
    timed += [
        timing("jax", "lstm", 0.20, "copy:tallec2018"),
        timing("torch", "lstm", 0.13, "copy:tallec2018"),
    ]
    installed = ["jax", "torch"]
    assert capacity.searched_on(timed, "A", installed)[0]("lstm", 500) == "jax"
    assert capacity.searched_on(timed, "A", installed, "copy:tallec2018")[0]("lstm", 500) == "torch"
    # an anchor nobody timed: the search's ranking
    assert capacity.searched_on(timed, "A", installed, "adding:arjovsky2016")[0]("lstm", 400) == "jax"

    def choose(anchor, cell, init, seq_len):
        return capacity.searched_on(timed, "A", installed, anchor)[0](cell, seq_len)

    jobs = [j for j in anchors.specs(["copy"], 2, choose) if j["anchor"] == "copy:tallec2018"]
    assert {j["implementation"] for j in jobs if j["cell"] == "lstm"} == {"torch"}
    ran_on_jax = [
        {**j, "implementation": "jax", "kind": "capacity", "status": "ok"}
        for j in jobs
        if (j["cell"], j["init"], j["seed"]) == ("lstm", "chrono", 0)
    ]
    resumed = anchors.specs(["copy"], 2, anchors.resumed_on(ran_on_jax, choose))
    chrono = [
        j for j in resumed if (j["anchor"], j["cell"], j["init"]) == ("copy:tallec2018", "lstm", "chrono")
    ]
    assert [j["implementation"] for j in chrono] == ["jax", "jax"]  # its finished seed's: found by its key
    assert spec.key(chrono[0]) == spec.key(ran_on_jax[0])
    forget1 = [
        j for j in resumed if (j["anchor"], j["cell"], j["init"]) == ("copy:tallec2018", "lstm", "forget1")
    ]
    assert {j["implementation"] for j in forget1} == {"torch"}
    on_gpu = anchors.specs(["copy"], 2, anchors.resumed_on(ran_on_jax, choose, "gpu"))  # not the CPU's
    assert {j["implementation"] for j in on_gpu if j["cell"] == "lstm" and j["seq_len"] == 500} == {"torch"}


def test_a_seed_finished_at_a_point_is_not_trained_again_on_another_implementation_or_device():
    jobs = anchors.specs(["copy"], 2, numpy_everywhere)
    point = ("copy:tallec2018", "lstm", "chrono", 0)
    seed0 = next(j for j in jobs if (j["anchor"], j["cell"], j["init"], j["seed"]) == point)
    elsewhere = [{**seed0, "implementation": "torch", "device": "gpu", "kind": "capacity", "status": "ok"}]
    left = anchors.unfinished(jobs, elsewhere)
    assert len(left) == len(jobs) - 1 and seed0 not in left
    assert anchors.unfinished(jobs, [{**elsewhere[0], "status": "timeout"}]) == jobs  # not finished: again


def test_the_command_times_the_anchors_and_keeps_the_searchs_timings(capsys, monkeypatch, tmp_path):
    ran = []

    def stand_in(job, timeout_s):
        ran.append(job)
        return {"status": "ok", "seconds_per_step": 0.1, "first_step_seconds": 0.2}

    monkeypatch.setattr(scheduler, "run_in_subprocess", stand_in)
    path = tmp_path / "throughput.json"
    argv = ["run", "capacity", "--throughput", "--impls", "numpy", "--cells", "gru", "--json", str(path)]
    assert run_cli(capsys, *argv, "--start", "10", "--longest", "10")[0] == 0
    code, out = run_cli(capsys, *argv, "--anchors", "--tasks", "copy", "--at", "500")
    assert code == 0, out.err
    records = read_records(path)
    assert sorted((r.get("anchor", ""), r["seq_len"], r["hidden_size"]) for r in records) == [
        ("", 10, 50),
        ("copy:tallec2018", 500, 128),
    ]
    assert "at copy:tallec2018's settings: gru T=500 numpy" in out.out


def test_a_points_cost_comes_from_its_own_runs_else_its_settings_timed_else_a_lower_bound(tmp_path):
    gaps = [g for g in anchors.missing([]) if g["anchor"] == "copy:tallec2018"]
    assert len(gaps) == 4
    search_timed = [timing("numpy", c, 0.036, seq_len=520) for c in ("lstm", "gru")]

    def cost(records):
        page = Report(tmp_path)
        report._missing_anchors(page, records)
        return "\n".join(page.parts)

    ran = [{"kind": "capacity", "anchor": "adding:arjovsky2016", "cell": "lstm", "environment": {"cpu": "A"}}]
    text = cost(ran + search_timed)
    assert "at least 5 core-hours" in text  # 20 x 25,000 x 36 ms
    assert "after `rnnbench run capacity --throughput --anchors --tasks copy --at 500` times" in text
    own = [timing("numpy", c, 0.144, "copy:tallec2018") for c in ("lstm", "gru")]
    text = cost(ran + search_timed + own)
    assert "would take about 20 core-hours" in text and "measured at the anchor's own settings" in text
    assert "--throughput" not in text
    # two finished LSTM seeds, one trained alone, one with another run: 72 ms a run's step
    chrono = {**own[0], "kind": "capacity", "status": "ok", "init": "chrono", "throughput": None}
    done = [{**chrono, "seconds_per_step": 0.072}, {**chrono, "seconds_per_step": 0.144, "runs_per_step": 2}]
    text = cost(ran + search_timed + own + done)
    # LSTM chrono: 3 runs x 72 ms, LSTM forget1: 5 x 72 ms, GRU: 10 x 144 ms, 25,000 steps each
    assert "the 18 runs left" in text and "would take about 14 core-hours" in text


def test_a_timing_at_an_anchors_settings_is_not_one_of_its_runs():
    timed = [{**j, "kind": "capacity", "status": "ok"} for j in anchors.throughput_specs(["copy"], ["numpy"])]
    assert timed and all(j["anchor"].startswith("copy:") for j in timed)
    assert not any(anchors.is_run(r) for r in timed)
    assert anchors.rows(timed) == [] and len(anchors.missing(timed)) == len(anchors.missing([]))
    jobs = anchors.specs(["copy"], 1, numpy_everywhere)
    assert anchors.unfinished(jobs, timed) == jobs
    assert report.anchors_figure([r for r in timed if anchors.is_run(r)]) is None
