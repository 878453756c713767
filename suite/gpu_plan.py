"""The GPU run, planned before it starts and kept to a device-time budget.

A *unit* is one study's GPU step for one implementation (the check of ``torch``, the speed points of
``jax``...). The plan orders the units by value (every check first, then the speed and memory reference
points, then the gradient diagnostic and the training points) and estimates each from what earlier GPU
runs measured: the unit's own time in the ledger (``results/gpu-run.json``), else the timings in its
committed records, else a stated guess. A budgeted run starts a unit only when its estimate fits what is
left, interrupts it at the deadline (its finished jobs are written, as every command does on an
interrupt), merges each unit's records into its step's results file and notes each unit in the ledger
after it ends, so a rerun continues where the last one stopped."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from suite.records import ResultsError, benchmark_key, read_json, read_records, write_atomic, write_records
from suite.records import dumps as dumps_json

# the order of value: a result rests on the check; speed and memory are the reference points users ask for
VALUE_ORDER = (
    "check",
    "speed",
    "memory",
    "check-tf32",
    "check-growth",
    "speed-variants",
    "gradients",
    "capacity",
)
LEDGER = "gpu-run.json"
PARTS = "gpu-parts"  # each unit's own results file, under the output folder (kept: a unit resumes from it)
LEDGER_FORMAT = "rnnbench-gpu-run"
GRACE_S = 30.0  # after the interrupt at the deadline: jobs in flight finish and are written
START_S = 15.0  # starting a unit's process: importing its framework and initialising CUDA
# seconds per record when no GPU run timed the unit (stated as a guess wherever it is used)
GUESS_PER_RECORD_S = {
    "check-tf32": 4.0,
    "check-growth": 4.0,
    "check": 4.0,
    "speed": 15.0,
    "speed-variants": 10.0,
    "memory": 20.0,
    "gradients": 10.0,
    "capacity": 120.0,
}
CAPACITY_JOBS = 8  # training jobs the GPU step runs at once (suite.studies.capacity.command.gpu_steps)
GUESS_RECORDS = {
    "check-tf32": 3,
    "check-growth": 15,
    "check": 8,
    "speed": 12,
    "speed-variants": 39,
    "memory": 6,
    "gradients": 21,
    "capacity": 10,
}  # when there are none


@dataclass(frozen=True)
class Unit:
    """One step of the GPU run for one implementation, and what the plan expects of it."""

    step: str
    implementation: str
    argv: tuple[str, ...]  # the subcommand; it writes the unit's part file
    part: str  # the unit's own results file
    target: str  # the step's results file the part is merged into
    estimate_s: float = 0.0
    source: str = ""  # where the estimate comes from
    installed: bool = True


def _json_arg(argv: list[str]) -> str:
    return argv[argv.index("--json") + 1]


def units(
    gpu_steps: Iterable[Callable[[list[str], str, float], dict[str, list[str]]]],
    names: list[str],
    out: str,
    timeout: float,
    only: Iterable[str] | None = None,
    installed: Iterable[str] | None = None,
) -> list[Unit]:
    """Every (step, implementation) unit, in the order of value: steps by ``VALUE_ORDER``, implementations
    as given. ``gpu_steps`` are the studies' step builders; a unit's part file lies in
    ``out/gpu-parts/IMPLEMENTATION/`` under the name of the step's own file in ``out``."""
    wanted = set(only) if only is not None else None
    here = set(names if installed is None else installed)
    found: list[Unit] = []
    for name in names:
        part_dir = str(Path(out) / PARTS / name)
        for build in gpu_steps:
            for step, argv in build([name], part_dir, timeout).items():
                if wanted is not None and step not in wanted:
                    continue
                part = _json_arg(argv)
                target = str(Path(out) / Path(part).name)
                found.append(Unit(step, name, tuple(argv), part, target, installed=name in here))
    rank = {step: i for i, step in enumerate(VALUE_ORDER)}
    return sorted(found, key=lambda u: rank.get(u.step, len(rank)))  # stable: implementations keep order


# ----- estimates -----


def _records(path: str) -> list[dict]:
    return read_records(path) if Path(path).exists() else []


def _from_records(step: str, records: list[dict]) -> float | None:
    """A unit's seconds from the timings its records hold (speed: first call, compile and timed rounds of
    each job; training: each job's wall time over the jobs that ran at once), or None where they hold none."""
    if step.startswith("speed"):
        per_job = [
            (r.get("first_call_s") or 0)
            + (r.get("compile_seconds") or 0)
            + r["median_s"] * r.get("rounds", 1)
            for r in records
            if r.get("median_s") is not None
        ]
        return START_S + sum(per_job) if per_job else None
    if step == "capacity":
        walls = [r["wall_seconds"] for r in records if r.get("wall_seconds") is not None]
        return START_S + sum(walls) / min(len(walls), CAPACITY_JOBS) if walls else None
    return None


