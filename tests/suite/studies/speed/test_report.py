"""The speed study's findings, computed from small fixtures."""

from suite.report.machines import side_by_side
from suite.studies.speed.report import memory_findings, projection_findings, speed_findings
from tests.suite.report.records import GPU, check, speed


def test_speed_names_the_fastest_per_framework_its_peak_share_and_the_spread():
    records = [
        speed("torch", "torch", 0.010),
        speed("torch-cells", "torch", 0.020),
        speed("jax", "jax", 0.030),
    ]
    (found,) = speed_findings(records, "CMD")
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
    texts = [f.text for f in speed_findings(records, "CMD")]
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
    (found,) = speed_findings(records, "CMD")
    assert found.sources == ["a.json"] and "torch 10 ms" in found.text


def test_partial_speed_results_without_the_reference_points_are_missing():
    records = [speed("torch", "torch", 0.010, group="seq_sweep")]
    (found,) = speed_findings(records, "CMD")
    assert found.text.startswith("not measured")


def test_memory_reports_the_peak_against_the_analytic_size():
    records = [
        {**speed("torch", "torch", 1), "kind": "memory", "peak_bytes": 2 * 2**20, "analytic_bytes": 2**20},
        {**speed("jax", "jax", 1), "kind": "memory", "peak_bytes": 5 * 2**20, "analytic_bytes": 2**20},
    ]
    (found,) = memory_findings(records, "CMD")
    assert "2.0x (torch) to 5.0x (jax) the analytic 1 MiB" in found.text


def test_speed_leaves_out_unstable_timings_and_says_so():
    records = [
        speed("torch", "torch", 0.010, samples=[0.005, 0.015] * 5),  # fastest, but its rounds spread
        speed("torch-cells", "torch", 0.020, samples=[0.020] * 10),
        speed("jax", "jax", 0.030, unstable=False),
    ]
    (found,) = speed_findings(records, "CMD")
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
    (found,) = projection_findings(records, "CMD")
    assert (
        "numpy (numpy against numpy-in-step) 1.50-3.00x; jax (jax-hoisted against jax-in-step) 0.50-0.50x"
        in found.text
    )


def test_subnormals_name_the_worst_cost_and_who_cannot_flush(tmp_path):
    from suite.report.page import Report
    from suite.studies.speed.report import section_subnormals, subnormal_findings

    def last(impl, mode, seconds, **kw):
        extra = {"seq_len": 400, "batch": 20, "input_size": 2, "hidden_size": 128, "iqr_s": 0.0}
        return speed(impl, impl, seconds, group="subnormals", mode=mode, **extra, **kw)

    records = [
        last("torch", "train_last", 0.50),
        last("torch", "train_last_flushed", 0.05, denormals="flushed"),
        last("numpy", "train_last", 0.30),
        last("numpy", "train_last_flushed", 0.30, denormals="kept"),
    ]
    (found,) = subnormal_findings(records, "CMD")
    assert "up to 10.00x slower" in found.text and "torch's LSTM at T=400" in found.text
    assert "numpy, which cannot flush, times the same step twice at 1.00-1.00x" in found.text
    assert found.answer.startswith("up to 10.00x, torch lstm T=400;")
    noisy = [*records[:1], last("torch", "train_last_flushed", 0.45, denormals="flushed"), *records[2:]]
    noisy[3] = last("numpy", "train_last_flushed", 0.25, denormals="kept")  # 1.2x: the same step, twice
    (found,) = subnormal_findings(noisy, "CMD")
    assert found.answer.startswith("none beyond the noise (at most 1.11x, torch lstm T=400);")
    rep = Report(tmp_path)
    section_subnormals(rep, records)
    text = "\n".join(rep.parts)
    assert "batch 20, input 2, hidden 128" in text and "| torch | lstm | 400 |" in text


