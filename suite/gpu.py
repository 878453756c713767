"""``gpu``: everything that needs a GPU, in one command: each study's GPU steps (the equivalence check, speed
and memory at the fastrnns and small points, training at the capacity search's framework-comparison points,
the gradient diagnostic), for every installed implementation with a GPU path (or those named). Results go
under results/ (check-gpu.json, speed-gpu-quick.json, memory-gpu-quick.json, capacity-gpu.json,
gradients-gpu.json)."""

from __future__ import annotations

import argparse
import sys

import impls
from suite.environment import gpu_names
from suite.options import UsageError, parse_list
from suite.studies import STUDIES


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gpu", help="every GPU check and benchmark in one go (results under results/)")
    p.add_argument("--out", default="results", help="folder for the results files (default: results)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per benchmark job (default 120)")
    p.add_argument(
        "--impls", help="comma-separated implementations (default: every installed one with a GPU path)"
    )
    p.add_argument("--only", help=f"comma-separated steps, from {','.join(STEPS)} (default: all)")
    p.set_defaults(func=main)


def steps(names: list[str], out: str, timeout: float, only: tuple[str, ...] | None = None) -> list[list[str]]:
    """The subcommands the GPU run is made of, study by study (those in ``only``), as argument lists."""
    every = {}
    for study in STUDIES:
        if study.gpu_steps is not None:
            every.update(study.gpu_steps(names, out, timeout))
    return [argv for name, argv in every.items() if only is None or name in only]


STEPS: tuple[str, ...] = tuple(
    name for study in STUDIES if study.gpu_steps for name in study.gpu_steps(["IMPL"], "OUT", 1.0)
)


def main(args: argparse.Namespace) -> int:
    from suite import cli  # the command line that holds this module: imported once it is complete

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
            codes.append(cli.main(argv))
        except SystemExit as e:  # a usage error in one step: record it, run the rest
            codes.append(int(e.code or 0))
    return max(codes)
