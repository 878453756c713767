"""Evidence on the committed A/A runs of this machine: no false alarm in five A/A comparisons, and an
injected 1.5x slowdown of one benchmark is caught and named."""

import json
from pathlib import Path

import pytest

from suite import compare

CALIBRATION = Path(__file__).resolve().parents[2] / "results" / "calibration"
RUNS = sorted(CALIBRATION.glob("aa-*.json"), key=lambda p: int(p.stem.split("-")[1]))
CALIBRATED_ON = 6  # aa-1..6 set the threshold; the comparisons below use only the later runs
HELD_OUT = RUNS[CALIBRATED_ON:]


def test_there_is_a_calibration_with_held_out_runs():
    calibration = json.loads((CALIBRATION / "aa.json").read_text())
    assert calibration["runs"] == [p.name for p in RUNS[:CALIBRATED_ON]]
    assert compare.default_threshold() == calibration["threshold"]
    assert len(HELD_OUT) >= 6


@pytest.mark.parametrize("i", range(5))
def test_an_aa_comparison_raises_no_alarm(i):
    base, current = compare.load(HELD_OUT[i]), compare.load(HELD_OUT[i + 1])
    rows = compare.compare(base, current, compare.default_threshold())
    assert len(rows) == 24
    assert [r["benchmark"] for r in rows if r["decision"] != "same"] == []


def test_an_injected_slowdown_of_one_benchmark_is_caught_and_named(tmp_path):
    data = json.loads(HELD_OUT[1].read_text())
    victim = next(b for b in data["benchmarks"] if "torch-lstm-train-fastrnns" in b["fullname"])
    victim["stats"]["data"] = [t * 1.5 for t in victim["stats"]["data"]]
    slowed = tmp_path / "slowed.json"
    slowed.write_text(json.dumps(data))
    rows = compare.compare(compare.load(HELD_OUT[0]), compare.load(slowed), compare.default_threshold())
    assert [(r["benchmark"], r["decision"]) for r in rows if r["decision"] != "same"] == [
        (victim["fullname"], "slower")
    ]
