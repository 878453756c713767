"""Log-log slopes, per-step costs and timing rounds."""

import math

import pytest

from suite.measurement.measure import summary, timed_rounds
from suite.studies.speed.analysis import loglog_slope, per_step_costs, seq_slopes


def test_loglog_slope_recovers_a_power_law():
    xs = [25, 50, 100, 200]
    assert loglog_slope(xs, [3 * x**1.5 for x in xs]) == pytest.approx(1.5)
    assert loglog_slope([10], [1.0]) is None
    assert loglog_slope([10, 20], [None, 1.0]) is None


def test_seq_slopes_only_use_the_sweep():
    records = [
        {
            "group": "seq_sweep",
            "status": "ok",
            "framework": "jax",
            "cell": "gru",
            "mode": "train",
            "seq_len": t,
            "median_s": t * 0.001,
        }
        for t in (25, 50, 100)
    ] + [
        {
            "group": "fastrnns",
            "status": "ok",
            "framework": "jax",
            "cell": "gru",
            "mode": "train",
            "seq_len": 100,
            "median_s": 99.0,
        }
    ]
    (row,) = seq_slopes(records, "median_s")
    assert row["slope"] == pytest.approx(1.0) and row["points"] == 3 and row["T"] == "25-100"


def test_timed_rounds_keeps_the_first_call_apart():
    calls = []

    def fn():
        calls.append(1)
        if len(calls) == 1:
            import time

            time.sleep(0.05)

    first, samples = timed_rounds(fn, min_rounds=4, max_rounds=6, budget_s=0.0)
    assert first >= 0.05
    assert len(samples) == 4 and len(calls) == 6  # first call + one warm-up + rounds
    assert max(samples) < 0.05


def test_summary_median_and_iqr():
    s = summary([1.0, 2.0, 3.0, 4.0, 100.0])
    assert s["median_s"] == 3.0 and s["iqr_s"] == 2.0 and s["min_s"] == 1.0
    assert not math.isnan(summary([2.0])["iqr_s"])


def test_per_step_costs_fit_a_line_and_compare_with_the_flop_time():
    records = [
        {
            "group": "seq_sweep",
            "status": "ok",
            "framework": "tensorflow",
            "cell": "rnn",
            "mode": "forward",
            "seq_len": t,
            "median_s": 0.002 + t * 50e-6,
            "flops": t * 1e6,
            "peak_gflops": 100.0,
        }
        for t in (25, 50, 100)
    ]
    (row,) = per_step_costs(records)
    assert row["per_step_us"] == pytest.approx(50.0)
    assert row["fixed_ms"] == pytest.approx(2.0)
    assert row["flop_time_us"] == pytest.approx(10.0)  # 1 MFLOP per step at 100 GFLOP/s
    assert row["overhead_x"] == pytest.approx(5.0)


def test_projection_rows_set_hoisting_against_the_step_per_framework():
    from suite.studies.speed.analysis import projection_rows
    from tests.suite.report.records import speed

    records = [
        speed("numpy", "numpy", 0.010),
        speed("numpy-in-step", "numpy", 0.020),
        speed("jax-hoisted", "jax", 0.030),
        speed("jax-in-step", "jax", 0.015, samples=[0.01, 0.02] * 5),  # unstable
        speed("jax", "jax", 0.001),  # the per-device choice: not one of the pair
        speed("torch-cells", "torch", 0.010),  # its hoisted twin was not measured: no row
    ]
    rows = {r["framework"]: r for r in projection_rows(records)}
    assert set(rows) == {"numpy", "jax"}
    assert rows["numpy"]["hoisting_x"] == pytest.approx(2.0) and not rows["numpy"]["unstable"]
    assert rows["jax"]["hoisting_x"] == pytest.approx(0.5) and rows["jax"]["unstable"]


def test_subnormal_costs_pair_the_two_last_step_modes_per_implementation_and_length():
    from suite.studies.speed.analysis import subnormal_costs

    def rec(name, mode, seconds, t=400, **kw):
        return {
            "implementation": name,
            "framework": name,
            "cell": "lstm",
            "mode": mode,
            "seq_len": t,
            "status": "ok",
            "median_s": seconds,
            "iqr_s": 0.0,
            **kw,
        }

    records = [
        rec("torch", "train_last", 0.5),
        rec("torch", "train_last_flushed", 0.05, denormals="flushed"),
        rec("numpy", "train_last", 0.2),
        rec("numpy", "train_last_flushed", 0.2, denormals="kept"),
        rec("jax", "train_last", 0.1, t=100),  # no flushed twin: left out
        rec("torch", "train", 0.01),
    ]
    rows = subnormal_costs(records)
    assert [(r["implementation"], r["cost_x"], r["asked_to_flush"]) for r in rows] == [
        ("numpy", pytest.approx(1.0), "kept"),
        ("torch", pytest.approx(10.0), "flushed"),
    ]
    assert rows[1]["as_left_ms"] == pytest.approx(500) and rows[1]["flushed_ms"] == pytest.approx(50)