def test_determinism_sets_each_frameworks_deterministic_step_beside_its_default_one(tmp_path):
    from suite.report.page import Report
    from suite.studies.speed.analysis import determinism_costs
    from suite.studies.speed.report import section_determinism

    def step(impl, mode, seconds, **kw):
        extra = {"seq_len": 100, "batch": 64, "input_size": 512, "hidden_size": 512, "iqr_s": 0.0}
        return speed(impl, impl, seconds, group="deterministic", mode=mode, **extra, **kw)

    records = [
        step("torch", "train", 0.010),
        step("torch", "train_deterministic", 0.015, deterministic="torch.use_deterministic_algorithms(True)"),
        step("jax", "train", 0.020),  # no deterministic twin: left out
    ]
    (row,) = determinism_costs(records)
    assert row["implementation"] == "torch" and abs(row["cost_x"] - 1.5) < 1e-12
    assert row["set"].startswith("torch.use_deterministic") and not row["unstable"]
    rep = Report(tmp_path)
    section_determinism(rep, records)
    text = "\n".join(rep.parts)
    assert "| torch | lstm | cpu | 10 | 15 | 1.50 |" in text
    section_determinism(empty := Report(tmp_path), records[2:])
    assert not empty.parts


def test_a_gpu_call_shows_its_wall_time_beside_its_kernels_and_what_could_not_be_measured(tmp_path):
    from suite.report.page import Report
    from suite.studies.speed.report import section_device_time

    timed = {"event_median_s": 0.0019, "kernel_s": 0.0005, "cold_l2_median_s": 0.0023, "l2": "warm"}
    records = [
        speed("torch", "torch", 0.002, group="small", device="gpu", env=GPU, **timed),
        speed(
            "jax", "jax", 0.003, group="small", device="gpu", env=GPU, device_timing="not available in JAX"
        ),
        speed("torch", "torch", 0.004, group="small"),  # the CPU: no device time
    ]
    rep = Report(tmp_path)
    section_device_time(rep, records)
    text = "\n".join(rep.parts)
    assert "| torch | small | lstm | train | 2 | 1.9 | 0.5 | 75% | 2.3 |  |" in text
    assert "| jax | small | lstm | train | 3 | - | - | - | - | not available in JAX |" in text
    assert text.count("| small |") == 2


def test_the_length_aware_path_is_set_against_the_padded_batch_per_distribution(tmp_path):
    from suite.report.page import Report
    from suite.studies.speed.report import section_lengths

    def fwd(impl, seconds, lengths="", **kw):
        shape = {"seq_len": 400, "batch": 32, "input_size": 128, "hidden_size": 256, "iqr_s": 0.0}
        return speed(impl, impl, seconds, group="lengths", mode="forward", lengths=lengths, **shape, **kw)

    records = [
        fwd("torch", 0.040),
        fwd("torch", 0.070, "uniform", padding_share=0.25, path="onednn"),
        fwd("torch", 0.030, "skewed", padding_share=0.74, path="onednn"),
        fwd("jax", 0.050, "uniform", padding_share=0.25),  # no padded twin: left out
    ]
    rep = Report(tmp_path)
    section_lengths(rep, records)
    text = "\n".join(rep.parts)
    assert "T=400, batch 32, input 128, hidden 256" in text
    assert "| torch | lstm | cpu | skewed | 74% | 40 | 30 | 0.75 | onednn |" in text
    assert "| torch | lstm | cpu | uniform | 25% | 40 | 70 | 1.75 | onednn |" in text
    assert "| jax |" not in text


def test_the_lengths_finding_names_where_the_length_aware_path_pays_off_beyond_the_noise():
    from suite.studies.speed.report import length_findings

    def fwd(impl, seconds, lengths="", share=None):
        shape = {"seq_len": 400, "batch": 32, "input_size": 128, "hidden_size": 256, "iqr_s": 0.0}
        return speed(
            impl,
            impl,
            seconds,
            group="lengths",
            mode="forward",
            lengths=lengths,
            padding_share=share,
            processes=3,  # timed in three fresh processes each
            **shape,
        )

    records = [
        fwd("torch", 0.040),
        fwd("torch", 0.035, "uniform", 0.25),
        fwd("torch", 0.020, "skewed", 0.75),
        fwd("numpy", 0.080),
        fwd("numpy", 0.190, "uniform", 0.25),
        fwd("numpy", 0.060, "skewed", 0.75),
    ]
    (found,) = length_findings(records)
    assert (
        "skewed lengths (75% padding): the length-aware path pays off (1.5x or more) for torch;" in found.text
    )
    assert (
        "uniform lengths (25% padding): the length-aware path pays off (1.5x or more) for none;" in found.text
    )
    assert "numpy 2.38x; torch 0.88x" in found.text
    assert found.answer == "skewed (75% padding): torch; uniform (25% padding): none"
    (once,) = length_findings([{k: v for k, v in r.items() if k != "processes"} for r in records])
    assert once.answer.startswith("not established: one process per timing")


