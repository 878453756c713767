"""``rnnbench`` / ``python -m suite``: the command line. Each study adds its subcommands (``suite.studies``);
``report`` and ``gpu`` run across them. Subcommands only parse and print; the rules live in the studies."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from suite import gpu
from suite.options import UsageError
from suite.report import command as report_command
from suite.studies import STUDIES

DESCRIPTION = (
    "Do NumPy, PyTorch, TensorFlow and JAX compute the same RNN / LSTM / GRU, how fast, with how much "
    "memory, and how well does each cell learn long dependencies? "
    "Each subcommand measures or compares one of these."
)


def build_parser(prog: str = "rnnbench") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="run a benchmark: speed, memory, accuracy, gradients or capacity")
    places = {"top": sub, "run": run_parser.add_subparsers(dest="kind", required=True)}
    for study in STUDIES:
        for place, add_parser in study.commands:
            add_parser(places[place])
    report_command.add_parser(sub)
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
