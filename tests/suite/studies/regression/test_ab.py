"""ab: the statistics, the decisions, the pairing loop, the trees, and the ``ab`` command."""

import itertools
import math
import subprocess

import numpy as np
import pytest

from suite.environment import REPO
from suite.measurement.workloads import SMALL, Workload
from suite.records import read_records
from suite.studies.regression import ab
from tests.conftest import run_cli

WORKLOAD = Workload(framework="numpy", cell="rnn", mode="forward", **SMALL)


def test_signed_rank_distribution_is_exact():
    for n in (1, 3, 6):
        sums = [
            sum(r for r, s in zip(range(1, n + 1), signs, strict=True) if s)
            for signs in itertools.product((0, 1), repeat=n)
        ]
        counts = np.bincount(sums, minlength=n * (n + 1) // 2 + 1)
        np.testing.assert_allclose(ab._signed_rank_cdf(n), np.cumsum(counts) / 2**n)


def test_hodges_lehmann_interval():
    est, low, high = ab.hodges_lehmann([0.1] * 8, 0.99)
    assert est == low == high == pytest.approx(0.1)
    d = list(np.random.default_rng(0).normal(0.05, 0.01, 30))
    est, low, high = ab.hodges_lehmann(d, 0.99)
    assert low < est < high and low > 0.04 and high < 0.06
    assert ab.hodges_lehmann([0.1] * 7, 0.99)[1:] == (-math.inf, math.inf)  # too few pairs for 99 %


@pytest.mark.parametrize(
    ("low", "high", "decision", "settled"),
    [
        (1.12, 1.30, "slower", True),
        (1.04, 1.16, "slower", False),  # slower, maybe by more than 10 %: more pairs
        (1.02, 1.06, "same", True),  # slower, but within the threshold
        (0.95, 1.05, "same", True),
        (0.95, 1.15, "undecided", False),
        (0.80, 0.88, "faster", True),
        (0.86, 0.95, "faster", False),
    ],
)
def test_decisions(low, high, decision, settled):
    assert ab.decide(low, high, 0.10) == decision
    assert ab.settled(low, high, 0.10) == settled


def fake_pairs(monkeypatch, ratios):
    """take_pair returning the given ratios, then failing when they run out."""
    it = iter(ratios)

    def take(spec, base, candidate, settings, first):
        r = next(it)
        if isinstance(r, str):
            raise ab.SampleError(r, r.split(":")[0])
        return {"first": first, "base_s": 1.0, "candidate_s": r, "ratio": r}, {"base": "p", "candidate": "p"}

    monkeypatch.setattr(ab, "take_pair", take)


SIDES = ab.Side("base", REPO), ab.Side("candidate", REPO)


def test_stops_once_settled(monkeypatch):
    fake_pairs(monkeypatch, [1.0] * 100)
    row = ab.compare_benchmark(WORKLOAD, *SIDES, ab.Settings())
    assert (row["n_pairs"], row["decision"], row["regressed"]) == (8, "same", False)
    assert [p["first"] for p in row["pairs"][:4]] == ["base", "candidate", "base", "candidate"]


def test_a_slowdown_at_the_threshold_takes_every_pair_and_fails(monkeypatch):
    fake_pairs(monkeypatch, [1.10 + 0.01 * ((-1) ** i) for i in range(100)])
    row = ab.compare_benchmark(WORKLOAD, *SIDES, ab.Settings(max_pairs=20))
    assert (row["n_pairs"], row["decision"], row["regressed"]) == (20, "slower", True)
    assert row["ratio"] == pytest.approx(1.10, abs=0.011)


def test_report_only_above_one_thread(monkeypatch):
    fake_pairs(monkeypatch, [1.5] * 100)
    row = ab.compare_benchmark(WORKLOAD, *SIDES, ab.Settings(threads=2))
    assert row["decision"] == "slower" and not row["regressed"] and not row["gated"]


@pytest.mark.parametrize(
    ("error", "decision", "regressed"),
    [("candidate: x", "candidate failed", True), ("base: x", "base failed", False)],
)
def test_a_failing_side_is_recorded(monkeypatch, error, decision, regressed):
    fake_pairs(monkeypatch, [1.0, error])
    row = ab.compare_benchmark(WORKLOAD, *SIDES, ab.Settings())
    assert (row["decision"], row["regressed"], row["n_pairs"]) == (decision, regressed, 1)
    assert row["error"] == error


def test_bad_settings_are_refused():
    for bad in (dict(threshold=0), dict(min_pairs=1), dict(min_pairs=9, max_pairs=8), dict(pairing="x")):
        with pytest.raises(ValueError):
            ab.Settings(**bad)


def test_worktree_of_a_revision_and_unknown_revisions():
    with ab.worktree(REPO, "HEAD") as tree:
        assert (tree / "impls" / "__init__.py").exists()
    assert not tree.exists()
    listed = subprocess.run(
        ["git", "-C", str(REPO), "worktree", "list"], capture_output=True, text=True
    ).stdout
    assert str(tree) not in listed
    with pytest.raises(ab.AbError, match="unknown revision 'no-such-rev'"):
        ab.resolve(REPO, "no-such-rev")


def test_default_base(monkeypatch):
    monkeypatch.setenv("RNNBENCH_AB_BASE", "abc123")
    assert ab.default_base(REPO) == "abc123"
    monkeypatch.delenv("RNNBENCH_AB_BASE")
    assert ab.default_base(REPO) in ("HEAD^",) or len(ab.default_base(REPO)) == 40


@pytest.mark.parametrize("pairing", ab.PAIRINGS)
def test_real_pairs_of_the_same_tree(pairing):
    """Real worker processes: both sides' impls come from their own trees, and the pair is recorded."""
    settings = ab.Settings(min_pairs=2, max_pairs=2, min_rounds=2, min_time_s=0.01, pairing=pairing)
    with ab.worktree(REPO, "HEAD") as tree:
        row = ab.compare_benchmark(WORKLOAD, ab.Side("base", tree), ab.Side("candidate", REPO), settings)
    assert row["n_pairs"] == 2 and row["decision"] == "undecided"  # 2 pairs give no 99 % interval
    assert row["base_path"] == row["candidate_path"] == "numpy"
    assert all(p["base_s"] > 0 and p["candidate_s"] > 0 for p in row["pairs"])


def test_the_command_writes_records_and_exits_0(capsys, tmp_path):
    path = tmp_path / "ab.json"
    code, out = run_cli(
        capsys,
        "ab",
        "HEAD",
        "--impls",
        "numpy",
        "--cells",
        "rnn",
        "--modes",
        "forward",
        "--min-pairs",
        "2",
        "--max-pairs",
        "2",
        "--json",
        str(path),
    )
    assert code == 0, out.err
    (record,) = read_records(path)
    assert record["kind"] == "ab" and record["n_pairs"] == 2 and record["base"].startswith("base HEAD")
    assert "numpy/rnn/forward/T100/B32/I32/H128" in out.out and "undecided" in out.out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["no-such-rev"], "unknown revision 'no-such-rev'"),
        (["HEAD", "--groups", "nope"], "unknown group"),
        (["HEAD", "--modes", "sideways"], "unknown mode"),
        (["HEAD", "--threshold", "2"], "threshold must lie between 0 and 1"),
    ],
)
def test_bad_input_exits_2(capsys, argv, message):
    code, out = run_cli(capsys, "ab", *argv, "--impls", "numpy")
    assert code == 2
    assert message in out.err


@pytest.mark.parametrize("pairing", ab.PAIRINGS)
def test_an_implementation_the_base_lacks_is_base_failed(pairing, monkeypatch):
    """Real worker processes: a side whose impls cannot create the benchmark is named, whichever pairing."""
    settings = ab.Settings(min_pairs=2, max_pairs=2, min_rounds=2, min_time_s=0.01, pairing=pairing)
    bad = Workload(framework="numpy", implementation="no-such-impl", cell="rnn", mode="forward", **SMALL)
    with ab.worktree(REPO, "HEAD") as tree:
        row = ab.compare_benchmark(bad, ab.Side("base", tree), ab.Side("candidate", REPO), settings)
    assert row["decision"] == "base failed" and not row["regressed"]
    assert "unknown implementation 'no-such-impl'" in row["error"]
