"""``python -m suite check``: narrowing, JSON output, exit codes."""

import pytest

import impls
from suite.records import read_records
from suite.studies.equivalence import check
from tests.conftest import run_cli


def run(capsys, *argv):
    code, out = run_cli(capsys, *argv)
    return code, out.out, out.err


def test_narrowed_check_passes_and_writes_json(capsys, tmp_path):
    path = tmp_path / "check.json"
    narrowed = ["--impls", "numpy", "--cells", "gru,rnn", "--dtype", "float32,float64"]
    code, out, _ = run(capsys, "check", *narrowed, "--json", str(path))
    assert code == 0
    records = read_records(path)
    # numpy float32 rows for two cells (each of the check's tests), plus the finite-difference rows of the
    # float64 reference
    assert [(r["cell"], r["dtype"], r["test"]) for r in records] == [
        *((cell, "float32", test) for cell in ("gru", "rnn") for test in check.TESTS),
        ("gru", "float64", "finite_differences"),
        ("rnn", "float64", "finite_differences"),
    ]
    assert all(r["kind"] == "check" and r["status"] == "pass" for r in records)
    assert records[0]["weights"]["seed"] == 0 and records[1]["errors"]["weight_hh_l1"] == 0.0
    assert {"git_commit", "date", "cpu", "versions"} <= set(records[0]["environment"])
    assert "12 passed, 0 failed" in out


def test_a_failure_gives_exit_code_1(capsys, monkeypatch):
    monkeypatch.setitem(check.TOLERANCE, "float32", 0.0)
    code, out, _ = run(capsys, "check", "--impls", "numpy", "--cells", "rnn", "--dtype", "float32")
    assert code == 1
    assert "fail" in out


def test_a_crashing_implementation_is_recorded_and_the_rest_goes_on(capsys, monkeypatch):
    real = impls.create

    def create(framework, *args, **kwargs):
        if framework == "numpy" and "float32" in (*args, kwargs.get("dtype")):
            raise RuntimeError("boom")
        return real(framework, *args, **kwargs)

    monkeypatch.setattr(impls, "create", create)
    code, out, _ = run(capsys, "check", "--impls", "numpy", "--cells", "rnn,gru")
    assert code == 1
    # the five tests of both cells
    assert out.count("error: numpy") == 10
    assert "error: numpy rnn float32 round trip: RuntimeError: boom" in out
    assert "error: numpy gru float32 bidirectional lengths: RuntimeError: boom" in out
    assert "2 passed, 10 failed" in out  # the finite-difference rows still ran


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--frameworks", "mxnet"], "unknown framework 'mxnet'"),
        (["--cells", "lstm,tcn"], "unknown cell 'tcn'"),
        (["--dtype", "float8"], "unknown dtype 'float8'"),
        (["--device", "tpu"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2(capsys, argv, message):
    code, _, err = run(capsys, "check", *argv)
    assert code == 2
    assert message in err


def test_framework_not_installed_exits_2(capsys, monkeypatch):
    monkeypatch.setattr(impls, "available", lambda: ("numpy",))
    code, _, err = run(capsys, "check", "--frameworks", "jax")
    assert code == 2
    assert "jax is not installed" in err and "pip install" in err


def test_gpu_check_without_a_gpu_skips_and_exits_2(capsys):
    code, out, err = run(capsys, "check", "--impls", "numpy", "--dtype", "float32", "--device", "gpu")
    assert code == 2
    assert "skip: numpy" in out and "nothing was checked" in err


def test_the_default_selection_names_what_it_leaves_out(capsys, monkeypatch):
    monkeypatch.setattr(impls, "available", lambda: ("numpy",))
    code, out, err = run(capsys, "check", "--cells", "rnn", "--dtype", "float32")
    assert code == 0
    assert "not installed here, left out: " in err and "numpy-cupy (pip install -e '.[cupy]')" in err
    assert "torch (pip install -e '.[torch]')" in err


def test_the_error_against_t_is_measured_not_judged(capsys, tmp_path, monkeypatch):
    path = tmp_path / "growth.json"
    monkeypatch.setitem(check.TOLERANCE, "float32", 1e-9)  # every float32 row is then beyond it
    code, out, _ = run(
        capsys, "check", "--impls", "numpy", "--cells", "rnn", "--lengths", "7,50", "--json", str(path)
    )
    assert code == 0  # a growth row is a measurement: beyond the tolerance is not a failure
    records = read_records(path)
    assert [(r["test"], r["seq_len"], r["shape"]["time"], r["status"]) for r in records] == [
        ("growth", 7, 7, "ok"),
        ("growth", 50, 50, "ok"),
    ]
    assert all(r["within_tolerance"] is False and r["max_error"] > 0 for r in records)
    assert "by sequence length" in out


def test_tf32_rows_say_what_was_switched_on_and_keep_float64_out(capsys, tmp_path):
    path = tmp_path / "tf32.json"
    code, out, _ = run(capsys, "check", "--impls", "numpy", "--cells", "lstm", "--tf32", "--json", str(path))
    assert code == 0
    (row,) = read_records(path)
    assert (row["test"], row["dtype"], row["tolerance"]) == ("tf32", "float32", check.TF32_TOLERANCE)
    assert row["tf32"].startswith("nothing") and row["status"] == "pass"
    code, _, err = run(capsys, "check", "--tf32", "--dtype", "float64")
    assert code == 2 and "float32 only" in err
    code, _, err = run(capsys, "check", "--tf32", "--lengths", "7")
    assert code == 2 and "not both" in err
    code, _, err = run(capsys, "check", "--lengths", "0,7")
    assert code == 2 and "lengths >= 1" in err


def test_dtypes_an_implementation_does_not_declare_are_said_once_per_implementation(capsys):
    code, out, _ = run(capsys, "check", "--impls", "numpy", "--cells", "gru", "--dtype", "float32,bfloat16")
    assert code == 0 and "tolerance float32 1e-05, bfloat16 2e-01" in out
    assert "skip: dtypes an implementation does not declare: numpy (bfloat16)" in out
    assert "skip: numpy gru bfloat16" not in out
