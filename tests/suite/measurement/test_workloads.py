"""FLOP and activation counts of a workload."""

import numpy as np
import pytest

from suite.measurement.workloads import FASTRNNS, Workload, analytic_bytes, flops, seq_lengths


def test_flops_of_the_fastrnns_lstm():
    w = Workload("torch", "lstm", "forward", **FASTRNNS)
    assert flops(w) == 2 * 100 * 64 * 4 * 512 * (512 + 512)
    train = Workload("torch", "lstm", "train", **FASTRNNS)
    assert flops(train) == 3 * flops(w)


def test_flops_of_a_second_layer_use_hidden_as_input():
    one = Workload("jax", "gru", "forward", 10, 2, 7, 5, num_layers=1)
    two = Workload("jax", "gru", "forward", 10, 2, 7, 5, num_layers=2)
    assert flops(two) - flops(one) == 2 * 10 * 2 * 3 * 5 * (5 + 5)


def test_analytic_bytes():
    w = Workload("numpy", "lstm", "train", seq_len=10, batch=2, input_size=3, hidden_size=4, dtype="float64")
    assert analytic_bytes(w) == 10 * 2 * (16 + 4 + 4) * 8
    f = Workload("numpy", "rnn", "forward", seq_len=10, batch=2, input_size=3, hidden_size=4)
    assert analytic_bytes(f) == 10 * 2 * (4 + 4) * 4


def test_seq_lengths_double():
    assert seq_lengths(1600) == [25, 50, 100, 200, 400, 800, 1600]
    assert seq_lengths(30) == [25]


def test_a_last_step_training_step_counts_as_training_and_reads_the_last_step_only():
    import numpy as np
    import pytest

    from suite.measurement.measure import inputs

    w = Workload("numpy", "lstm", "train_last", seq_len=10, batch=2, input_size=3, hidden_size=4)
    assert flops(w) == flops(Workload("numpy", "lstm", "train", 10, 2, 3, 4))
    _, grad_y = inputs(w)
    assert not grad_y[:, :-1].any() and np.abs(grad_y[:, -1]).min() > 0
    with pytest.raises(ValueError, match="unknown mode 'backward'"):
        Workload("numpy", "lstm", "backward", 10, 2, 3, 4)


def test_length_distributions_are_seeded_and_within_the_sequence():
    from suite.measurement.workloads import draw_lengths

    uniform = draw_lengths("uniform", 1000, 400)
    assert uniform.min() >= 200 and uniform.max() <= 400
    skewed = draw_lengths("skewed", 1000, 400)
    assert skewed.min() >= 1 and skewed.max() <= 400 and np.median(skewed) < 100  # most are short
    assert (draw_lengths("skewed", 8, 50) == draw_lengths("skewed", 8, 50)).all()
    with pytest.raises(ValueError, match="unknown lengths"):
        draw_lengths("zipf", 8, 50)


def test_a_workload_with_lengths_has_its_own_benchmark_key_and_runs_its_length_aware_path():
    from suite.measurement import measure

    w = Workload("torch", "lstm", "forward", 12, 4, 3, 5, lengths="uniform")
    assert (
        w.key().endswith("/lengths-uniform")
        and Workload("torch", "lstm", "forward", 12, 4, 3, 5).key() != w.key()
    )
    result = measure.speed(w.as_dict(), min_rounds=2, max_rounds=2, budget_s=0.01)
    assert 0 <= result["padding_share"] < 0.5 and result["rounds"] >= 2
    with pytest.raises(ValueError, match="unknown lengths"):
        Workload("torch", "lstm", "forward", 12, 4, 3, 5, lengths="zipf")