def test_both_directions_are_set_against_one_direction_and_the_padded_speech_batch(tmp_path):
    from suite.report.page import Report
    from suite.studies.speed.report import section_bidirectional

    fastrnns = {"seq_len": 100, "batch": 64, "input_size": 512, "hidden_size": 512, "iqr_s": 0.0}
    speech = {"seq_len": 200, "batch": 32, "input_size": 123, "hidden_size": 320, "num_layers": 4}
    records = [
        speed("torch", "torch", 0.010, mode="forward", **fastrnns),
        speed("torch", "torch", 0.018, group="bidirectional", mode="forward", bidirectional=True, **fastrnns),
        speed("torch", "torch", 0.200, group="bidirectional", mode="forward", bidirectional=True, **speech),
        speed(
            "torch",
            "torch",
            0.250,
            group="bidirectional",
            mode="forward",
            bidirectional=True,
            lengths="uniform",
            **speech,
        ),
    ]
    rep = Report(tmp_path)
    section_bidirectional(rep, records)
    text = "\n".join(rep.parts)
    assert "| torch | lstm | cpu | T=100, B64, I512, H512 x 1 | 18 |" in text and "| 1.80 |" in text
    assert "T=200, B32, I123, H320 x 4, uniform lengths | 250 |" in text and "| 1.25 |" in text


def test_a_setting_that_changes_the_kernel_is_named_with_its_cost_per_flop(tmp_path):
    from suite.report.page import Report
    from suite.studies.speed.report import fastpath_findings, section_fastpath

    shape = {"seq_len": 100, "batch": 32, "input_size": 128, "hidden_size": 256, "iqr_s": 0.0}

    def fwd(seconds, path, flops=1e9, **kw):
        return speed(
            "torch",
            "torch",
            seconds,
            group="fastpath",
            mode="forward",
            path=path,
            flops=flops,
            **{"dtype": "float32", "num_layers": 1, **shape, **kw},
        )

    records = [
        fwd(0.010, "onednn"),
        fwd(0.030, "aten, packed", lengths="uniform"),
        fwd(0.020, "onednn", flops=2e9, bidirectional=True),
        fwd(0.040, "aten", dtype="float64"),
    ]
    rep = Report(tmp_path)
    section_fastpath(rep, records)
    text = "\n".join(rep.parts)
    assert "| torch | lstm | cpu | as is | onednn | 10 | 1.00 |  |" in text
    assert "| torch | lstm | cpu | uniform lengths | aten, packed | 30 | 3.00 | yes |" in text
    assert "| torch | lstm | cpu | bidirectional | onednn | 20 | 1.00 |  |" in text
    assert "torch lstm with float64: onednn -> aten (4.0x per FLOP)" in text
    (found,) = fastpath_findings(records)
    assert found.answer.startswith("torch lstm with uniform lengths: onednn -> aten (3.0x per FLOP)")


