"""``calibrate``: the time threshold from A/A runs."""

from __future__ import annotations

import argparse
import json
import sys

from suite.options import UsageError
from suite.records import write_atomic
from suite.studies.regression import compare


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate", help="derive the time threshold from A/A runs (the same code twice or more)"
    )
    p.add_argument("runs", nargs="+", help="results files (or pytest-benchmark JSON) of the same code")
    p.add_argument("--out", default=str(compare.CALIBRATION), help="where to write the calibration")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    if len(args.runs) < 2:
        raise UsageError("give at least two A/A runs")
    try:
        result = compare.calibrate(args.runs)
    except compare.CompareError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    write_atomic(args.out, json.dumps(result, indent=1) + "\n")
    for pair in result["pairs"]:
        print(
            f"{pair['baseline']} vs {pair['current']}: "
            f"largest median change {pair['max_change']:.1%} ({pair['worst']})"
        )
    print(f"threshold {result['threshold']:.0%} ({result['rule']}); wrote {args.out}")
    return 0
