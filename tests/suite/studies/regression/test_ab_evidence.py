"""The A/B gate's evidence: the committed series (results/ab/evidence.json, from tests/suite/ab_evidence.py)
meets the issue's bar, and a live comparison with an injected slowdown catches and names it."""

import pytest

from suite.environment import REPO
from suite.records import read_records
from suite.studies.regression import ab
from tests.suite.studies.regression import ab_evidence

EVIDENCE = REPO / "results" / "ab" / "evidence.json"


def test_committed_evidence():
    records = read_records(EVIDENCE)
    s = ab_evidence.summary(records)
    assert s["aa_comparisons"] >= 10 and s["aa_alarms"] == 0
    assert s["injected_comparisons"] >= 10 and s["control_alarms"] == 0
    assert s["caught_10pct"] >= 0.9 * s["injected_comparisons"]
    assert s["caught_20pct"] == s["injected_comparisons"]
    # the gate's own settings, and only the injected benchmarks named
    assert all(
        r["threads"] == 1 and r["threshold"] == ab.THRESHOLD and r["pairing"] == "call" for r in records
    )
    for r in records:  # nothing but an injected benchmark is ever named
        if r["comparison"].startswith("aa-") or r["cell"] not in ab_evidence.INJECTED:
            assert not r["regressed"], (r["comparison"], r["benchmark"])


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    import sys

    from impls import registry

    target = tmp_path_factory.mktemp("site")
    ab_evidence.install_plugin(target)
    yield target
    sys.path.remove(str(target))  # the rest of the session does not see the test-only plugin
    registry.registry.cache_clear()


def test_a_live_injected_slowdown_is_caught_and_named(site):
    settings = ab.Settings(max_pairs=8, min_time_s=0.1)
    env = {"PYTHONPATH": str(site)}
    injected = {**env, "RNNBENCH_SLOWDOWN": "gru=1.5", "RNNBENCH_SLOWDOWN_TREE": str(REPO)}
    rows = {}
    with ab.worktree(REPO, "HEAD") as tree:
        for w in ab_evidence.workloads():
            if w.cell != "lstm":
                rows[w.cell] = ab.compare_benchmark(
                    w, ab.Side("base", tree, env), ab.Side("candidate", REPO, injected), settings
                )
    assert rows["gru"]["decision"] == "slower" and rows["gru"]["regressed"]
    assert rows["gru"]["ratio"] == pytest.approx(1.5, rel=0.1)
    assert not rows["rnn"]["regressed"]