def test_streaming_shows_latency_real_time_factor_and_cold_start_and_who_falls_behind(tmp_path):
    from suite.report.page import Report
    from suite.studies.speed.report import section_stream, stream_findings

    shape = {"seq_len": 2000, "batch": 1, "input_size": 80, "hidden_size": 256, "num_layers": 2}

    def step(impl, p50, p99, **kw):
        return speed(
            impl,
            impl,
            p50,
            group="stream",
            mode="stream",
            p99_s=p99,
            real_time_factor=p50 * 100,
            real_time_factor_p99=p99 * 100,
            cold_start_s=0.5,
            stream_rate=100,
            rounds=2000,
            iqr_s=0.0,
            **{**shape, **kw},
        )

    records = [step("torch", 0.0002, 0.0004), step("tensorflow", 0.008, 0.012)]
    rep = Report(tmp_path)
    section_stream(rep, records)
    text = "\n".join(rep.parts)
    assert "| torch | lstm | cpu | 1 | 200 | 400 | 0.020 | 0.040 | 500 |" in text
    (found,) = stream_findings(records)
    assert found.answer == "batch 1: torch 200 us per step (p99 400 us); behind at p99: tensorflow"


def test_memory_with_lengths_is_set_against_the_padded_batch_unless_the_peak_is_too_small_to_read(tmp_path):
    from suite.report.page import Report
    from suite.studies.speed.report import _memory_variants

    def mem(impl, mib, lengths="", **kw):
        shape = {"seq_len": 400, "batch": 32, "input_size": 128, "hidden_size": 256, "num_layers": 1}
        return {
            "kind": "memory",
            "status": "ok",
            "implementation": impl,
            "cell": "lstm",
            "group": "lengths",
            "peak_bytes": int(mib * 2**20),
            "analytic_bytes": 2**20,
            "lengths": lengths,
            "path": "p",
            **shape,
            **kw,
        }

    rep = Report(tmp_path)
    _memory_variants(
        rep, [mem("torch", 32), mem("torch", 48, "uniform"), mem("tf", 0.01), mem("tf", 0.2, "uniform")]
    )
    text = "\n".join(rep.parts)
    assert "| torch | lstm | T=400, B32, I128, H256 x 1 | uniform | 48 | 1 | 1.50 | p |" in text
    assert "| tf | lstm | T=400, B32, I128, H256 x 1 | uniform | 0.2 | 1 | - | p |" in text


def test_deploying_sets_each_runtime_beside_torch_streaming_and_at_the_fastrnns_point(tmp_path):
    from suite.report.page import Report
    from suite.studies.speed.deploying import deploying_findings, section_deploying

    shape = {"seq_len": 2000, "batch": 1, "input_size": 80, "hidden_size": 256, "num_layers": 2}

    def step(impl, framework, p50, **kw):
        return speed(
            impl,
            framework,
            p50,
            group="stream",
            mode="stream",
            p99_s=2 * p50,
            real_time_factor=p50 * 100,
            real_time_factor_p99=p50 * 200,
            cold_start_s=1.5,
            stream_rate=100,
            rounds=2000,
            iqr_s=0.0,
            path=f"{impl} path",
            **{**shape, **kw},
        )

    records = [
        step("torch", "torch", 0.0004),
        step("torch-cells", "torch", 0.0002),  # the framework's fastest one step at a time
        step("onnxruntime", "onnxruntime", 0.0001),
        step("openvino", "openvino", 0.0008),
        speed("torch", "torch", 0.020, mode="forward"),
        speed("onnxruntime", "onnxruntime", 0.010, mode="forward"),
        speed("torch", "torch", 0.005),  # a training step: not a deployment
        speed("openvino", "openvino", 0.040, mode="forward", source="other.json"),  # another run
    ]
    checks = [{**check("onnxruntime", "float32", 3e-7), "test": "function"}]
    rep = Report(tmp_path)
    section_deploying(rep, records, checks)
    text = "\n".join(rep.parts)
    assert "| onnxruntime | onnxruntime | 100 | 200 | 1500 | 3.0e-07 | onnxruntime | 10.0 | 3.0e-07 |" in text
    assert "| torch | torch-cells | 200 | 400 | 1500 | not checked | torch | 20.0 | not checked |" in text
    assert "| openvino | openvino | 800 | 1600 | 1500 | not checked | not measured | - |" in text
    (found,) = deploying_findings(records)
    assert found.answer == (
        "onnxruntime 100 us per step (2.0x torch's torch-cells), 10 ms at the fastrnns point (2.00x); "
        "openvino 800 us per step (0.2x torch's torch-cells)"
    )
    assert found.section == "deploying" and found.sources == ["speed.json"]
    # a runtime whose streaming timing is unstable is shown, marked, and left out of the finding's figures
    records[2] = {**records[2], "unstable": True}
    rep = Report(tmp_path)
    section_deploying(rep, records, checks)
    assert "| onnxruntime | onnxruntime | 100 (unstable) |" in "\n".join(rep.parts)
    (found,) = deploying_findings(records)
    assert found.answer.startswith("openvino 800 us") and found.answer.endswith(
        "onnxruntime: unstable at batch 1, not stated (rerun on quiet cores)"
    )


