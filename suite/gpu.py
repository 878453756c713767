"""``gpu``: everything that needs a GPU, in one command, planned and kept to a budget: each study's GPU steps
(the equivalence check, speed and memory at the fastrnns and small points, the gradient diagnostic, training
at the capacity search's framework-comparison points) for every implementation with a GPU path, one unit
(step x implementation) at a time in order of value (``suite.gpu_plan``). Results go under results/
(check-gpu.json, speed-gpu-quick.json, memory-gpu-quick.json, gradients-gpu.json, capacity-gpu.json), and
what each unit took into results/gpu-run.json, which the next plan estimates from."""

from __future__ import annotations

import argparse
import sys

import impls
from suite import gpu_plan
from suite.environment import git_commit, gpu_names
from suite.options import UsageError, parse_list
from suite.records import ResultsError
from suite.studies import STUDIES
from suite.table import render


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "gpu", help="every GPU check and benchmark, planned to fit a budget (results under results/)"
    )
    p.add_argument("--out", default="results", help="folder for the results files (default: results)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per benchmark job (default 120)")
    p.add_argument(
        "--impls", help="comma-separated implementations (default: every installed one with a GPU path)"
    )
    p.add_argument("--only", help=f"comma-separated steps, from {','.join(STEPS)} (default: all)")
    p.add_argument(
        "--budget",
        type=float,
        help="seconds of device time: units start only while their estimate fits, the one running at the "
        "end is interrupted (its finished jobs kept); a rerun continues where this one stopped",
    )
    p.add_argument(
        "--plan", action="store_true", help="print the plan and its estimates; run nothing (no GPU needed)"
    )
    p.add_argument("--fresh", action="store_true", help="start over instead of continuing a stopped run")
    p.set_defaults(func=main)


GPU_STEPS = [study.gpu_steps for study in STUDIES if study.gpu_steps is not None]
# every step, as torch (every cell and dtype on the GPU) has them
STEPS: tuple[str, ...] = tuple(u.step for u in gpu_plan.units(GPU_STEPS, ["torch"], "OUT", 1.0))


def gpu_implementations() -> list[str]:
    """Every registered implementation with a GPU path, installed here or not."""
    return [n for n in impls.names() if "gpu" in impls.get(n).devices]


def planned(args: argparse.Namespace) -> list[gpu_plan.Unit]:
    """The units this command would run, estimated; those of implementations not installed here are kept
    (the plan lists them as not measured)."""
    only = parse_list(args.only, STEPS, "step")
    names = gpu_implementations()
    if args.impls is not None:
        asked = parse_list(args.impls, names, "implementation with a GPU path")
        names = [n for n in names if n in asked]
    installed = [n for n in names if n in impls.available()]
    if not installed and not args.plan:
        raise UsageError("no implementation with a GPU path is installed here")
    ledger = gpu_plan.read_ledger(args.out)
    units = gpu_plan.units(GPU_STEPS, names, args.out, args.timeout, only, installed)
    return [gpu_plan.estimate(u, ledger) for u in units]


def print_plan(units: list[gpu_plan.Unit], args: argparse.Namespace) -> None:
    ledger = gpu_plan.read_ledger(args.out)
    done = set() if args.fresh else gpu_plan.done_in(ledger, gpu_plan.open_run(ledger))
    rows = gpu_plan.plan_rows(units, args.budget, done)
    print(render(rows, ["step", "implementation", "estimate_s", "by_s", "runs", "estimate_from"]))
    missing = sorted({u.implementation for u in units if not u.installed})
    if missing:
        print(
            f"\nnot installed here, so not measured: {', '.join(missing)}; on a machine with them: "
            f"rnnbench gpu --impls {','.join(missing)}"
        )
    fits = sum(r["estimate_s"] for r in rows if r["runs"] == "yes")
    if args.budget is None:
        print(f"\nplanned: {fits} s (no budget: every unit)")
    else:
        print(
            f"\nplanned: {fits} s of the {args.budget:.0f} s budget ({gpu_plan.GRACE_S:.0f} s kept to stop)"
        )


def main(args: argparse.Namespace) -> int:
    if args.budget is not None and args.budget <= gpu_plan.GRACE_S:
        raise UsageError(f"--budget must be more than {gpu_plan.GRACE_S:.0f} s")
    if args.timeout <= 0:
        raise UsageError("--timeout must be > 0")
    try:
        units = planned(args)
    except ResultsError as e:  # a broken results file or ledger: said, not overwritten
        raise UsageError(str(e)) from None
    if args.plan:
        print_plan(units, args)
        return 0
    gpus = gpu_names()
    if not gpus:
        print("no GPU here (nvidia-smi lists none): nothing to run (--plan prints the plan)", file=sys.stderr)
        return 2
    print_plan(units, args)
    entries = gpu_plan.run(units, args.out, args.budget, gpus[0], git_commit(), fresh=args.fresh)
    if gpu_plan.open_run(gpu_plan.read_ledger(args.out)):
        print("\nunits left or stopped: run the same command to continue", file=sys.stderr)
        return 1
    return 1 if any(e["status"] != "done" for e in entries) else 0
