"""Unstable timings: judged from their rounds, extended before they are given up, flagged in records,
warned about, drawn hollow and left out of findings."""

import itertools
import time

import pytest

from suite.measurement import measure, stability
from suite.studies.speed.command import warn_unstable


def test_steady_rounds_are_stable():
    found = stability.assess([1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.0, 1.01])
    assert not found["unstable"] and found["rel_iqr"] < 0.05 and found["drift"] < 0.05


def test_a_wide_spread_is_unstable():
    assert stability.assess([1.0, 2.0] * 6)["unstable"]  # IQR 1 against a median of 1.5


def test_rounds_that_drift_are_unstable():
    found = stability.assess([1.0] * 6 + [1.3] * 6)
    assert found["drift"] == pytest.approx(0.3 / 1.15) and found["unstable"]


def test_a_single_round_is_stable_and_none_is_an_error():
    assert not stability.assess([0.5])["unstable"]
    with pytest.raises(ValueError, match="no rounds"):
        stability.assess([])


def test_a_record_says_or_its_rounds_tell():
    assert stability.is_unstable({"unstable": True, "samples": [1.0] * 8})
    assert stability.is_unstable({"samples": [1.0, 2.0] * 6})  # written before timings were judged
    assert not stability.is_unstable({"median_s": 1.0})  # nothing to judge by
    assert "IQR 67% of the median" in stability.describe({"samples": [1.0, 2.0] * 6})


def _sleeper(durations):
    seq = itertools.cycle(durations)

    def fn():
        time.sleep(next(seq))

    return fn


def test_a_noisy_job_takes_more_rounds_then_is_given_up_as_unstable():
    _, samples = measure.timed_rounds(_sleeper([0.001, 0.004]), 4, 8, 0.02)
    assert len(samples) > 8  # extended past its rounds
    assert len(samples) <= measure.EXTEND * 8
    assert stability.assess(samples)["unstable"]


def test_a_steady_job_is_not_extended():
    _, samples = measure.timed_rounds(_sleeper([0.002]), 4, 8, 0.02)
    assert len(samples) <= 8 and not stability.assess(samples)["unstable"]


def test_the_command_line_warns_with_each_unstable_timing(capsys):
    base = {
        "implementation": "torch",
        "framework": "torch",
        "cell": "rnn",
        "mode": "forward",
        "seq_len": 100,
        "batch": 64,
        "input_size": 512,
        "hidden_size": 512,
        "num_layers": 1,
        "dtype": "float32",
        "device": "cpu",
    }
    warn_unstable([{**base, "samples": [0.2, 0.4] * 5}, {**base, "cell": "lstm", "samples": [0.1] * 10}])
    err = capsys.readouterr().err
    assert "1 of 2 timings are unstable" in err
    assert "torch/rnn/forward/T100/B64/I512/H512/L1/float32/cpu: IQR" in err and "lstm" not in err


def _process(median_s, samples=None):
    return {"median_s": median_s, "min_s": median_s * 0.9, "samples": samples or [median_s] * 10}


def test_processes_that_agree_combine_into_their_median():
    found = stability.across_processes([_process(1.0), _process(1.1), _process(1.05)])
    assert found["median_s"] == 1.05 and found["processes"] == 3 and found["min_s"] == 0.9
    assert found["process_medians"] == [1.0, 1.1, 1.05] and not found["unstable"]


def test_processes_that_disagree_are_unstable_even_when_each_is_steady():
    found = stability.assess([1.0] * 10)  # each process alone: steady
    assert not found["unstable"]
    combined = stability.across_processes([_process(1.0), _process(1.5), _process(1.1)])
    assert combined["process_spread"] == pytest.approx(0.5 / 1.1) and combined["unstable"]
    assert "3 processes 45% apart" in stability.describe(combined)
    with pytest.raises(ValueError, match="no processes"):
        stability.across_processes([])


def test_run_speed_repeat_times_each_job_in_fresh_processes_and_combines_them(capsys, tmp_path):
    from suite.records import read_records
    from tests.conftest import run_cli

    path = tmp_path / "speed.json"
    argv = ["run", "speed", "--impls", "numpy", "--cells", "rnn", "--groups", "small", "--repeat", "2"]
    code, _ = run_cli(capsys, *argv, "--json", str(path))
    assert code == 0
    records = read_records(path)
    assert [(r["mode"], r["processes"], len(r["process_medians"])) for r in records] == [
        ("forward", 2, 2),
        ("train", 2, 2),
    ]
    assert run_cli(capsys, *argv[:-1], "0", "--json", str(path))[0] == 2


def test_a_gpu_jobs_device_timing_sits_beside_its_wall_clock_and_never_loses_it():
    from suite.measurement.measure import gpu_timing

    class Backend:
        def __init__(self, fail: bool) -> None:
            self.fail, self.calls = fail, []

        def device_times(self, fn, rounds):
            self.calls.append(rounds)
            if self.fail:
                raise RuntimeError("CUPTI is busy")
            return {"kernel_s": 0.001, "event_median_s": 0.002}

    ok = Backend(fail=False)
    got = gpu_timing(ok, lambda: None, 7)
    assert got["kernel_s"] == 0.001 and got["l2"].startswith("warm") and ok.calls == [7]
    failed = gpu_timing(Backend(fail=True), lambda: None, 7)
    assert failed["device_timing"] == "failed: RuntimeError: CUPTI is busy" and "kernel_s" not in failed
    assert gpu_timing(None, lambda: None, 7)["device_timing"] == "no backend for this framework"


def test_a_latency_distribution_is_judged_by_its_drift_not_its_spread():
    spread = [0.001, 0.003] * 50  # a wide but steady distribution: the p50 and p99 are the measurement
    assert stability.assess(spread)["unstable"] and not stability.assess_latencies(spread)["unstable"]
    drifting = [0.001] * 50 + [0.002] * 50
    assert stability.assess_latencies(drifting)["unstable"]
