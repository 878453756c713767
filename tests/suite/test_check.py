"""The equivalence check's rows and tolerances (the command and the tests share them)."""

import pytest

from suite import check


def test_rows_are_every_combination_but_the_reference_itself():
    rows = check.rows(["numpy", "jax"], ["rnn", "gru"], ["float32", "float64"])
    assert ("numpy", "rnn", "float64") not in rows and ("numpy", "rnn", "float32") in rows
    assert len(rows) == 2 * 2 * 2 - 2
    assert rows[0] == ("numpy", "rnn", "float32") and rows[-1] == ("jax", "gru", "float64")


def test_tolerances():
    assert check.TOLERANCE == {"float64": 1e-10, "float32": 1e-5}


def test_a_row_that_raises_is_an_error_and_a_missing_device_a_skip(monkeypatch):
    import impls

    def create(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(impls, "create", create)
    row = check.check_row("numpy", "rnn", "float32")
    assert row["status"] == "error" and "RuntimeError: boom" in row["message"]
    monkeypatch.undo()
    assert check.check_row("numpy", "rnn", "float32", device="gpu")["status"] == "skip"


def test_run_adds_the_finite_difference_rows_only_for_float64():
    rows, fd = check.run(["numpy"], ["rnn"], ["float32"])
    assert [r["status"] for r in rows] == ["pass"] and fd == []
    rows, fd = check.run(["numpy"], ["rnn"], ["float64"])
    assert rows == [] and [r["path"] for r in fd] == ["finite differences"]
    assert check.counts(rows + fd) == {"passed": 1, "failed": 0, "skipped": 0}


@pytest.mark.parametrize("status, counted", [("fail", "failed"), ("error", "failed"), ("skip", "skipped")])
def test_counts(status, counted):
    assert check.counts([{"status": status}])[counted] == 1
