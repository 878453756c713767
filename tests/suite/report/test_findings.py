"""Headline findings, computed from small fixtures: complete, missing, partial, and two machines."""

from suite.report import findings
from suite.report.machines import machine, side_by_side

CPU = {"cpu": "Test CPU", "cores": 2, "gpus": []}
GPU = {"cpu": "Host CPU", "cores": 16, "gpus": ["Test GPU"]}


def speed(impl, framework, median_s, env=CPU, device="cpu", group="fastrnns", source="speed.json", **kw):
    return {
        "kind": "speed",
        "status": "ok",
        "implementation": impl,
        "framework": framework,
        "cell": "lstm",
        "mode": "train",
        "group": group,
        "device": device,
        "median_s": median_s,
        "efficiency": 0.01 / median_s,
        "environment": env,
        "source": source,
        **kw,
    }


def test_speed_names_the_fastest_per_framework_its_peak_share_and_the_spread():
    records = [
        speed("torch", "torch", 0.010),
        speed("torch-cells", "torch", 0.020),
        speed("jax", "jax", 0.030),
    ]
    (found,) = findings.speed(records, "CMD")
    assert "torch 10 ms (100% of peak), jax 30 ms (33% of peak)" in found.text
    assert "torch-cells" not in found.text and "differ by 3.0x" in found.text
    assert found.section == "speed" and found.sources == ["speed.json"]


def test_two_machines_are_kept_apart_and_set_side_by_side():
    records = [
        speed("torch", "torch", 0.010),
        speed("jax", "jax", 0.020),
        speed("torch", "torch", 0.001, env=GPU, device="gpu", source="speed-gpu.json"),
        speed("jax", "jax", 0.004, env=GPU, device="gpu", source="speed-gpu.json"),
    ]
    texts = [f.text for f in findings.speed(records, "CMD")]
    assert len(texts) == 2 and "Test CPU, 2 cores" in texts[0] and "Test GPU (GPU)" in texts[1]
    assert "differ by 2.0x" in texts[0] and "differ by 4.0x" in texts[1]  # never one machine against another
    rows, columns = side_by_side(records, "fastrnns", "speed")
    assert columns == ["Test CPU, 2 cores: ms", "Test CPU, 2 cores: % of peak"] + [
        "Test GPU (GPU): ms",
        "Test GPU (GPU): % of peak",
    ]
    torch = next(r for r in rows if r["implementation"] == "torch")
    assert torch["Test CPU, 2 cores: ms"] == 10 and torch["Test GPU (GPU): ms"] == 1
    assert torch["Test GPU (GPU): % of peak"] == "1000.0%"  # each machine's own peak


def test_one_sentence_takes_its_numbers_from_one_run():
    records = [
        speed("torch", "torch", 0.010, source="a.json"),
        speed("jax", "jax", 0.020, source="a.json"),
        speed("torch", "torch", 0.001, source="b.json"),  # a faster torch in another, smaller run
    ]
    (found,) = findings.speed(records, "CMD")
    assert found.sources == ["a.json"] and "torch 10 ms" in found.text


def test_missing_results_say_which_command_measures_them():
    for make in (
        findings.equivalence,
        findings.speed,
        findings.memory,
        findings.learning,
        findings.regression,
    ):
        (found,) = make([], "python -m suite MEASURE")
        assert found.text.startswith("not measured") and "`python -m suite MEASURE`" in found.text


def test_partial_speed_results_without_the_reference_points_are_missing():
    records = [speed("torch", "torch", 0.010, group="seq_sweep")]
    (found,) = findings.speed(records, "CMD")
    assert found.text.startswith("not measured")


def check(impl, dtype, error, status="pass", env=CPU, device="cpu", cell="lstm"):
    return {
        "kind": "check",
        "implementation": impl,
        "cell": cell,
        "dtype": dtype,
        "device": device,
        "path": "x",
        "max_error": error,
        "tolerance": 1e-5 if dtype == "float32" else 1e-10,
        "status": status,
        "worst": "d_x",
        "environment": env,
        "source": "check.json",
    }


def test_equivalence_counts_passing_implementations_per_machine_and_names_failures():
    records = [
        check("torch", "float32", 2e-7),
        check("jax", "float32", 3e-7),
        check("torch", "float32", 2e-5, "fail", env=GPU, device="gpu", cell="rnn"),
        check("torch", "float32", 2e-6, env=GPU, device="gpu"),
        check("torch", "float64", 4e-16),
        {**check("numpy", "float64", 1e-9), "path": "finite differences"},  # the reference's own check
    ]
    f64, f32 = findings.equivalence(records, "CMD")
    assert "**float64**" in f64.text and "1/1 on Test CPU, 2 cores" in f64.text and "4.0e-16" in f64.text
    assert "2/2 on Test CPU, 2 cores; 0/1 on Test GPU (GPU)" in f32.text
    assert "Fails: torch rnn on Test GPU (GPU) (2.0e-05 > 1.0e-05, d_x)" in f32.text