def test_precision_sets_each_low_precision_time_beside_the_same_runs_float32_and_the_checks_error(tmp_path):
    from suite.measurement.workloads import FASTRNNS
    from suite.report.page import Report
    from suite.studies.precision.report import precision_findings, section_precision

    def timed(median, dtype, group, path, **kw):
        return speed("torch", "torch", median, mode="forward", dtype=dtype, group=group, path=path,
                     **{**FASTRNNS, **kw})  # fmt: skip

    records = [
        timed(0.020, "float32", "fastrnns", "onednn"),
        timed(0.005, "bfloat16", "precision", "onednn"),
        timed(0.040, "float16", "precision", "aten"),
        timed(0.001, "bfloat16", "precision", "onednn", source="other.json"),  # no float32 in its run
    ]
    checks = [
        {
            **check("torch", "bfloat16", 0.02),
            "test": "function",
            "errors": {"y": 0.006},
            "rounding_floor": 0.002,
        },
        check("torch", "float32", 1e-7),  # full precision: not in this section
    ]
    rep = Report(tmp_path)
    section_precision(rep, records, checks)
    text = "\n".join(rep.parts)
    assert "| torch | lstm | fastrnns | forward | bfloat16 | 20.00 | 5.00 | 4.00 | onednn | onednn |" in text
    assert "| torch | lstm | fastrnns | forward | float16 | 20.00 | 40.00 | 0.50 | onednn | aten |" in text
    assert (
        "| torch | lstm | bfloat16 | 6.0e-03 | 2.0e-02 | d_x | 2.0e-03 |" in text
        and "float32 | 1.0e-07" not in text
    )
    (found,) = precision_findings(records)
    assert found.answer == "torch bfloat16 4.00x float32 (onednn); torch float16 0.50x float32 (aten)"


def test_a_mixed_policy_is_set_beside_the_float32_of_the_implementation_it_runs(tmp_path):
    """torch-autocast's precision row is timed in float32 (its dtype) against torch's float32 of the same run,
    and named ``mixed bfloat16``; its check row too."""
    from suite.measurement.workloads import FASTRNNS
    from suite.report.page import Report
    from suite.studies.precision.report import precision_findings, section_precision

    records = [
        speed("torch", "torch", 0.020, mode="forward", dtype="float32", path="onednn", **FASTRNNS),
        speed(
            "torch-autocast",
            "torch",
            0.008,
            mode="forward",
            dtype="float32",
            group="precision",
            path="onednn under torch.autocast(bfloat16)",
            **FASTRNNS,
        ),  # fmt: skip
    ]
    checks = [
        {
            **check("torch-autocast", "float32", 0.03),
            "test": "function",
            "errors": {"y": 0.01},
            "rounding_floor": 0.002,
            "computes_in": "bfloat16",
        }
    ]
    rep = Report(tmp_path)
    section_precision(rep, records, checks)
    text = "\n".join(rep.parts)
    row = "| torch-autocast | lstm | fastrnns | forward | mixed bfloat16 | 20.00 | 8.00 | 2.50 | onednn |"
    assert row in text
    assert "| torch-autocast | lstm | mixed bfloat16 | 1.0e-02 | 3.0e-02 | d_x | 2.0e-03 |" in text
    (found,) = precision_findings(records)
    assert found.answer.startswith("torch-autocast mixed bfloat16 2.50x float32 (onednn under torch.autocast")
