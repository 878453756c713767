"""Baselines per machine, history, step detection."""

from suite.studies.regression.compare import Entry
from suite.studies.regression.tracking import append_history, baseline_path, detect_steps, read_history


def test_baselines_are_kept_per_machine_fingerprint(tmp_path):
    a = baseline_path("ci", "cpu-a-2cores", root=tmp_path)
    b = baseline_path("ci", "cpu-b-8cores", root=tmp_path)
    assert a != b and a.name == "ci.json" and a.parent.name == "cpu-a-2cores"


def test_history_appends_and_skips_broken_lines(tmp_path):
    path = tmp_path / "h.jsonl"
    append_history(path, "ci", {"a": Entry([1.0, 3.0, 2.0])}, [{"benchmark": "a", "decision": "same"}])
    with open(path, "a") as f:
        f.write("{broken\n")
    append_history(path, "ci", {"a": Entry(peak_bytes=7)}, [])
    runs = read_history(path)
    assert [r["medians"]["a"] for r in runs] == [2.0, 7]
    assert runs[0]["decisions"] == {"a": "same"} and "git_commit" in runs[0]


def test_detect_steps_finds_a_lasting_step_not_a_spike():
    flat = [1.0, 1.02, 0.98, 1.01, 0.99, 1.0, 1.01]
    assert detect_steps(flat, 0.1) == []
    assert detect_steps([1.0, 1.0, 1.0, 3.0, 1.0, 1.0, 1.0], 0.1) == []  # one noisy run
    assert detect_steps([1.0, 1.01, 0.99, 1.5, 1.52, 1.49, 1.5], 0.1) == [3]
