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
