"""The GPU run's plan and budget (suite.gpu_plan, ``rnnbench gpu --plan/--budget``), on the CPU: units run
through a stand-in runner on a stand-in clock, and real processes interrupted at a deadline."""

import json
import sys
from pathlib import Path

import pytest

from suite import gpu, gpu_plan
from suite.records import make_record, read_records, write_records
from tests.conftest import run_cli

ENV = {"git_commit": "abc", "date": "2026-12-02T00:00:00+00:00"}


def check_record(impl: str, cell: str, status: str = "pass") -> dict:
    fields = {"implementation": impl, "framework": impl, "cell": cell, "dtype": "float32", "device": "gpu"}
    return make_record("check", {**fields, "status": status, "test": "function"}, ENV)


def unit(out: Path, impl: str, step: str = "check", estimate: float = 10.0) -> gpu_plan.Unit:
    part = out / gpu_plan.PARTS / impl / f"{step}-gpu.json"
    return gpu_plan.Unit(
        step, impl, ("check", "--impls", impl), str(part), str(out / f"{step}-gpu.json"), estimate
    )


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def fake_runner(clock: FakeClock, plan: list[gpu_plan.Unit], took: dict[str, float], status: str = "done"):
    """Writes each unit's part (one record per cell) and moves the clock on by what the unit ``took``."""
    by_impl = {u.implementation: u for u in plan}
    ran = []

    def runner(argv, deadline):
        impl = argv[argv.index("--impls") + 1]
        u = by_impl[impl]
        ran.append(impl)
        write_records(u.part, [check_record(impl, c) for c in ("lstm", "gru")])
        clock.now += took[impl]
        return (status, 0 if status == "done" else 130)

    return runner, ran


def test_units_come_in_the_order_of_value_with_their_own_part_files(tmp_path):
    units = gpu_plan.units(gpu.GPU_STEPS, ["torch", "jax"], str(tmp_path), 30.0, installed=["torch"])
    assert [u.step for u in units][:2] == ["check", "check"] and units[-1].step == "capacity"
    assert [u.installed for u in units[:2]] == [True, False]
    assert all(Path(u.part).parent == tmp_path / "gpu-parts" / u.implementation for u in units)


def test_an_estimate_comes_from_the_ledger_then_the_records_timings_then_a_stated_guess(tmp_path):
    speed = unit(tmp_path, "torch", "speed")
    guessed = gpu_plan.estimate(speed, {"units": []})
    assert guessed.source.startswith("guess") and guessed.estimate_s > 0
    fields = {
        "implementation": "torch", "framework": "torch", "cell": "lstm", "mode": "forward", "seq_len": 100,
        "batch": 64, "input_size": 512, "hidden_size": 512, "num_layers": 1, "dtype": "float32",
        "device": "gpu", "status": "ok",
    }  # fmt: skip
    timed = {**fields, "median_s": 0.01, "rounds": 50, "first_call_s": 1.0, "compile_seconds": 2.0}
    write_records(
        speed.target,
        [make_record("speed", timed, ENV), make_record("speed", {**fields, "implementation": "jax"}, ENV)],
    )
    from_records = gpu_plan.estimate(speed, {"units": []})
    assert from_records.estimate_s == pytest.approx(gpu_plan.START_S + 1.0 + 2.0 + 0.5)
    assert from_records.source == "from the timings of 1 records"
    ledger = {"units": [{"step": "speed", "implementation": "torch", "status": "done", "seconds": 42.0,
                        "date": "2026-12-02T01:00:00+00:00", "gpu": "NVIDIA H200"}]}  # fmt: skip
    measured = gpu_plan.estimate(speed, ledger)
    assert measured.estimate_s == 42.0 and "NVIDIA H200" in measured.source


