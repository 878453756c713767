"""``track``: compare a run with this machine's baseline and append it to the history."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from suite.options import add_fail_on, fail_on_exit_code
from suite.studies.regression import compare, tracking
from suite.studies.regression.compare_command import print_comparison


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "track", help="compare a run with this machine's baseline and append it to the history"
    )
    p.add_argument("current")
    p.add_argument("--name", default="ci", help="which tracked set (default: ci)")
    p.add_argument("--update-baseline", action="store_true", help="make CURRENT the new baseline")
    add_fail_on(p, compare.REGRESSIONS)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    try:
        entries = compare.load(args.current)
    except compare.CompareError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    base = tracking.baseline_path(args.name)
    if args.update_baseline or not base.exists():
        tracking.save_baseline(Path(args.current), base)
        print(f"baseline {'updated' if args.update_baseline else 'recorded'}: {base}")
        rows: list[dict] = []
    else:
        threshold = compare.default_threshold()
        rows = compare.compare(compare.load(base), entries, threshold)
        print(f"baseline: {base}")
        print_comparison(rows, threshold)
    history = tracking.history_path()
    tracking.append_history(history, args.name, entries, rows)
    print(f"history: {history}")
    return fail_on_exit_code(rows, args.fail_on, compare.REGRESSIONS)
