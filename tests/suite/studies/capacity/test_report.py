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
