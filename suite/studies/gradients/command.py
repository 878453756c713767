"""``run gradients``: the gradient's norm against lag for each implementation, cell, init and seed, each
implementation in a fresh process."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import impls
from suite import harness
from suite.environment import environment
from suite.options import (
    UsageError,
    add_device,
    add_json,
    add_selection,
    implementations_arg,
    on_device,
    on_gpu,
    one_dtype,
    parse_ints,
    parse_list,
)
from suite.records import make_record, write_records
from suite.studies.gradients import diagnostic as gradients
from suite.table import render

DEFAULT_JSON = "results/gradients.json"


def add_parser(kinds: argparse._SubParsersAction) -> None:
    p = kinds.add_parser(
        "gradients",
        help="the vanishing gradient: |d loss_T / d h_(T-k)| against k per implementation, cell and init",
    )
    add_selection(p)
    p.add_argument("--init", default="default", help=f"comma-separated, from {','.join(impls.INITS)}")
    p.add_argument("--t-max", type=int, default=300, help="chrono's longest dependency (default 300)")
    p.add_argument("--hidden-size", type=int, default=128)
    p.add_argument("--seeds", type=int, default=3, help="seeds per implementation, cell and init (default 3)")
    p.add_argument("--lags", help=f"comma-separated lags (default: {','.join(map(str, gradients.LAGS))})")
    p.add_argument(
        "--train-steps",
        help="comma-separated training steps to measure at as well (e.g. 500,2000): each cell x init x seed "
        "is trained on the adding problem, saving its weights at those steps",
    )
    p.add_argument("--train-impl", help="the implementation that trains (default: torch, else numpy)")
    p.add_argument(
        "--train-seq-len", type=int, default=50, help="the training sequences' length (default 50)"
    )
    p.add_argument("--dtype", default="float64")
    add_device(p, "the measurements run (training stays on the CPU)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per job before it is killed")
    add_json(p, default=DEFAULT_JSON)
    p.set_defaults(func=main)


def _positive(name: str, value: int) -> int:
    if value < 1:
        raise UsageError(f"{name} must be >= 1, got {value}")
    return value


def _lags(value: str | None) -> tuple[int, ...]:
    if value is None:
        return gradients.LAGS
    lags = tuple(parse_ints(value, "--lags"))
    if not lags or min(lags) < 1:
        raise UsageError(f"--lags must be integers >= 1, got {value!r}")
    return tuple(sorted(set(lags)))


def _train_steps(args: argparse.Namespace) -> list[int]:
    if args.train_steps is None:
        return []
    steps = sorted(set(parse_ints(args.train_steps, "--train-steps")))
    if not steps or min(steps) < 0:
        raise UsageError(f"--train-steps must be integers >= 0, got {args.train_steps!r}")
    if args.train_seq_len < 2:
        raise UsageError(f"--train-seq-len must be >= 2, got {args.train_seq_len}")
    return steps


def _train(
    args: argparse.Namespace, cells: list[str], inits: list[str], steps: list[int], folder: Path
) -> list[dict]:
    """Train every cell x init x seed, saving weights at ``steps``; the specs of the jobs that finished."""
    installed = impls.available()
    name = args.train_impl or ("torch" if "torch" in installed else "numpy")
    if name not in impls.registry.names():
        raise UsageError(f"unknown implementation {name!r}; choose from {', '.join(impls.registry.names())}")
    if name not in installed:
        raise UsageError(f"{name} is not installed here; install it with: {impls.get(name).install_hint()}")
    specs = gradients.training_specs(
        name, cells, inits, args.seeds, args.hidden_size, steps, args.train_seq_len, str(folder)
    )
    done = 0

    def on_record(record: dict) -> None:
        nonlocal done
        done += 1
        what = f"[train {done}/{len(specs)}] {name} {record['cell']} {record['init']} seed {record['seed']}"
        print(f"{what}: {record['status']}, test loss {record.get('test_loss')}", file=sys.stderr, flush=True)

    return gradients.train(specs, folder, harness.cores(), args.timeout * 10, on_record)


def main(args: argparse.Namespace) -> int:
    implementations = on_device(implementations_arg(args, gradients=True), args.device)
    cells = parse_list(args.cells, impls.CELLS, "cell")
    inits = parse_list(args.init, impls.INITS, "init")
    dtype = one_dtype(args.dtype)
    if args.timeout <= 0:
        raise UsageError("--timeout must be > 0")
    t_max = args.t_max
    if "chrono" in inits and t_max < 3:
        raise UsageError(f"--t-max must be >= 3, got {t_max}")
    jobs = gradients.job_specs(
        implementations,
        cells,
        inits,
        _positive("--seeds", args.seeds),
        _positive("--hidden-size", args.hidden_size),
        t_max,
        lags=_lags(args.lags),
        dtype=dtype,
        device=args.device,
    )
    if not jobs:
        raise UsageError("no job: forget1 and chrono apply to lstm and gru only")
    steps = _train_steps(args)
    path = Path(args.json or DEFAULT_JSON)
    env = environment(1)
    records: list[dict] = []
    if steps:
        # the training runs' weights sit beside the results file, in its (uncommitted) cache
        trained = _train(args, cells, inits, steps, (path.parent / "cache" / "checkpoints").resolve())
        jobs += gradients.at_checkpoints(jobs, trained, [s for s in steps if s > 0])

    def on_result(result: dict) -> None:
        records.append(make_record("gradients", result, env))
        write_records(path, records)  # after every job: an interrupted run keeps what finished
        r = records[-1]
        what = f"[{len(records)}/{len(jobs)}] {r['implementation']:<14} {r['device']}"
        what += f" {r['cell']:<4} {r['init']:<8}"
        what += f" seed {r['seed']} step {r.get('step', 0)}"
        if r["status"] == "ok":
            decay = r.get("c_decay_per_step") or r.get("decay_per_step")
            print(f"{what}  decay per step {decay:.3f}" if decay else what, file=sys.stderr, flush=True)
        else:
            print(f"{what}  {r['status'].upper()}: {r.get('error', '')}", file=sys.stderr, flush=True)

    try:
        harness.run_jobs(jobs, gradients.PLAN, 1, {}, args.timeout, on_result)
    except KeyboardInterrupt:
        print(f"\ninterrupted: {len(records)} finished jobs kept in {path}", file=sys.stderr)
        return 130
    rows = gradients.summary(records)
    print(
        render(
            rows,
            ["implementation", "device", "cell", "init", "step", "seeds"]
            + ["h_decay", "h_spread", "c_decay", "c_spread"],
        )
    )
    print(f"\nwrote {path}")
    return 0 if all(r["status"] == "ok" for r in records) else 1


def gpu_steps(names: list[str], out: str, timeout: float) -> dict[str, list[str]]:
    """The diagnostic at initialisation, every init, on the GPU (float64: the implementations with it)."""
    names = [n for n in names if "float64" in impls.get(n).dtypes]
    if not names:
        return {}
    argv = ["run", "gradients", *on_gpu(names), "--init", "default,forget1,chrono"]
    return {"gradients": [*argv, "--json", f"{out}/gradients-gpu.json"]}