def estimate(unit: Unit, ledger: dict) -> Unit:
    """``unit`` with its estimate and where it comes from: the last GPU run that finished it (the ledger),
    else its committed records' timings, else a guess per record."""
    timed = [
        e
        for e in ledger.get("units", [])
        if (e["step"], e["implementation"]) == (unit.step, unit.implementation) and e["status"] == "done"
    ]
    if timed:
        last = timed[-1]
        return replace(
            unit,
            estimate_s=last["seconds"],
            source=f"timed on {last.get('gpu') or 'a GPU'}, {last['date'][:10]}",
        )
    mine = [r for r in _records(unit.target) if r.get("implementation") == unit.implementation]
    derived = _from_records(unit.step, mine)
    if derived is not None:
        return replace(unit, estimate_s=derived, source=f"from the timings of {len(mine)} records")
    n = len(mine) or GUESS_RECORDS.get(unit.step, 10)
    at_once = CAPACITY_JOBS if unit.step == "capacity" else 1
    guess = START_S + n * GUESS_PER_RECORD_S.get(unit.step, 15.0) / at_once
    held = f"{len(mine)} records" if mine else f"{n} jobs assumed"
    return replace(unit, estimate_s=guess, source=f"guess: {held}, no time recorded")


# ----- the ledger -----


def read_ledger(out: str) -> dict:
    """The ledger of GPU runs in ``out`` (empty when there is none); a broken one is an error."""
    path = Path(out) / LEDGER
    if not path.exists():
        return {"format": LEDGER_FORMAT, "units": []}
    data = read_json(path)
    if (
        not isinstance(data, dict)
        or data.get("format") != LEDGER_FORMAT
        or not isinstance(data.get("units"), list)
    ):
        raise ResultsError(f"{path}: not an rnnbench GPU-run ledger")
    return data


def open_run(ledger: dict) -> str | None:
    """The id of the last run when it stopped before every unit was done (a rerun continues it)."""
    run = ledger.get("last_run")
    return run["id"] if run and not run.get("complete") else None


def done_in(ledger: dict, run_id: str | None) -> set[tuple[str, str]]:
    """The units the run ``run_id`` finished."""
    return {
        (e["step"], e["implementation"])
        for e in ledger.get("units", [])
        if run_id is not None and e.get("run") == run_id and e["status"] == "done"
    }


def _write_ledger(out: str, ledger: dict) -> None:
    write_atomic(Path(out) / LEDGER, dumps_json(ledger))


# ----- merging a unit's records into its step's file -----


def identity(record: dict) -> str:
    """What a record measured, across runs: the same identity in a part and in the step's file is the same
    job measured again."""
    kind = record.get("kind")
    if kind in ("speed", "memory"):
        return f"{kind}:{record.get('group')}:{benchmark_key(record)}"
    if kind == "capacity":
        from suite.training.spec import key

        return f"capacity:{key(record)}"
    fields = ("implementation", "cell", "dtype", "test", "init", "seed", "step", "hidden_size", "device")
    return f"{kind}:" + "/".join(str(record.get(f)) for f in fields)


def merge(part: str, target: str, implementation: str, complete: bool) -> int:
    """Put the part's records into the step's file: each replaces the record of the same identity; a
    complete unit also drops the implementation's records it did not measure again (a grid that changed).
    The number of records merged."""
    new = _records(part)
    if not new:
        return 0
    ids = {identity(r) for r in new}
    kept = [
        r
        for r in _records(target)
        if identity(r) not in ids and not (complete and r.get("implementation") == implementation)
    ]
    write_records(target, kept + new)
    return len(new)


# ----- running units -----


