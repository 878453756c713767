"""``gpu``: everything that needs a GPU, in one command: the equivalence check, speed at the fastrnns and
small points and memory at the fastrnns point (quick profile), the gradient diagnostic, and training at the
capacity search's framework-comparison points, for every installed implementation with a GPU path (or
those named). Results go under results/ (check-gpu.json, speed-gpu-quick.json, memory-gpu-quick.json,
gradients-gpu.json, capacity-gpu.json)."""

from __future__ import annotations

import argparse
import sys

import impls
from suite.commands.common import UsageError, parse_list
from suite.environment import gpu_names


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gpu", help="every GPU check and benchmark in one go (results under results/)")
    p.add_argument("--out", default="results", help="folder for the results files (default: results)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per benchmark job (default 120)")
    p.add_argument(
        "--impls", help="comma-separated implementations (default: every installed one with a GPU path)"
    )
    p.add_argument("--only", help=f"comma-separated steps, from {','.join(STEPS)} (default: all)")
    p.set_defaults(func=main)


STEPS = ("check", "speed", "memory", "gradients", "capacity")
# The capacity search's framework-comparison points (README, "How far each cell reaches"), trained again
# on the GPU: does cuDNN's or XLA's float32 on the GPU change the outcomes?
CAPACITY_POINTS = ["--tasks", "temporal2", "--cells", "rnn,lstm", "--init", "default", "--at", "40"]


def steps(names: list[str], out: str, timeout: float, only: tuple[str, ...] = STEPS) -> list[list[str]]:
    """The subcommands the GPU run is made of (those in ``only``), as argument lists."""
    chosen = ["--impls", ",".join(names), "--device", "gpu"]
    every = {
        "check": ["check", *chosen, "--json", f"{out}/check-gpu.json"],
        "speed": ["run", "speed", *chosen, "--profile", "quick", "--groups", "fastrnns,small"]
        + ["--timeout", str(timeout), "--json", f"{out}/speed-gpu-quick.json"],
        "memory": ["run", "memory", *chosen, "--profile", "quick", "--groups", "fastrnns"]
        + ["--timeout", str(timeout), "--json", f"{out}/memory-gpu-quick.json"],
        "gradients": ["run", "gradients", *chosen, "--init", "default,forget1,chrono"]
        + ["--json", f"{out}/gradients-gpu.json"],
        "capacity": ["run", "capacity", *chosen, *CAPACITY_POINTS, "--seeds", "5", "--jobs", "8"]
        + ["--json", f"{out}/capacity-gpu.json"],
    }
    return [every[name] for name in STEPS if name in only]


def main(args: argparse.Namespace) -> int:
    from suite import commands  # the package that holds this module: imported once it is complete

    only = parse_list(args.only, STEPS, "step")
    if not gpu_names():
        print("no GPU here (nvidia-smi lists none): nothing to run", file=sys.stderr)
        return 2
    names = [n for n in impls.available() if "gpu" in impls.get(n).devices]
    if args.impls is not None:
        asked = parse_list(args.impls, names, "implementation with a GPU path installed here")
        names = [n for n in names if n in asked]
    if not names:
        raise UsageError("no implementation with a GPU path is installed here")
    print(f"implementations with a GPU path installed here: {', '.join(names)}", flush=True)
    codes = []
    for argv in steps(names, args.out, args.timeout, tuple(only)):
        print(f"\n== rnnbench {' '.join(argv)}", flush=True)
        try:
            codes.append(commands.main(argv))
        except SystemExit as e:  # a usage error in one step: record it, run the rest
            codes.append(int(e.code or 0))
    return max(codes)
