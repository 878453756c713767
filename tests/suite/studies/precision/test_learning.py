"""Learning in low precision: the comparison's rows, finding and plot from its own results file, which the
learning section leaves out."""

import pytest

from suite.report.loading import Results
from suite.studies.learning.report import findings as learning_report_findings
from suite.studies.precision import learning as precision
from tests.suite.report.records import accuracy


def _run(impl, dtype, cell, seed, loss, solved):
    return {
        **accuracy(cell, 100, solved, seed),
        "implementation": impl,
        "dtype": dtype,
        "test_loss": loss,
        "baseline_loss": 0.1,
        "accuracy": 0.9 if solved else 0.1,
        "source": precision.SOURCE,
    }


RECORDS = [
    *(_run("torch", "float32", "lstm", s, 0.001, True) for s in range(3)),
    *(_run("torch-autocast", "float32", "lstm", s, 0.002, s < 2) for s in range(3)),
    *(_run("torch", "bfloat16", "lstm", s, 0.05 + 0.01 * s, False) for s in range(3)),
]


def test_each_precision_of_a_point_is_a_row_with_its_runs_solved_and_loss_over_the_baseline():
    rows = precision.learning_rows([*RECORDS, accuracy("lstm", 100, True)])  # another file's: not in it
    assert [(r["precision"], r["solved"]) for r in rows] == [
        ("float32", "3/3"),
        ("mixed bfloat16", "2/3"),
        ("bfloat16", "0/3"),
    ]
    assert rows[2]["loss_vs_baseline"] == pytest.approx(0.6)
    assert rows[2]["loss_range"] == pytest.approx((0.5, 0.7))
    (found,) = precision.learning_finding(RECORDS, "which-precision")
    assert found.answer == "adding T=100 LSTM: float32 3/3, mixed bfloat16 2/3, bfloat16 0/3"
    assert precision.learning_finding([accuracy("lstm", 100, True)], "which-precision") == []


def test_the_learning_section_leaves_the_low_precision_and_mixed_runs_out():
    """Its float32 runs are the learning study's too; the mixed and pure bfloat16 ones are this study's."""
    results = Results(by_kind={"accuracy": [*RECORDS, accuracy("lstm", 10, True)]})
    (found,) = learning_report_findings(results)
    assert "T=100 (3/3 runs)" in found.text  # the three float32 runs, not all nine


def test_the_plot_shows_each_seed_per_precision():
    fig = precision.learning_figure(RECORDS)
    (ax,) = fig.axes
    assert sorted(len(c.get_offsets()) for c in ax.collections) == [3, 3, 3]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:3] == ["float32", "mixed bfloat16", "bfloat16"]
