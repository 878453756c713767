"""``compare``: two runs, benchmark by benchmark."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from suite.options import UsageError, add_fail_on, fail_on_exit_code
from suite.studies.regression import compare
from suite.table import render


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare two runs (pytest-benchmark JSON or rnnbench results)")
    p.add_argument("baseline")
    p.add_argument("current")
    p.add_argument(
        "--threshold", type=float, help="relative change to flag (default: from the A/A calibration)"
    )
    p.add_argument("--normalize", action="store_true", help="compare times relative to each run's GEMM peak")
    p.add_argument("--json", metavar="PATH", help="also write the rows here")
    add_fail_on(p, compare.REGRESSIONS)
    p.set_defaults(func=main)


def print_comparison(rows: list[dict], threshold: float) -> None:
    """The decision table and a one-line verdict."""
    table = [
        {
            **r,
            "change": f"{r['ratio']:.3f}x" if r.get("ratio") is not None else "-",
            "99% interval": f"{r['ci_low']:.3f}-{r['ci_high']:.3f}" if "ci_low" in r else "-",
        }
        for r in rows
    ]
    print(f"threshold {threshold:.0%} and a 99% bootstrap interval of the median ratio that excludes 1")
    print(render(table, ["benchmark", "change", "99% interval", "decision"]))
    regressed = [r["benchmark"] for r in rows if r["regressed"]]
    print(
        f"\n{len(rows)} compared, {len(regressed)} regressed"
        + (": " + ", ".join(regressed) if regressed else "")
    )


def main(args: argparse.Namespace) -> int:
    threshold = args.threshold if args.threshold is not None else compare.default_threshold()
    if threshold <= 0:
        raise UsageError("--threshold must be > 0")
    try:
        rows = compare.compare(
            compare.load(args.baseline), compare.load(args.current), threshold, args.normalize
        )
    except compare.CompareError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print_comparison(rows, threshold)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    return fail_on_exit_code(rows, args.fail_on, compare.REGRESSIONS)
