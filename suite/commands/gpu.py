"""``gpu``: everything that needs a GPU, in one command: the equivalence check, then speed at the
fastrnns and small points and memory at the fastrnns point (quick profile), for every installed
implementation with a GPU path. Results go under results/ (check-gpu.json, speed-gpu-quick.json,
memory-gpu-quick.json)."""

from __future__ import annotations

import argparse
import sys

import impls
from suite.environment import gpu_names


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gpu", help="every GPU check and benchmark in one go (results under results/)")
    p.add_argument("--out", default="results", help="folder for the results files (default: results)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per benchmark job (default 120)")
    p.set_defaults(func=main)


def steps(names: list[str], out: str, timeout: float) -> list[list[str]]:
    """The subcommands the GPU run is made of, as argument lists."""
    chosen = ["--impls", ",".join(names), "--device", "gpu"]
    return [
        ["check", *chosen, "--json", f"{out}/check-gpu.json"],
        ["run", "speed", *chosen, "--profile", "quick", "--groups", "fastrnns,small"]
        + ["--timeout", str(timeout), "--json", f"{out}/speed-gpu-quick.json"],
        ["run", "memory", *chosen, "--profile", "quick", "--groups", "fastrnns"]
        + ["--timeout", str(timeout), "--json", f"{out}/memory-gpu-quick.json"],
    ]


def main(args: argparse.Namespace) -> int:
    from suite import commands

    if not gpu_names():
        print("no GPU here (nvidia-smi lists none): nothing to run", file=sys.stderr)
        return 2
    names = [n for n in impls.available() if "gpu" in impls.get(n).devices]
    print(f"implementations with a GPU path installed here: {', '.join(names)}", flush=True)
    codes = []
    for argv in steps(names, args.out, args.timeout):
        print(f"\n== rnnbench {' '.join(argv)}", flush=True)
        try:
            codes.append(commands.main(argv))
        except SystemExit as e:  # a usage error in one step: record it, run the rest
            codes.append(int(e.code or 0))
    return max(codes)
