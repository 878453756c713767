"""Profiles of the speed and memory benchmarks: the grids and the timing."""

import pytest

from suite.measurement import grids as profiles
from suite.measurement.benchmarks import BENCHMARKS


@pytest.mark.parametrize("kind", BENCHMARKS)
@pytest.mark.parametrize("profile", profiles.PROFILES)
def test_every_grid_holds_the_fastrnns_point_for_every_framework_and_cell(profile, kind):
    ws = profiles.workloads(profile, kind, ["numpy", "jax"], ["rnn", "gru"])
    points = {(w.framework, w.cell, w.mode) for w in ws if w.group == "fastrnns"}
    assert points == {
        (f, c, m) for f in ("numpy", "jax") for c in ("rnn", "gru") for m in ("forward", "train")
    }
    assert len({w.key() for w in ws}) == len(ws)
    longest = max(w.seq_len for w in ws if w.group == "seq_sweep")
    assert longest == (400 if profile == "quick" else 1600)


def test_quick_memory_keeps_the_fastrnns_point_the_sweeps_train_step_the_lengths_and_both_directions():
    ws = profiles.workloads("quick", "memory", ["numpy"], ["lstm"])
    assert {w.group for w in ws} == {"fastrnns", "seq_sweep", "lengths", "bidirectional"}
    assert [w.lengths for w in ws if w.group == "lengths"] == ["", "uniform", "skewed"]
    assert not [
        w for w in profiles.workloads("quick", "speed", ["jax-cudnn"], ["lstm"], device="gpu") if w.lengths
    ]
    assert {w.mode for w in ws if w.group == "seq_sweep"} == {"train"}


def test_groups_narrow_the_grid():
    ws = profiles.workloads("full", "speed", ["numpy"], ["rnn"], only_groups=["deepbench_inference"])
    assert [(w.seq_len, w.batch, w.mode) for w in ws] == [(50, 1, "forward"), (100, 4, "forward")]
    with pytest.raises(ValueError, match="unknown group 'everything'"):
        profiles.workloads("quick", "speed", ["numpy"], ["rnn"], only_groups=["everything"])


def test_unknown_profile():
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        profiles.workloads("huge", "speed", ["numpy"], ["rnn"])


def test_timing_is_what_the_speed_benchmark_takes():
    assert BENCHMARKS["speed"].options("full") == {"min_rounds": 10, "max_rounds": 200, "budget_s": 2.0}
    assert BENCHMARKS["memory"].options("full") == {}


def test_a_mixed_policy_runs_the_precision_group_only_in_float32():
    """Elsewhere it would stand among the float32 implementations; in the precision group its float32 is
    bfloat16 arithmetic, beside its framework's float32 and pure bfloat16."""
    found = profiles.workloads("quick", "speed", ["torch", "torch-autocast"], ["lstm"])
    mixed = {(w.group, w.dtype) for w in found if w.implementation == "torch-autocast"}
    assert mixed == {("precision", "float32")}
    assert {w.dtype for w in found if w.implementation == "torch" and w.group == "precision"} == {"bfloat16"}
