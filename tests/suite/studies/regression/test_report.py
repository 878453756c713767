"""The regression study's findings, computed from small fixtures."""

from suite.studies.regression.report import regression_findings
from tests.suite.report.records import ab


def test_regression_reports_the_latest_comparison():
    records = [ab("slower", date="2026-11-01T00:00:00+00:00", source="ab/old.json"), ab("same"), ab("faster")]
    (found,) = regression_findings(records, "CMD")
    assert "candidate Y against base X: 1 faster, 1 same" in found.text and found.sources == ["ab/a.json"]


def test_regression_evidence_counts_false_alarms_and_caught_slowdowns():
    records = [
        ab("same", "aa-1"),
        ab("slower", "aa-2"),
        ab("slower", "inj-1", "lstm=1.1"),
        ab("same", "inj-1", "lstm=1.1", cell="rnn"),  # the control cell: not slowed
        ab("same", "inj-2", "lstm=1.1"),
    ]
    (found,) = regression_findings(records, "CMD")
    assert "1 false alarms in 2 A/A benchmarks; 1 of 2 injected slowdowns caught" in found.text
