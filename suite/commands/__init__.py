"""``rnnbench`` / ``python -m suite``: the command line. Each subcommand is a module here that only parses
and prints; the rules live in the modules it calls."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from suite.commands import ab, accuracy, calibrate, capacity, check, compare, gpu, gradients, run, track
from suite.commands.common import UsageError

DESCRIPTION = (
    "Do NumPy, PyTorch, TensorFlow and JAX compute the same RNN / LSTM / GRU, how fast, with how much "
    "memory, and how well does each cell learn long dependencies? "
    "Each subcommand measures or compares one of these."
)


def build_parser(prog: str = "rnnbench") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    check.add_parser(sub)
    run_parser = sub.add_parser("run", help="run a benchmark: speed, memory, accuracy, gradients or capacity")
    kinds = run_parser.add_subparsers(dest="kind", required=True)
    run.add_parsers(kinds)
    accuracy.add_parser(kinds)
    gradients.add_parser(kinds)
    capacity.add_parser(kinds)
    compare.add_parser(sub)
    ab.add_parser(sub)
    track.add_parser(sub)
    calibrate.add_parser(sub)
    gpu.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "rnnbench") -> int:
    """Parse ``argv`` and run the subcommand; bad input exits 2 with the reason on stderr."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as e:
        parser.error(str(e))  # exits with code 2
    return 2