def test_a_bidirectional_workload_counts_both_directions_and_runs_them():
    from suite.measurement import grids, measure

    one = Workload("torch", "gru", "forward", 10, 2, 7, 5, num_layers=2)
    both = Workload("torch", "gru", "forward", 10, 2, 7, 5, num_layers=2, bidirectional=True)
    assert flops(both) == 2 * (2 * 10 * 2 * 3 * 5 * (7 + 5) + 2 * 10 * 2 * 3 * 5 * (10 + 5))
    assert flops(one) == 2 * 10 * 2 * 3 * 5 * (7 + 5) + 2 * 10 * 2 * 3 * 5 * (5 + 5)
    assert analytic_bytes(both) == 2 * analytic_bytes(one)
    assert both.key().endswith("/bidirectional") and both.key() != one.key()
    result = measure.speed(both.as_dict(), min_rounds=2, max_rounds=2, budget_s=0.01)
    assert result["rounds"] >= 2
    chosen = grids.workloads(
        "quick", "speed", ["torch", "torch-cells"], ["gru"], only_groups=["bidirectional"]
    )
    assert {w.implementation for w in chosen} == {"torch"} and all(w.bidirectional for w in chosen)
    assert {(w.num_layers, w.lengths) for w in chosen} == {(1, ""), (4, ""), (4, "uniform")}


def test_the_fastpath_group_changes_one_setting_at_a_time_the_dtype_included():
    from suite.measurement import grids

    chosen = grids.workloads("quick", "speed", ["torch", "torch-cells"], ["lstm"], only_groups=["fastpath"])
    torch = {
        (w.lengths, w.bidirectional, w.num_layers, w.dtype) for w in chosen if w.implementation == "torch"
    }
    assert torch == {
        ("", False, 1, "float32"),
        ("uniform", False, 1, "float32"),
        ("", True, 1, "float32"),
        ("", False, 2, "float32"),
        ("", False, 1, "float64"),
    }
    cells = {(w.bidirectional, w.dtype) for w in chosen if w.implementation == "torch-cells"}
    assert (True, "float32") not in cells and (False, "float64") in cells


def test_a_streaming_job_counts_one_step_per_call_and_times_each_step():
    from suite.measurement import measure

    w = Workload("numpy", "gru", "stream", seq_len=40, batch=1, input_size=3, hidden_size=4, num_layers=2)
    assert flops(w) == 2 * 1 * 1 * 3 * 4 * (3 + 4) + 2 * 1 * 1 * 3 * 4 * (4 + 4)
    result = measure.speed(w.as_dict(), min_rounds=1, max_rounds=1, budget_s=0.0)
    assert result["rounds"] == 40 and result["p99_s"] >= result["median_s"] > 0
    assert result["real_time_factor"] == result["median_s"] * 100 and result["cold_start_s"] > 0


def test_the_stepper_carries_the_state_from_call_to_call():
    import impls
    from suite.measurement.measure import stepper

    model = impls.create("numpy", "lstm", 3, 4, 1, "float64")
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    step = stepper(model, x)
    stepped = [step() for _ in range(5)]
    np.testing.assert_allclose(np.stack(stepped, axis=1), model.forward(x)[0], rtol=1e-12)


def test_an_inference_runtime_gets_the_modes_without_gradients_only():
    from suite.measurement import grids

    chosen = grids.workloads("quick", "speed", ["onnxruntime", "numpy"], ["lstm"])
    runtime = {(w.group, w.mode) for w in chosen if w.implementation == "onnxruntime"}
    reference = {(w.group, w.mode) for w in chosen if w.implementation == "numpy"}
    assert {m for _, m in runtime} == {"forward", "stream"}
    assert runtime == {(g, m) for g, m in reference if m in ("forward", "stream")}


def test_the_speed_summary_shows_a_streaming_jobs_cold_start_where_others_show_compilation():
    from suite.measurement.benchmarks import SPEED

    timed = {"median_s": 0.01, "iqr_s": 0.001, "compile_seconds": 1.5}
    streamed = {"median_s": 0.0001, "iqr_s": 0.00001, "cold_start_s": 2.25}  # no compile_seconds
    assert SPEED.format(timed)["compile_s"] == "1.50" and SPEED.format(streamed)["compile_s"] == "2.25"