def test_equivalence_counts_exact_round_trips_and_names_records_from_before_the_checks_own_weights():
    def new(impl, test, status="pass"):
        return {**check(impl, "float32", 0.0 if test == "round_trip" else 2e-7, status), "test": test}

    records = [
        new("torch", "function"),
        new("torch", "round_trip"),
        new("jax", "function"),
        {**new("jax", "round_trip", "fail"), "worst": "bias_hh_l0"},
        {**check("torch", "float32", 2e-6, env=GPU, device="gpu"), "source": "check-gpu.json"},  # no test
        {**new("jax-unroll", "function", "skip"), "message": "jax-unroll does not support device 'cpu'"},
    ]
    (f32,) = findings.equivalence(records, "CMD")
    assert "2/2 on Test CPU, 2 cores; 1/1 on Test GPU (GPU)" in f32.text
    assert "get_params returns exactly the weights set: 1/2 on Test CPU, 2 cores." in f32.text
    assert (
        "computed from the weights each implementation reported: Test GPU (GPU) (check-gpu.json)." in f32.text
    )


def test_memory_reports_the_peak_against_the_analytic_size():
    records = [
        {**speed("torch", "torch", 1), "kind": "memory", "peak_bytes": 2 * 2**20, "analytic_bytes": 2**20},
        {**speed("jax", "jax", 1), "kind": "memory", "peak_bytes": 5 * 2**20, "analytic_bytes": 2**20},
    ]
    (found,) = findings.memory(records, "CMD")
    assert "2.0x (torch) to 5.0x (jax) the analytic 1 MiB" in found.text


def accuracy(cell, t, solved, seed=0):
    return {
        "kind": "accuracy",
        "status": "ok",
        "task": "adding",
        "framework": "torch",
        "cell": cell,
        "seq_len": t,
        "seed": seed,
        "steps": 10,
        "batch_size": 8,
        "hidden_size": 8,
        "optimizer": "adam",
        "lr": 1e-3,
        "clip": 1.0,
        "dtype": "float32",
        "solved": solved,
        "source": "accuracy.json",
    }


def test_learning_names_the_longest_length_solved_per_cell():
    records = [
        accuracy("lstm", 10, True),
        accuracy("lstm", 20, True),
        accuracy("lstm", 20, False, seed=1),
        accuracy("lstm", 40, False),
        accuracy("rnn", 10, False),
        accuracy("rnn", 20, False),
    ]
    (found,) = findings.learning(records, "CMD")
    assert "tanh RNN at no length tried (T=10, 20)" in found.text
    assert "LSTM up to T=20 (1/2 runs)" in found.text and "GRU" not in found.text


def ab(
    decision, comparison="", injected="", cell="lstm", date="2026-11-27T10:00:00+00:00", source="ab/a.json"
):
    return {
        "kind": "ab",
        "cell": cell,
        "decision": decision,
        "comparison": comparison,
        "injected": injected,
        "base": "base X",
        "candidate": "candidate Y",
        "environment": {**CPU, "date": date},
        "source": source,
    }


def test_regression_reports_the_latest_comparison():
    records = [ab("slower", date="2026-11-01T00:00:00+00:00", source="ab/old.json"), ab("same"), ab("faster")]
    (found,) = findings.regression(records, "CMD")
    assert "candidate Y against base X: 1 faster, 1 same" in found.text and found.sources == ["ab/a.json"]


def test_regression_evidence_counts_false_alarms_and_caught_slowdowns():
    records = [
        ab("same", "aa-1"),
        ab("slower", "aa-2"),
        ab("slower", "inj-1", "lstm=1.1"),
        ab("same", "inj-1", "lstm=1.1", cell="rnn"),  # the control cell: not slowed
        ab("same", "inj-2", "lstm=1.1"),
    ]
    (found,) = findings.regression(records, "CMD")
    assert "1 false alarms in 2 A/A benchmarks; 1 of 2 injected slowdowns caught" in found.text


def test_machine_names_the_gpu_on_a_gpu_run_and_the_cpu_otherwise():
    assert machine({"device": "gpu", "environment": GPU}) == "Test GPU (GPU)"
    assert (
        machine({"device": "cpu", "environment": {"cpu": "Intel(R) Xeon(R) X", "cores": 4}})
        == "Intel Xeon X, 4 cores"
    )


def test_speed_leaves_out_unstable_timings_and_says_so():
    records = [
        speed("torch", "torch", 0.010, samples=[0.005, 0.015] * 5),  # fastest, but its rounds spread
        speed("torch-cells", "torch", 0.020, samples=[0.020] * 10),
        speed("jax", "jax", 0.030, unstable=False),
    ]
    (found,) = findings.speed(records, "CMD")
    assert "torch-cells 20 ms" in found.text and "torch 10 ms" not in found.text
    assert "Left out as unstable timings: torch." in found.text


def test_projection_gives_the_range_of_what_hoisting_buys_per_framework():
    records = [
        speed("numpy", "numpy", 0.010, group="small"),
        speed("numpy-in-step", "numpy", 0.030, group="small"),
        speed("numpy", "numpy", 0.100),
        speed("numpy-in-step", "numpy", 0.150),
        speed("jax-hoisted", "jax", 0.020, group="small"),
        speed("jax-in-step", "jax", 0.010, group="small"),
    ]
    (found,) = findings.projection(records, "CMD")
    assert (
        "numpy (numpy against numpy-in-step) 1.50-3.00x; jax (jax-hoisted against jax-in-step) 0.50-0.50x"
        in found.text
    )
