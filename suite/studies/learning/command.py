"""``run accuracy``: train every implementation x cell on a task, against sequence length."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import impls
import tasks
from suite import harness
from suite.environment import environment
from suite.options import (
    UsageError,
    add_budget,
    add_json,
    add_selection,
    implementations_arg,
    one_dtype,
    parse_ints,
    parse_list,
    steps_from,
)
from suite.studies.learning import presets
from suite.studies.learning import sweep as accuracy
from suite.table import render
from suite.training import scheduler, spec


def add_parser(kinds: argparse._SubParsersAction) -> None:
    p = kinds.add_parser(
        "accuracy", help="train every implementation x cell on a task, against sequence length"
    )
    p.add_argument("--task", required=True, help=", ".join(tasks.TASKS))
    p.add_argument("--profile", choices=list(presets.PROFILES), default="quick")
    p.add_argument("--lengths", help="comma-separated sequence lengths (default: the profile's)")
    add_selection(p)
    for name in ("steps", "seeds", "batch-size", "hidden-size"):
        p.add_argument(f"--{name}", type=int, help="default: the profile's")
    add_budget(p)
    p.add_argument("--optimizer", choices=list(presets.OPTIMIZERS), help="default: the profile's")
    p.add_argument("--lr", type=float, help="default: the profile's")
    p.add_argument("--clip", type=float, help="global-norm clip, 0: off (default: the profile's)")
    p.add_argument("--dtype", help="default: the profile's")
    p.add_argument("--init", help=f"one of {', '.join(impls.INITS)} (default: default)")
    p.add_argument("--t-max", type=int, help="chrono's longest dependency (default: 3T/2 of each length)")
    p.add_argument("--executor", choices=list(scheduler.EXECUTORS), default="local")
    p.add_argument(
        "--scheduler", help="dask: address of a running scheduler (default: start a local cluster)"
    )
    p.add_argument("--jobs", type=int, default=1, help="jobs at a time (default 1)")
    p.add_argument(
        "--timeout", type=float, default=scheduler.JOB_TIMEOUT_S, help="seconds per job before it is killed"
    )
    p.add_argument("--cache", help="cache folder (default: results/cache/accuracy)")
    add_json(p, default="results/accuracy-TASK-PROFILE.json")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=main)


def _lengths(value: str | None) -> list[int] | None:
    return None if value is None else parse_ints(value, "--lengths")


def main(args: argparse.Namespace) -> int:
    try:
        task = tasks.get(args.task)
    except ValueError as e:
        raise UsageError(str(e)) from None
    implementations = implementations_arg(args, gradients=True)
    without = [n for n in implementations if task.variable_length and not impls.get(n).takes_lengths]
    if without and args.impls is not None:
        raise UsageError(
            f"{task.name} trains on sequences of different lengths: {', '.join(without)} does not take "
            "lengths (choose others with --impls)"
        )
    if without:
        print(f"left out, they take no sequence lengths: {', '.join(without)}", file=sys.stderr)
        implementations = [n for n in implementations if n not in without]
    cells = parse_list(args.cells, impls.CELLS, "cell")
    if args.init not in (None, "default"):  # it sets a gate's bias: the tanh RNN has none
        if args.cells is not None and "rnn" in cells:
            raise UsageError(f"--init {args.init} sets a gate's bias: give gated cells (--cells lstm,gru)")
        cells = [c for c in cells if c != "rnn"]
    for name in ("jobs", "timeout"):
        if not getattr(args, name) > 0:
            raise UsageError(f"--{name} must be > 0, got {getattr(args, name)}")
    try:
        batch = args.batch_size or presets.training(args.profile, args.task)["batch_size"]
        run = presets.resolve_training(
            args.profile,
            args.task,
            lengths=_lengths(args.lengths),
            seeds=args.seeds,
            steps=steps_from(args, batch),
            batch_size=args.batch_size,
            hidden_size=args.hidden_size,
            optimizer=args.optimizer,
            lr=args.lr,
            clip=args.clip,
            dtype=None if args.dtype is None else one_dtype(args.dtype),
            init=args.init,
            t_max=args.t_max,
        )
        for t in run["lengths"]:
            task.check_length(t)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if args.executor == "dask" and importlib.util.find_spec("distributed") is None:
        raise UsageError("the dask executor needs dask distributed: pip install -e '.[cluster]'")
    threads = max(1, harness.cores() // args.jobs)
    settings = {k: run[k] for k in presets.TRAINING_SETTINGS} | {"threads": threads}
    specs = accuracy.job_specs(args.task, run["lengths"], implementations, cells, run["seeds"], settings)
    path = Path(args.json or f"results/accuracy-{args.task}-{args.profile}.json")
    cache = Path(args.cache or "results/cache/accuracy")
    try:
        records = accuracy.sweep(
            specs,
            path,
            cache,
            args.executor,
            args.jobs,
            args.timeout,
            args.scheduler,
            progress=not args.no_progress,
            environment=environment(threads),
        )
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: finished jobs are kept in {path} and {cache}; run the same command to resume",
            file=sys.stderr,
        )
        return 130
    print(render(accuracy.table_rows(records), ["task", *accuracy.TABLE_COLUMNS]))
    print(f"\nwrote {path}")
    return 0 if all(spec.finished(r) for r in records) else 1
