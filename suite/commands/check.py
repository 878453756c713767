"""``check``: equivalence of every implementation x cell against the NumPy reference."""

from __future__ import annotations

import argparse
import sys

import impls
from suite import check
from suite.commands.common import add_json, add_selection, implementations_arg, parse_list
from suite.environment import environment
from suite.records import write_records
from suite.table import render

COLUMNS = (
    "implementation",
    "cell",
    "dtype",
    "path",
    "y",
    "h_n",
    "c_n",
    *(f"d_{c}" for c in check.GRAD_COLUMNS),
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="equivalence of every implementation x cell against NumPy")
    add_selection(p)
    p.add_argument("--dtype", help="float32, float64 or both comma-separated (default: both)")
    p.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    add_json(p)
    p.set_defaults(func=main)


def _progress(row: dict) -> None:
    print(
        f"  {row['implementation']:<16} {row['cell']:<4} {row['dtype']:<7} {row['status']}",
        file=sys.stderr,
        flush=True,
    )


def main(args: argparse.Namespace) -> int:
    implementations = implementations_arg(args)
    cells = parse_list(args.cells, impls.CELLS, "cell")
    dtypes = parse_list(args.dtype, impls.DTYPES, "dtype")
    rows, fd_rows = check.run(implementations, cells, dtypes, args.device, on_row=_progress)
    print(
        "Max relative error against the NumPy float64 reference (max|a-b| / max|ref|), "
        f"tolerance float64 {check.TOLERANCE['float64']:.0e}, float32 {check.TOLERANCE['float32']:.0e}"
    )
    table = [{**r, **check.summarise(r["errors"])} if "errors" in r else r for r in rows]
    print(render(table, [*COLUMNS, "status"]))
    for r in rows:
        what = f"{r['status']}: {r['implementation']} {r['cell']} {r['dtype']}"
        if r["status"] in ("error", "skip"):
            print(f"{what}: {r['message']}")
        elif r["status"] == "fail":
            print(f"{what}: {r['worst']} differs by {r['max_error']:.1e} (tolerance {r['tolerance']:.0e})")
    if fd_rows:
        print("\nNumPy reference backward (float64) against central finite differences")
        print(render(fd_rows, ["cell", "max_error", "tolerance", "status"]))
    if args.json:
        env = environment()
        write_records(args.json, [{"kind": "check", **r, "environment": env} for r in rows + fd_rows])
        print(f"\nwrote {args.json}")
    n = check.counts(rows + fd_rows)
    print(f"\n{n['passed']} passed, {n['failed']} failed, {n['skipped']} skipped")
    if n["passed"] + n["failed"] == 0:
        print("nothing was checked", file=sys.stderr)
        return 2
    return 1 if n["failed"] else 0
