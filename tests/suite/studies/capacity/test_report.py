"""The capacity study's findings where nothing solves: the best seed and whether budgets ended improving."""

from suite.studies.capacity import report
from suite.studies.capacity import search as capacity


def _job(seed, accuracy, curve, steps=1000):
    spec = capacity.spec(
        ("copy", "lstm", "default"), "torch", 10, seed, {**capacity.settings_for("copy"), "steps": steps}
    )
    return {
        **spec,
        "kind": "capacity",
        "status": "ok",
        "solved": False,
        "accuracy": accuracy,
        "learning_curve": curve,
    }


def test_a_learning_curve_still_falling_at_its_end_counts_and_a_plateau_does_not():
    falling = [[k, 1.0 - 0.01 * k] for k in range(1, 41)]
    flat = [[k, 0.5 + 0.001 * (k % 2)] for k in range(1, 41)]
    assert report.still_falling({"learning_curve": falling})
    assert not report.still_falling({"learning_curve": flat})
    assert not report.still_falling({"learning_curve": falling[:5]})  # too short to say


def test_the_unsolved_task_names_its_best_seed_and_how_many_budgets_ended_improving():
    falling = [[k, 1.0 - 0.01 * k] for k in range(1, 41)]
    flat = [[k, 0.5] for k in range(1, 41)]
    records = [_job(0, 0.91, falling), _job(1, 0.95, falling), _job(2, 0.4, flat)]
    rows = capacity.reach(records)
    text = report._unsolved_text("copy", rows, records)
    assert text.startswith("copy at T=10: the best seed reached accuracy 95.0% (LSTM default;")
    assert "2 of 3 jobs there were still improving" in text and "not a plateau" not in text
    records = records[:2]
    assert "not a plateau" in report._unsolved_text("copy", capacity.reach(records), records)


def test_the_search_says_what_it_cost_and_what_it_has_still_to_train(tmp_path):
    from suite.report.page import Report

    chain = ("temporal3", "lstm", "chrono")
    settings = capacity.settings_for("temporal3")
    done = [
        {
            **capacity.spec(chain, "torch", 10, s, settings),
            "kind": "capacity",
            "status": "ok",
            "solved": True,
            "wall_seconds": 720.0,
            "environment": {"cpu": "A"},
        }
        for s in range(5)
    ]
    measured = {
        "throughput": True,
        "kind": "capacity",
        "implementation": "torch",
        "cell": "lstm",
        "seq_len": 20,
        "seconds_per_step": 0.036,
        "first_step_seconds": 0.0,
        "environment": {"cpu": "A"},
    }
    page = Report(tmp_path)
    report._search_cost(page, [*done, measured])
    text = "\n".join(page.parts)
    assert "took 1.0 core-hours (temporal3 1.0:" in text and "1.0 of them at the budgets that grew" in text
    assert "temporal3 LSTM chrono T=20 (5 seeds, 1.50 h)" in text  # 5 x 30,000 steps x 36 ms
    assert "`rnnbench run capacity --jobs 2` resumes here" in text


def test_the_anchors_timings_get_their_own_table_beside_the_searchs(tmp_path):
    from suite.report.page import Report

    def timed(name, cell, seconds, seq_len, **extra):
        return {
            "throughput": True,
            "kind": "capacity",
            "task": "adding",
            "implementation": name,
            "cell": cell,
            "seq_len": seq_len,
            "seed": 0,
            "steps": 40,
            "hidden_size": 50,
            "batch_size": 20,
            "optimizer": "adam",
            "seconds_per_step": seconds,
            "first_step_seconds": 0.0,
            "status": "ok",
            "source": "results/capacity-throughput.json",
            "environment": {"cpu": "A", "machine": "m"},
            **extra,
        }

    at_anchor = dict(anchor="copy:tallec2018", task="copy", hidden_size=128, optimizer="rmsprop")
    records = [timed("jax", "lstm", 0.02, 640), timed("torch", "lstm", 0.03, 640)]
    records += [timed("jax", "lstm", 0.20, 500, **at_anchor), timed("torch", "lstm", 0.13, 500, **at_anchor)]
    page = Report(tmp_path)
    report.section_throughput(page, records)
    text = "\n".join(page.parts)
    search_table, anchor_table = [p for p in page.parts if p.lstrip().startswith("|")]
    assert "T=640" in search_table and "T=500" not in search_table and "| **20** |" in search_table
    assert "T=500" in anchor_table and "| **130** |" in anchor_table and "| 200 |" in anchor_table
    assert "anchor `copy:tallec2018` (copy, hidden 128, batch 20, rmsprop)" in text
