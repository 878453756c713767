"""``run capacity``: how far each cell reaches. Three modes: ``--throughput`` times a short training run of
each implementation (to pick the one the search runs on); the default searches lengths for each task x cell
x init on one implementation; ``--at`` trains several implementations at fixed lengths (the framework
comparison)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

import impls
from suite import harness
from suite.environment import cpu_model, environment
from suite.options import (
    UsageError,
    add_budget,
    add_device,
    add_json,
    add_selection,
    implementations_arg,
    on_device,
    on_gpu,
    parse_ints,
    parse_list,
    steps_from,
)
from suite.records import ResultsError, read_records, write_records
from suite.studies.capacity import anchors
from suite.studies.capacity import search as capacity
from suite.table import render
from suite.training import scheduler, spec

DEFAULT_JSON = "results/capacity.json"
ANCHORS_JSON = "results/capacity-anchors.json"
THROUGHPUT_JSON = "results/capacity-throughput.json"
PLAN_HOURS = 8.0  # one core's time a search may take on this machine (the rest waits for a GPU)


def add_parser(kinds: argparse._SubParsersAction) -> None:
    p = kinds.add_parser(
        "capacity",
        help="the longest sequence each cell solves: lengths doubled per task x cell x init, several seeds",
    )
    p.add_argument("--tasks", help=f"comma-separated, from {','.join(capacity.TASKS)} (default: all)")
    add_selection(p)
    p.add_argument(
        "--init",
        help=f"comma-separated, from {','.join(impls.INITS)} (default: {','.join(capacity.INITS)})",
    )
    p.add_argument(
        "--seeds", type=int, default=capacity.SEEDS, help=f"seeds per length (default {capacity.SEEDS})"
    )
    p.add_argument(
        "--start", type=int, default=capacity.START, help=f"first length (default {capacity.START})"
    )
    p.add_argument(
        "--longest", type=int, default=capacity.LONGEST, help=f"longest length (default {capacity.LONGEST})"
    )
    p.add_argument(
        "--at",
        help="comma-separated lengths: train every selected implementation there, no search (with --anchors: "
        "only the anchors at these lengths)",
    )
    p.add_argument("--throughput", action="store_true", help="time each implementation's training step first")
    p.add_argument(
        "--plan",
        action="store_true",
        help="print the search's worst-case cost per chain and length from the measured throughput; "
        "no training",
    )
    p.add_argument(
        "--anchors",
        action="store_true",
        help="rerun the tasks' published anchors at their own settings and budgets (and the GRU); no search",
    )
    for name in ("steps", "batch-size", "hidden-size", "eval-every"):
        default = capacity.SETTINGS[name.replace("-", "_")]
        p.add_argument(f"--{name}", type=int, help=f"default {default}")
    p.add_argument("--lr", type=float, help=f"default {capacity.SETTINGS['lr']}")
    add_budget(p)
    add_device(p, "the jobs train")
    p.add_argument(
        "--together",
        default="auto",
        help="runs (seeds, inits) of one shape trained together in one compiled step where the implementation"
        " can (JAX's scans: jax.vmap; the others train one run per process): a number, or auto: where the "
        "throughput file measured it cheaper per run on this CPU than one run per process (default auto)",
    )
    p.add_argument("--jobs", type=int, default=harness.cores(), help="jobs at a time, one thread each")
    p.add_argument(
        "--timeout",
        type=float,
        default=scheduler.JOB_TIMEOUT_S,
        help="seconds per run before its job is killed (a job training K runs together: K times it; "
        f"default {scheduler.JOB_TIMEOUT_S:.0f})",
    )
    add_json(p, default=f"{DEFAULT_JSON}; {THROUGHPUT_JSON} with --throughput, {ANCHORS_JSON} with --anchors")
    p.set_defaults(func=main)


def _positive(args: argparse.Namespace, *names: str) -> None:
    for name in names:
        value = getattr(args, name)
        if value is not None and not value > 0:
            raise UsageError(f"--{name.replace('_', '-')} must be > 0, got {value}")


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    try:
        return [r for r in read_records(path) if r["kind"] == "capacity"]
    except ResultsError as e:
        raise UsageError(f"cannot resume from {e}") from None


def main(args: argparse.Namespace) -> int:
    task_names = parse_list(args.tasks, capacity.TASKS, "task")
    cells = parse_list(args.cells, impls.CELLS, "cell")
    inits = parse_list(args.init, impls.INITS, "init") if args.init else list(capacity.INITS)
    _positive(args, "seeds", "start", "longest", "steps", "batch_size", "hidden_size", "eval_every", "lr")
    _positive(args, "jobs", "timeout")
    try:
        search = capacity.lengths(args.start, args.longest)
    except ValueError as e:
        raise UsageError(str(e)) from None
    chain_list = capacity.chains(task_names, cells, inits)
    if not chain_list:
        raise UsageError("nothing to run: forget1 and chrono apply to lstm and gru only")
    overrides = {k: getattr(args, k) for k in ("steps", "batch_size", "hidden_size", "eval_every", "lr")}
    overrides["steps"] = steps_from(args, args.batch_size or capacity.SETTINGS["batch_size"])
    overrides["device"] = None if args.device == "cpu" else args.device  # CPU jobs keep their keys

    def settings_of(task: str) -> dict:
        return capacity.settings_for(task, **overrides)

    if args.throughput:
        names = on_device(implementations_arg(args, gradients=True), args.device)
        if args.anchors:  # each anchor's settings, at its lengths
            at = parse_ints(args.at, "--at") if args.at else None
            return _throughput(args, anchors.throughput_specs(task_names, names, cells, args.device, at))
        lengths = capacity.lengths(args.start, args.longest)
        return _throughput(args, capacity.throughput_specs(cells, names, args.device, lengths))
    if args.plan:
        return _plan(args, chain_list, settings_of, search, cells)
    if args.device == "gpu" and args.jobs > 1:  # jobs share the GPU: none may claim most of it up front
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    path = Path(args.json or (ANCHORS_JSON if args.anchors else DEFAULT_JSON))
    old = _read(path)
    done = scheduler.done(old)
    env = environment(1)
    failed: list[dict] = []
    pack = _packer(args.together)

    def on_record(record: dict) -> None:
        if not spec.finished(record):
            failed.append(record)
        # after every job, merged with the file as it is now: nothing finished is lost, even to a
        # second run writing the same file
        write_records(path, spec.merge(_read(path), done.values(), failed))
        print(_line(record), file=sys.stderr, flush=True)

    try:
        if args.anchors:
            chosen = _anchor_implementations(args)
            if args.impls is None and args.frameworks is None:  # named: the user's choice stands
                chosen = anchors.resumed_on(done.values(), chosen, args.device)
            every = anchors.specs(task_names, args.seeds, chosen, cells, args.device)
            if args.at:  # only these lengths of the anchors
                every = [s for s in every if s["seq_len"] in parse_ints(args.at, "--at")]
            specs = anchors.unfinished(every, done.values())
            on = {(s["anchor"], s["cell"], s["init"], s["seq_len"]): s["implementation"] for s in specs}
            for (anchor, cell, init, seq_len), name in on.items():
                print(f"{anchor} {cell} {init} T={seq_len}: on {name}", file=sys.stderr)
            on_device(sorted({s["implementation"] for s in specs}), args.device)
            print(f"{len(every)} jobs, {len(every) - len(specs)} already done", file=sys.stderr)
            capacity.run_grid(specs, done, args.jobs, args.timeout, on_record, environment=env, pack=pack)
        elif args.at:
            at = parse_ints(args.at, "--at")
            if not at or min(at) < 1:
                raise UsageError(f"--at must be lengths >= 1, got {args.at!r}")
            names = on_device(implementations_arg(args, gradients=True), args.device)
            specs = capacity.grid(chain_list, names, args.seeds, settings_of, at)
            print(
                f"{len(specs)} jobs, {sum(spec.key(s) in done for s in specs)} already done",
                file=sys.stderr,
            )
            capacity.run_grid(specs, done, args.jobs, args.timeout, on_record, environment=env, pack=pack)
        else:
            chosen = _search_implementations(args, cells, search)
            on_device(sorted({chosen(c, t) for c in cells for t in search}), args.device)
            print(f"{len(done)} finished jobs read from {path}", file=sys.stderr)
            capacity.run(
                chain_list,
                chosen,
                args.seeds,
                settings_of,
                search,
                done,
                args.jobs,
                args.timeout,
                on_record,
                environment=env,
                pack=pack,
            )
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: every finished job is kept in {path}; run the same command to resume",
            file=sys.stderr,
        )
        return 130
    if not done and not failed:
        raise UsageError("no job ran and none was found finished")
    write_records(path, spec.merge(_read(path), done.values(), failed))
    if args.anchors:
        table = anchors.rows(done.values())
        print(render(table, ["task", "source", "cell", "init", "T", "seeds", "solved", "median_solve_step"]))
    else:
        print(render(_rows(capacity.reach(done.values())), list(_rows([{}])[0]) if done else ["task"]))
    print(f"\nwrote {path}")
    return 1 if failed else 0


def _anchor_implementations(args: argparse.Namespace) -> anchors.AnchorChooser:
    """The implementation an anchor's job runs on: the one named, else the cheapest measured on this CPU at
    the anchor's own settings (``--throughput --anchors``), else at the search's."""
    if args.impls is not None or args.frameworks is not None:
        names = implementations_arg(args, gradients=True)
        if len(names) != 1:
            raise UsageError("anchors run on one implementation: name one with --impls")
        return lambda anchor, cell, init, seq_len: names[0]
    measured = Path(THROUGHPUT_JSON)
    throughput = _read(measured) if measured.exists() else []
    installed, cpu = impls.available(), cpu_model()

    def choose(anchor: str, cell: str, init: str, seq_len: int) -> str:
        return capacity.searched_on(throughput, cpu, installed, anchor)[0](cell, seq_len)

    return choose


def _search_implementations(
    args: argparse.Namespace, cells: list[str], search: list[int]
) -> capacity.Chooser:
    """The implementation each job is searched on: the one named, else the cheapest per cell and length in
    the throughput file measured on this CPU (capacity.searched_on)."""
    if args.impls is not None or args.frameworks is not None:
        names = implementations_arg(args, gradients=True)
        if len(names) != 1:
            raise UsageError("a search runs on one implementation: name one with --impls (or use --at)")
        return lambda cell, seq_len: names[0]
    measured = Path(THROUGHPUT_JSON)
    throughput = _read(measured) if measured.exists() else []
    choose, table = capacity.searched_on(throughput, cpu_model(), impls.available())
    why = f"the cheapest measured on this CPU ({measured})" if table else "no throughput measured on this CPU"
    for cell in cells:
        plan = ", ".join(f"T={t} {choose(cell, t)}" for t in search)
        print(f"{cell}: {plan}: {why}", file=sys.stderr)
    return choose


def _plan(
    args: argparse.Namespace, chain_list: list, settings_of: Callable, search: list[int], cells: list[str]
) -> int:
    """Print what the search would cost on this CPU at worst, per chain and length, and per task up to each
    length (every chain of the task searched that far), against PLAN_HOURS."""
    choose = _search_implementations(args, cells, search)
    rows = capacity.plan(
        chain_list, choose, args.seeds, settings_of, search, _read(Path(THROUGHPUT_JSON)), cpu_model()
    )
    print(render(rows, list(rows[0])))
    unknown = sorted({(r["implementation"], r["cell"]) for r in rows if r["worst_hours"] is None})
    if unknown:
        print(f"\nno throughput measured on this CPU for {unknown}: run capacity --throughput first")
    upto = [
        {
            "task": task,
            **{
                f"T<={t}": sum(r["chain_hours"] or 0 for r in rows if r["task"] == task and r["T"] == t)
                for t in search
            },
        }
        for task in dict.fromkeys(r["task"] for r in rows)
    ]
    print(
        f"\ncore-hours at worst with every chain searched up to T (budget on this machine: {PLAN_HOURS:g} h):"
    )
    print(render(upto, list(upto[0])))
    return 0


def _packer(together: str) -> capacity.Packer:
    """How many runs train together: ``auto`` reads the throughput file measured on this CPU."""
    if together == "auto":
        return capacity.packer(_read(Path(THROUGHPUT_JSON)), cpu_model())
    values = parse_ints(together, "--together")
    if len(values) != 1 or values[0] < 1:
        raise UsageError(f"--together must be a number >= 1 or auto, got {together!r}")
    k = values[0]

    def pack(job: dict) -> dict:  # the others would train the runs in turn: one run per process is as fast
        fused = impls.get(job["implementation"]).trains_together
        return {**job, "together": k} if k > 1 and fused else job

    return pack


def _throughput(args: argparse.Namespace, specs: list[dict]) -> int:
    """Time the training step of ``specs`` (per implementation, cell and length), one job at a time
    (nothing else running). The file keeps what other machines measured, and what this one measured for
    other jobs."""
    path = Path(args.json or THROUGHPUT_JSON)
    env = environment(1)
    timed = {spec.key(s) for s in specs}
    kept = [r for r in _read(path) if r["environment"].get("cpu") != env["cpu"] or spec.key(r) not in timed]
    records = []
    for job in scheduler.pack(specs):
        result = scheduler.run_in_subprocess(job, args.timeout)
        for s, r in scheduler.each_run(job, result):
            record = spec.record(capacity.KIND, s, r, env)
            records.append(record)
            print(_line(record), file=sys.stderr, flush=True)
        write_records(path, kept + records)
    rows = [
        {
            "implementation": capacity.where(r),
            "runs_per_step": r.get("runs_per_step", 1),
            "cell": r["cell"],
            "T": r["seq_len"],
            "ms_per_step": None if not r.get("seconds_per_step") else 1e3 * r["seconds_per_step"],
            "first_step_ms": None if not r.get("first_step_seconds") else 1e3 * r["first_step_seconds"],
            "status": r["status"],
        }
        for r in records
        if r["seed"] == 0
    ]
    print(render(rows, list(rows[0])))
    for anchor in dict.fromkeys(r.get("anchor") for r in records):
        cheapest = capacity.fastest(records, env["cpu"], anchor)
        by_length = ", ".join(f"{c} T={t} {n}" for (c, t), n in sorted(cheapest.items()))
        print(f"\ncheapest per cell and length at {anchor or 'the search'}'s settings: {by_length}")
    print(f"wrote {path}")
    return 0 if all(r["status"] == "ok" for r in records) else 1


def _line(r: dict) -> str:
    what = f"{r['task']} {capacity.where(r)} {r['cell']} {r.get('init', 'default')}"
    what += f" T={r['seq_len']} seed {r['seed']}"
    if not spec.finished(r):
        return f"{what}: {r['status'].upper()} {r.get('error', '')}"
    if r.get("solved_step"):
        return f"{what}: solved at step {r['solved_step']} ({r.get('wall_seconds', 0):.0f} s)"
    acc = r.get("accuracy")
    acc = "-" if acc is None else f"{acc:.3f}"
    return f"{what}: {r['status']}, not solved, accuracy {acc} ({r.get('wall_seconds', 0):.0f} s)"


def _rows(reach: list[dict]) -> list[dict]:
    return [
        {
            "task": row.get("task"),
            "cell": row.get("cell"),
            "init": row.get("init"),
            "implementation": row.get("implementation"),
            "seeds": row.get("seeds"),
            "longest_T_half": row.get("longest_half"),
            "longest_T_any": row.get("longest_any"),
            "solved_by_T": " ".join(
                f"{t}:{s['solved']}/{s['seeds']}" for t, s in (row.get("by_length") or {}).items()
            ),
        }
        for row in reach
    ]


# The framework-comparison points, trained again on the GPU: does cuDNN's or XLA's float32 on the GPU change
# the outcomes?
GPU_POINTS = ["--tasks", "temporal2", "--cells", "rnn,lstm", "--init", "default", "--at", "40"]


def gpu_steps(names: list[str], out: str, timeout: float) -> dict[str, list[str]]:
    """Training at the framework-comparison points, on the GPU (the implementations with both cells)."""
    names = [n for n in names if {"rnn", "lstm"} <= set(impls.get(n).cells)]
    if not names:
        return {}
    argv = ["run", "capacity", *on_gpu(names), *GPU_POINTS, "--seeds", "5", "--jobs", "8", "--together", "5"]
    return {"capacity": [*argv, "--json", f"{out}/capacity-gpu.json"]}