def test_the_plan_says_what_fits_the_budget_and_what_waits(tmp_path):
    plan = [
        unit(tmp_path, "a", estimate=40),
        unit(tmp_path, "b", estimate=60),
        unit(tmp_path, "c", estimate=20),
    ]
    plan.append(gpu_plan.Unit("check", "tf", ("check",), "p", "t", 5, installed=False))
    rows = gpu_plan.plan_rows(plan, budget_s=gpu_plan.GRACE_S + 70, done={("check", "c")})
    assert [r["runs"] for r in rows] == [
        "yes",
        "over the budget: a later run",
        "done in the stopped run (continues after it)",
        "not installed here: not measured",
    ]
    assert [r["by_s"] for r in rows] == [40, 40, 40, 40]


def test_a_budgeted_run_keeps_to_its_budget_then_a_rerun_continues_where_it_stopped(tmp_path):
    out = str(tmp_path)
    plan = [
        unit(tmp_path, "a", estimate=40),
        unit(tmp_path, "b", estimate=60),
        unit(tmp_path, "c", estimate=20),
    ]
    clock = FakeClock()
    runner, ran = fake_runner(clock, plan, {"a": 45, "b": 50, "c": 15})
    entries = gpu_plan.run(
        plan, out, gpu_plan.GRACE_S + 70, "GPU", "abc", runner=runner, clock=clock, say=str
    )
    assert ran == ["a", "c"]  # b's 60 s did not fit the 25 s left after a; c's 20 s did
    assert [(e["implementation"], e["status"], e["seconds"], e["records"]) for e in entries] == [
        ("a", "done", 45.0, 2),
        ("c", "done", 15.0, 2),
    ]
    ledger = gpu_plan.read_ledger(out)
    assert ledger["last_run"]["complete"] is False
    assert sorted(r["implementation"] for r in read_records(tmp_path / "check-gpu.json")) == [
        "a",
        "a",
        "c",
        "c",
    ]

    runner, ran = fake_runner(clock, plan, {"a": 45, "b": 50, "c": 15})
    gpu_plan.run(plan, out, None, "GPU", "abc", runner=runner, clock=clock, say=str)
    assert ran == ["b"]  # the stopped run continued: only what it left
    assert gpu_plan.read_ledger(out)["last_run"]["complete"] is True

    runner, ran = fake_runner(clock, plan, {"a": 45, "b": 50, "c": 15})
    gpu_plan.run(plan, out, None, "GPU", "abc", runner=runner, clock=clock, say=str)
    assert ran == ["a", "b", "c"]  # the last run was complete: a new one starts over
    runner, ran = fake_runner(clock, plan, {"a": 45, "b": 50, "c": 15}, status="stopped")
    gpu_plan.run(plan, out, None, "GPU", "abc", runner=runner, clock=clock, say=str)
    runner, ran = fake_runner(clock, plan, {"a": 45, "b": 50, "c": 15})
    gpu_plan.run(plan, out, None, "GPU", "abc", fresh=True, runner=runner, clock=clock, say=str)
    assert ran == ["a", "b", "c"]  # --fresh starts over even after a stopped run
    timed = gpu_plan.estimate(plan[1], gpu_plan.read_ledger(out))
    assert timed.estimate_s == 50.0 and "GPU" in timed.source  # the next plan estimates from this run


def test_a_unit_replaces_its_own_records_and_a_stopped_one_keeps_what_it_did_not_redo(tmp_path):
    target, part = tmp_path / "check-gpu.json", tmp_path / "part.json"
    write_records(
        target,
        [check_record("torch", "lstm", "fail"), check_record("torch", "rnn"), check_record("jax", "lstm")],
    )
    write_records(part, [check_record("torch", "lstm")])
    assert gpu_plan.merge(str(part), str(target), "torch", complete=False) == 1
    got = {(r["implementation"], r["cell"]): r["status"] for r in read_records(target)}
    assert got == {("torch", "lstm"): "pass", ("torch", "rnn"): "pass", ("jax", "lstm"): "pass"}
    gpu_plan.merge(str(part), str(target), "torch", complete=True)
    got = {(r["implementation"], r["cell"]) for r in read_records(target)}
    assert got == {("torch", "lstm"), ("jax", "lstm")}  # a complete unit's grid is what it measured
    assert gpu_plan.merge(str(tmp_path / "none.json"), str(target), "torch", complete=True) == 0


