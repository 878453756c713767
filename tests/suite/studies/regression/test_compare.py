"""``python -m suite compare``: decisions, significance, exit codes."""

import json

import numpy as np
import pytest

from suite.studies.regression import compare
from suite.studies.regression.compare import Entry, decide
from tests.conftest import run_cli


def noisy(median, n=10, spread=0.03, seed=0):
    rng = np.random.default_rng(seed)
    return list(median * (1 + spread * rng.standard_normal(n)))


def test_same_code_is_same():
    row = decide(Entry(noisy(1.0, seed=1)), Entry(noisy(1.0, seed=2)), threshold=0.1)
    assert row["decision"] == "same" and not row["regressed"]


def test_a_clear_slowdown_is_slower_and_a_speedup_faster():
    assert decide(Entry(noisy(1.0, seed=1)), Entry(noisy(1.5, seed=2)), 0.1)["decision"] == "slower"
    assert decide(Entry(noisy(1.5, seed=1)), Entry(noisy(1.0, seed=2)), 0.1)["decision"] == "faster"


def test_a_large_change_in_very_noisy_rounds_is_not_flagged():
    base, cur = Entry([1.0, 3.0, 1.0, 3.0, 1.0]), Entry([1.0, 3.0, 3.0, 1.0, 3.0])
    row = decide(base, cur, 0.1)
    assert row["ratio"] == 3.0 and row["ci_low"] <= 1 and row["decision"] == "same"


def test_a_small_significant_change_stays_below_the_threshold():
    row = decide(Entry(noisy(1.0, spread=0.001, seed=1)), Entry(noisy(1.05, spread=0.001, seed=2)), 0.1)
    assert row["ci_low"] > 1 and row["decision"] == "same"


def test_memory_is_gated_tightly_with_a_little_slack():
    mib = 2**20
    assert decide(Entry(peak_bytes=100 * mib), Entry(peak_bytes=110 * mib), 0.5)["decision"] == "memory up"
    assert decide(Entry(peak_bytes=100 * mib), Entry(peak_bytes=101 * mib), 0.5)["decision"] == "same"


def test_changed_flops_are_flagged():
    row = decide(Entry([1.0], flops=10.0), Entry([1.0], flops=20.0), 0.1)
    assert row["decision"] == "flops changed" and row["regressed"]


def test_normalize_divides_out_the_machine_speed():
    base = Entry(noisy(1.0, seed=1), peak_gflops=100.0)
    cur = Entry(noisy(2.0, seed=2), peak_gflops=50.0)  # a machine half as fast, same code
    assert decide(base, cur, 0.1)["decision"] == "slower"
    assert decide(base, cur, 0.1, normalize=True)["decision"] == "same"


def pytest_benchmark_file(path, medians, seed=0):
    path.write_text(
        json.dumps(
            {
                "benchmarks": [
                    {
                        "name": name,
                        "fullname": name,
                        "stats": {"data": noisy(m, seed=seed + i)},
                        "extra_info": {"flops": 1.0},
                    }
                    for i, (name, m) in enumerate(medians.items())
                ]
            }
        )
    )
    return str(path)


def test_cli_exit_codes_and_names(tmp_path, capsys):
    base = pytest_benchmark_file(tmp_path / "a.json", {"t::a": 1.0, "t::b": 2.0, "t::gone": 1.0})
    same = pytest_benchmark_file(tmp_path / "b.json", {"t::a": 1.0, "t::b": 2.0, "t::new": 1.0}, seed=7)
    slow = pytest_benchmark_file(tmp_path / "c.json", {"t::a": 1.0, "t::b": 3.0}, seed=9)
    code, out = run_cli(capsys, "compare", base, same, "--threshold", "0.1")
    assert code == 0 and "removed" in out.out and "added" in out.out
    code, out = run_cli(
        capsys, "compare", base, slow, "--threshold", "0.1", "--json", str(tmp_path / "rows.json")
    )
    assert code == 1 and "1 regressed: t::b" in out.out
    rows = json.loads((tmp_path / "rows.json").read_text())
    assert [r["decision"] for r in rows if r["benchmark"] == "t::b"] == ["slower"]


@pytest.mark.parametrize(
    "content", ['{"foo": 1}', "not json", '[{"kind": "speed"}]', '{"benchmarks": [{"name": "x"}]}']
)
def test_cli_bad_input_exits_2(tmp_path, capsys, content):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    good = pytest_benchmark_file(tmp_path / "a.json", {"t::a": 1.0})
    code, out = run_cli(capsys, "compare", good, str(bad))
    assert code == 2 and "bad.json" in out.err
    code, out = run_cli(capsys, "compare", str(tmp_path / "missing.json"), good)
    assert code == 2 and "no such file" in out.err


def test_results_files_compare_by_configuration(tmp_path):
    env = {"git_commit": "x"}
    rec = {
        "kind": "speed",
        "environment": env,
        "status": "ok",
        "framework": "torch",
        "cell": "gru",
        "mode": "train",
        "seq_len": 50,
        "batch": 16,
        "input_size": 64,
        "hidden_size": 128,
        "num_layers": 1,
        "dtype": "float32",
        "device": "cpu",
        "flops": 5.0,
        "peak_gflops": 100.0,
    }
    (tmp_path / "a.json").write_text(json.dumps([{**rec, "samples": noisy(1.0)}]))
    (tmp_path / "b.json").write_text(json.dumps([{**rec, "samples": noisy(1.5, seed=3)}]))
    rows = compare.compare(compare.load(tmp_path / "a.json"), compare.load(tmp_path / "b.json"), 0.1)
    assert [(r["benchmark"], r["decision"]) for r in rows] == [
        ("speed:torch/gru/train/T50/B16/I64/H128/L1/float32/cpu", "slower")
    ]


def test_calibrate_derives_the_threshold_from_the_largest_aa_change(tmp_path):
    runs = [
        pytest_benchmark_file(tmp_path / f"aa{i}.json", {"t::a": 1.0, "t::b": m}, seed=i)
        for i, m in enumerate((1.0, 1.1, 0.95))
    ]
    result = compare.calibrate(runs)
    assert len(result["pairs"]) == 2
    largest = max(p["max_change"] for p in result["pairs"])
    assert result["threshold"] >= largest and result["threshold"] >= 0.10
    assert result["threshold"] * 20 == pytest.approx(round(result["threshold"] * 20))


def test_fail_on_chooses_what_gates(tmp_path, capsys):
    base = pytest_benchmark_file(tmp_path / "a.json", {"t::a": 1.0})
    slow = pytest_benchmark_file(tmp_path / "b.json", {"t::a": 2.0}, seed=3)
    assert run_cli(capsys, "compare", base, slow, "--threshold", "0.1")[0] == 1
    assert run_cli(capsys, "compare", base, slow, "--threshold", "0.1", "--fail-on", "flops changed")[0] == 0
    code, out = run_cli(capsys, "compare", base, slow, "--fail-on", "slowish")
    assert code == 2 and "unknown decision" in out.err