def _start_interruptible(argv: list[str]) -> subprocess.Popen:
    """Start ``argv`` in a session of its own so that SIGINT reaches it even when this process ignores SIGINT
    (a background job of a non-interactive shell does, and a child inherits an ignored signal across exec)."""
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # exec resets a handled signal to default
    try:
        return subprocess.Popen(argv, start_new_session=True)
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_unit(
    argv: Iterable[str],
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
    command: tuple[str, ...] = (sys.executable, "-m", "suite"),
) -> tuple[str, int]:
    """Run ``python -m suite ARGV`` (``command`` ARGV) in its own process group; at ``deadline`` (on
    ``clock``) interrupt it (it writes what finished and exits), halfway through ``GRACE_S`` interrupt it
    again (it gives up the jobs in flight), after ``GRACE_S`` kill its process group. Returns
    (status, exit code): done (exit 0 or 1: it ran, some of its jobs may have failed), stopped
    (interrupted at the deadline) or error."""
    proc = _start_interruptible([*command, *argv])
    interrupted, again = None, False
    try:
        while proc.poll() is None:
            now = clock()
            if interrupted is None and now >= deadline:
                proc.send_signal(signal.SIGINT)  # the command itself only: its jobs finish and are written
                interrupted = now
            elif interrupted is not None and not again and now >= interrupted + GRACE_S / 2:
                # a second interrupt: the command gives up its jobs and kills them (they run in sessions of
                # their own, which the process group's kill below would not reach)
                proc.send_signal(signal.SIGINT)
                again = True
            elif interrupted is not None and now >= interrupted + GRACE_S:
                os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.2)
    finally:
        try:  # jobs the command left behind
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
    code = proc.returncode
    if interrupted is not None:
        return "stopped", code
    return ("done" if code in (0, 1) else "error"), code


Runner = Callable[[tuple[str, ...], float], tuple[str, int]]


def run(
    plan: list[Unit],
    out: str,
    budget_s: float | None,
    gpu: str,
    commit: str,
    fresh: bool = False,
    runner: Runner = run_unit,
    clock: Callable[[], float] = time.monotonic,
    say: Callable[[str], None] = print,
) -> list[dict]:
    """Run the plan's installed units in order within ``budget_s`` seconds (None: no limit): a unit starts
    only when its estimate fits what is left, and is interrupted at the deadline. Each unit's records are
    merged into its step's file and its outcome noted in the ledger as soon as it ends. Units the last run
    finished are skipped when it stopped early (unless ``fresh``). Returns the ledger entries of this run."""
    ledger = read_ledger(out)
    run_id = None if fresh else open_run(ledger)
    finished = done_in(ledger, run_id)
    if run_id is not None:
        say(f"continuing the GPU run of {run_id}: {len(finished)} units done before (--fresh starts over)")
    run_id = run_id or datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    start = clock()
    deadline = None if budget_s is None else start + budget_s - GRACE_S
    entries: list[dict] = []
    left_over = False
    for unit in plan:
        if not unit.installed or (unit.step, unit.implementation) in finished:
            continue
        now = clock()
        if deadline is not None and now + unit.estimate_s > deadline:
            say(
                f"-- {unit.step} {unit.implementation}: left for a later run (~{unit.estimate_s:.0f} s, "
                f"{max(deadline - now, 0):.0f} s left)"
            )
            left_over = True
            continue
        say(f"\n== {unit.step} {unit.implementation} (~{unit.estimate_s:.0f} s): {' '.join(unit.argv)}")
        Path(unit.part).parent.mkdir(parents=True, exist_ok=True)
        status, code = runner(unit.argv, float("inf") if deadline is None else deadline)
        seconds = clock() - now
        merged = merge(unit.part, unit.target, unit.implementation, complete=status == "done")
        entry = {
            "run": run_id,
            "step": unit.step,
            "implementation": unit.implementation,
            "status": status,
            "exit_code": code,
            "seconds": round(seconds, 1),
            "records": merged,
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "gpu": gpu,
            "git_commit": commit,
        }
        entries.append(entry)
        left_over = left_over or status != "done"
        ledger["units"].append(entry)
        ledger["last_run"] = {"id": run_id, "complete": False}
        _write_ledger(out, ledger)
        say(f"   {status} in {seconds:.0f} s, {merged} records into {unit.target}")
    ledger["last_run"] = {"id": run_id, "complete": not left_over}
    _write_ledger(out, ledger)
    return entries


def plan_rows(
    plan: list[Unit], budget_s: float | None, done: set[tuple[str, str]] = frozenset()
) -> list[dict]:
    """The plan as table rows: each unit, its estimate, the time by its end, and whether it fits."""
    rows, total = [], 0.0
    limit = None if budget_s is None else budget_s - GRACE_S
    for u in plan:
        row = {"step": u.step, "implementation": u.implementation, "estimate_s": round(u.estimate_s)}
        if not u.installed:
            row["runs"] = "not installed here: not measured"
        elif (u.step, u.implementation) in done:
            row["runs"] = "done in the stopped run (continues after it)"
        elif limit is not None and total + u.estimate_s > limit:
            row["runs"] = "over the budget: a later run"
        else:
            total += u.estimate_s
            row["runs"] = "yes"
        rows.append({**row, "by_s": round(total), "estimate_from": u.source})
    return rows
