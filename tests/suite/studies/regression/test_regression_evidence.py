"""Evidence on the committed A/A runs of this machine (``python -m suite run speed --profile quick --groups
fastrnns``, the same code run repeatedly): no false alarm in five A/A comparisons held out from the
calibration, and an injected 1.5x slowdown of one benchmark caught and named."""

import json
from pathlib import Path

import pytest

from suite.studies.regression import compare

RESULTS = Path(__file__).resolve().parents[4] / "results"
CALIBRATED_ON = [
    RESULTS / "order" / "speed-forward-order.json",
    RESULTS / "order" / "speed-reverse-order.json",
    RESULTS / "calibration" / "aa-1.json",
]
HELD_OUT = [RESULTS / "calibration" / f"aa-{i}.json" for i in range(2, 8)]


def test_the_threshold_comes_from_the_calibration_runs_only():
    calibration = json.loads((RESULTS / "calibration" / "aa.json").read_text())
    assert calibration["runs"] == [p.name for p in CALIBRATED_ON]
    assert compare.default_threshold() == calibration["threshold"]
    assert compare.calibrate([str(p) for p in CALIBRATED_ON])["threshold"] == calibration["threshold"]


@pytest.mark.parametrize("i", range(5))
def test_an_aa_comparison_raises_no_alarm(i):
    base, current = compare.load(HELD_OUT[i]), compare.load(HELD_OUT[i + 1])
    rows = compare.compare(base, current, compare.default_threshold())
    assert len(rows) == 24
    assert [r["benchmark"] for r in rows if r["decision"] != "same"] == []


def test_an_injected_slowdown_of_one_benchmark_is_caught_and_named(tmp_path):
    records = json.loads(HELD_OUT[1].read_text())
    victim = next(r for r in records if (r["framework"], r["cell"], r["mode"]) == ("torch", "lstm", "train"))
    victim["samples"] = [t * 1.5 for t in victim["samples"]]
    slowed = tmp_path / "slowed.json"
    slowed.write_text(json.dumps(records))
    rows = compare.compare(compare.load(HELD_OUT[0]), compare.load(slowed), compare.default_threshold())
    assert [(r["benchmark"], r["decision"]) for r in rows if r["decision"] != "same"] == [
        ("speed:torch/lstm/train/T100/B64/I512/H512/L1/float32/cpu", "slower")
    ]
