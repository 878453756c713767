"""The equivalence study's findings, computed from small fixtures."""

from suite.studies.equivalence.report import equivalence_findings
from tests.suite.report.records import GPU, check


def test_equivalence_counts_passing_implementations_per_machine_and_names_failures():
    records = [
        check("torch", "float32", 2e-7),
        check("jax", "float32", 3e-7),
        check("torch", "float32", 2e-5, "fail", env=GPU, device="gpu", cell="rnn"),
        check("torch", "float32", 2e-6, env=GPU, device="gpu"),
        check("torch", "float64", 4e-16),
        {**check("numpy", "float64", 1e-9), "path": "finite differences"},  # the reference's own check
    ]
    f64, f32 = equivalence_findings(records, "CMD")
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
    (f32,) = equivalence_findings(records, "CMD")
    assert "2/2 on Test CPU, 2 cores; 1/1 on Test GPU (GPU)" in f32.text
    assert "get_params returns exactly the weights set: 1/2 on Test CPU, 2 cores." in f32.text
    assert (
        "computed from the weights each implementation reported: Test GPU (GPU) (check-gpu.json)." in f32.text
    )


def test_the_report_says_which_implementations_give_the_same_bits_on_every_run(tmp_path):
    from suite.report.page import Report
    from suite.studies.equivalence.report import section_equivalence

    def row(impl, differs=None, **kw):
        rec = {**check(impl, "float32", 2e-7, env=GPU, device="gpu", **kw), "test": "function"}
        return {**rec, "repeatable": not differs, **({"repeat_differs": differs} if differs else {})}

    records = [
        row("torch", {"d_bias_ih_l0": 3e-8, "d_x": 1e-8}),
        row("jax"),
        check("numpy-cupy", "float32", 1e-7),
    ]
    (f32,) = equivalence_findings(records, "CMD")
    assert "The same bits on every run: 1/2 on Test GPU (GPU) (not: torch)." in f32.text
    rep = Report(tmp_path)
    section_equivalence(rep, records)
    text = "\n".join(rep.parts)
    assert "no (2 differ; d_bias_ih_l0 by 3.0e-08)" in text and "| yes |" in text and "not checked" in text


def test_tf32_and_growth_rows_have_their_own_tables_and_do_not_count_as_failures(tmp_path):
    from suite.report.page import Report
    from suite.studies.equivalence.report import section_equivalence

    base = {**check("torch", "float32", 2e-7, env=GPU, device="gpu"), "test": "function"}
    tf32 = {**check("torch", "float32", 1.2e-3, env=GPU, device="gpu"), "test": "tf32", "tf32": "allow_tf32"}
    tf32 = {**tf32, "tolerance": 1e-2, "worst": "d_weight_hh_l0"}
    growth = [
        {
            **check("torch", "float32", e, env=GPU, device="gpu"),
            "test": "growth",
            "seq_len": t,
            "status": "ok",
        }
        | {"within_tolerance": e <= 1e-5, "worst": "d_bias_ih_l0", "cell": "rnn"}
        for t, e in ((7, 1.1e-5), (1000, 3e-6))
    ]
    (f32,) = equivalence_findings([base, tf32, *growth], "CMD")
    assert "1/1 on Test GPU (GPU)" in f32.text  # the measured rows are not checks
    rep = Report(tmp_path)
    section_equivalence(rep, [base, tf32, *growth])
    text = "\n".join(rep.parts)
    assert "**1 of 1 rows pass.**" in text
    assert "### float32 with TF32 on" in text and "| torch | lstm | Test GPU (GPU) |" in text
    assert "### How the error grows with T" in text
    assert "1.1e-05* (d_bias_ih_l0)" in text and "3.0e-06 (d_bias_ih_l0)" in text


def test_lengths_rows_have_their_own_table_and_name_who_does_not_take_them(tmp_path):
    from suite.report.page import Report
    from suite.studies.equivalence.report import section_equivalence

    def row(impl, test, status="pass", **kw):
        return {**check(impl, "float32", 3e-7, status), "test": test, **kw}

    records = [
        row("torch", "function"),
        row("torch", "lengths", lengths=[7, 3, 1], worst="d_x"),
        row("tensorflow", "function"),
        row("tensorflow", "lengths", "skip", message="tensorflow does not take sequence lengths"),
    ]
    (f32,) = equivalence_findings(records, "CMD")
    assert (
        "With sequences of different lengths in a batch: 1 implementations take them, all agreeing."
        in f32.text
    )
    rep = Report(tmp_path)
    section_equivalence(rep, records)
    text = "\n".join(rep.parts)
    assert "### Sequences of different lengths in one batch" in text and "lengths [7, 3, 1]" in text
    assert (
        "| torch | lstm | float32 |" in text
        and "Do not take lengths (a clear error if given them): tensorflow." in text
    )


def test_low_precision_says_what_rounding_alone_costs_and_runtimes_are_named_as_checked_without_gradients():
    records = [
        {**check("torch", "bfloat16", 0.03), "tolerance": 0.2, "rounding_floor": 0.0035},
        {**check("jax", "bfloat16", 0.05), "tolerance": 0.2, "rounding_floor": 0.0039},
        {**check("onnxruntime", "float32", 3e-7), "gradients": "none: an inference runtime"},
    ]
    f32, bf16 = equivalence_findings(records, "CMD")
    assert bf16.answer == "yes: 2/2 on Test CPU, 2 cores; worst 0.05 (tolerance 0.2; rounding alone 3.9e-03)"
    assert "Rounding the exact outputs once to bfloat16 costs up to 3.9e-03" in bf16.text
    assert "onnxruntime: outputs and final states only (inference runtimes)" in f32.text
    assert "rounding" not in f32.answer