SCRIPT = """
import signal, sys, time
what = sys.argv[1]
if what == "ignore":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
if what == "twice":  # finishes what is in flight on the first interrupt, gives it up on the second
    seen = []
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130) if seen else seen.append(1))
if what == "fail":
    sys.exit(3)
if what != "quick":
    try:
        time.sleep(60)
    except KeyboardInterrupt:
        sys.exit(130)
"""


@pytest.mark.parametrize(
    ("what", "status", "code"),
    [
        ("quick", "done", 0),
        ("fail", "error", 3),
        ("slow", "stopped", 130),
        ("twice", "stopped", 130),
        ("ignore", "stopped", -9),
    ],
)
def test_a_unit_is_interrupted_at_the_deadline_and_stopped_if_it_does_not_end(
    monkeypatch, what, status, code
):
    import time

    monkeypatch.setattr(gpu_plan, "GRACE_S", 1.0)
    deadline = time.monotonic() + 3.0  # the child must be past its start when interrupted, even under load
    got = gpu_plan.run_unit([what], deadline, command=(sys.executable, "-c", SCRIPT))
    assert got == (status, code)


def test_a_unit_is_interrupted_even_when_this_process_ignores_sigint(monkeypatch):
    import signal
    import time

    monkeypatch.setattr(gpu_plan, "GRACE_S", 1.0)
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as in a background job of a non-interactive shell
    try:
        got = gpu_plan.run_unit(["slow"], time.monotonic() + 3.0, command=(sys.executable, "-c", SCRIPT))
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # left as it was
    finally:
        signal.signal(signal.SIGINT, before)
    assert got == ("stopped", 130)


def test_the_plan_is_printed_without_a_gpu_and_lists_what_is_not_installed(capsys, monkeypatch, tmp_path):
    import impls

    monkeypatch.setattr(gpu, "gpu_names", lambda: [])
    here = [n for n in impls.available() if not n.startswith("tensorflow")]
    monkeypatch.setattr(impls, "available", lambda: tuple(here))
    code, out = run_cli(capsys, "gpu", "--plan", "--budget", "600", "--out", str(tmp_path))
    assert code == 0
    assert "not installed here: not measured" in out.out
    assert "rnnbench gpu --impls numpy-cupy,tensorflow,tensorflow-mixed,tensorflow-xla" in out.out
    assert "of the 600 s budget" in out.out
    lines = [line.split() for line in out.out.splitlines() if line.startswith("check ")]
    assert lines and all(words[0] == "check" for words in lines)
    assert not list(tmp_path.iterdir())  # a plan writes nothing
    code, out = run_cli(capsys, "gpu", "--plan", "--impls", "jax-cudnn", "--out", str(tmp_path))
    assert code == 0 and "(no budget: every unit)" in out.out
    steps = [line.split()[0] for line in out.out.splitlines()[2:] if line.strip() and "jax-cudnn" in line]
    assert "gradients" not in steps and "capacity" not in steps  # float32 LSTM only: no unit it cannot run


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--budget", "10"], "--budget must be more than"),
        (["--timeout", "0"], "--timeout must be > 0"),
        (["--only", "nope"], "unknown step"),
    ],
)
def test_the_gpu_command_refuses_a_bad_budget_or_step(capsys, argv, says):
    code, out = run_cli(capsys, "gpu", "--plan", *argv)
    assert code == 2 and says in out.err


def test_a_broken_ledger_is_said_not_overwritten(capsys, tmp_path):
    (tmp_path / gpu_plan.LEDGER).write_text(json.dumps({"units": "no"}))
    code, out = run_cli(capsys, "gpu", "--plan", "--out", str(tmp_path))
    assert code == 2 and "not an rnnbench GPU-run ledger" in out.err
    assert json.loads((tmp_path / gpu_plan.LEDGER).read_text()) == {"units": "no"}
