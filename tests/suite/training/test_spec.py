"""The training spine's job identity: one key per job wherever it runs, the committed results read by it."""

from pathlib import Path

import pytest

from suite.records import read_records
from suite.studies.capacity import search as capacity
from suite.training import scheduler, spec

RESULTS = Path(__file__).resolve().parents[3] / "results"
SETTINGS = {"steps": 3, "batch_size": 4, "hidden_size": 4, "optimizer": "adam", "lr": 1e-3, "clip": 1.0}


def job(**kw):
    return spec.make("adding", "numpy", "lstm", 10, 0, **{**SETTINGS, "dtype": "float32", **kw})


def test_the_key_is_stable_and_ignores_what_does_not_change_the_outcome():
    s = job()
    assert spec.key(s) == spec.key(dict(reversed(s.items())))
    assert spec.key(s) == spec.key({**s, "threads": 2, "checkpoint_dir": "/elsewhere"})
    assert spec.key(s) != spec.key({**s, "seed": 1})
    assert spec.key(s) == spec.key({**s, "init": "default", "t_max": None, "device": "cpu"})
    assert spec.key(s) != spec.key({**s, "device": "gpu"})


def test_a_record_keeps_the_key_of_its_spec_chronos_t_max_included():
    s = job(init="chrono")
    result = {"status": "ok", "t_max": spec.chrono_t_max(s), "path": "numpy", "test_loss": 0.1}
    record = spec.record("capacity", s, {**result, "denormals": "kept"}, {"cpu": "x"})
    assert record["kind"] == "capacity" and record["environment"] == {"cpu": "x", "denormals": "kept"}
    assert "denormals" not in record  # what the job's process did with subnormals is where it ran
    assert spec.key(record) == spec.key(s) == spec.key({**s, "t_max": 15})
    assert spec.key(s) != spec.key({**s, "t_max": 30})


def test_the_learning_and_capacity_studies_name_the_same_job_alike():
    from suite.studies.learning import sweep

    settings = capacity.settings_for("adding", hidden_size=4)
    (swept,) = sweep.job_specs("adding", [20], ["numpy"], ["gru"], 1, settings)
    searched = capacity.spec(("adding", "gru", "default"), "numpy", 20, 0, settings)
    assert spec.key(swept) == spec.key(searched)


def test_merge_keeps_a_finished_job_over_a_later_failure():
    ok, crash = {**job(), "status": "ok"}, {**job(), "status": "crash"}
    assert spec.merge([ok], [crash]) == [ok]
    assert spec.merge([crash], [ok]) == [ok]
    assert list(scheduler.done([crash])) == []


@pytest.mark.parametrize("name", ["capacity.json", "capacity-gpu.json"])
def test_a_search_resumed_from_the_committed_results_reruns_none_of_their_jobs(name):
    records = read_records(RESULTS / name)
    finished = scheduler.done(records)
    assert len(finished) == sum(spec.finished(r) for r in records) > 0  # one key per finished job
    for r in records:
        if spec.finished(r) and not r.get("throughput"):
            settings = {k: r[k] for k in capacity.SETTINGS} | (
                {"device": r["device"]} if "device" in r else {}
            )
            chain = (r["task"], r["cell"], r.get("init", "default"))
            again = capacity.spec(chain, r["implementation"], r["seq_len"], r["seed"], settings)
            assert spec.key(again) in finished


@pytest.mark.parametrize("name", ["accuracy-adding-full.json", "accuracy-copy-full.json"])
def test_a_sweep_resumed_from_the_committed_results_reruns_none_of_their_jobs(name):
    from suite.studies.learning import presets, sweep

    records = read_records(RESULTS / name)
    finished = scheduler.done(records)
    assert len(finished) == sum(spec.finished(r) for r in records) > 0
    for r in records:
        if spec.finished(r):
            settings = dict(zip(presets.TRAINING_SETTINGS, presets.training_settings_of(r), strict=True))
            (again,) = sweep.job_specs(
                r["task"], [r["seq_len"]], [r["implementation"]], [r["cell"]], 1, settings
            )
            assert spec.key({**again, "seed": r["seed"]}) in finished
