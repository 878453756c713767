"""``python -m suite``: the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import impls
from suite import check
from suite.environment import environment
from suite.results import write_records
from suite.table import render


class UsageError(Exception):
    """Bad command-line input: reported on stderr with exit code 2."""


def parse_list(value: str | None, choices: Sequence[str], kind: str) -> list[str]:
    """A comma-separated list of names, each one of ``choices``."""
    if value is None:
        return list(choices)
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise UsageError(f"no {kind} given")
    for name in names:
        if name not in choices:
            raise UsageError(f"unknown {kind} {name!r}; choose from {', '.join(choices)}")
    return names


def frameworks_arg(value: str | None) -> list[str]:
    """Frameworks named on the command line (default: every installed one); each must be installed."""
    if value is None:
        return list(impls.available())
    names = parse_list(value, impls.FRAMEWORKS, "framework")
    for name in names:
        if name not in impls.available():
            raise UsageError(f"{name} is not installed here; install it with: pip install -e '.[{name}]'")
    return names


def cmd_check(args: argparse.Namespace) -> int:
    frameworks = frameworks_arg(args.frameworks)
    cells = parse_list(args.cells, impls.CELLS, "cell")
    dtypes = parse_list(args.dtype, impls.DTYPES, "dtype")
    rows = []
    for framework in frameworks:
        for cell in cells:
            for dtype in dtypes:
                if framework == "numpy" and dtype == "float64":
                    continue  # the reference itself: checked against finite differences below
                base = {"framework": framework, "cell": cell, "dtype": dtype, "device": args.device}
                try:
                    row = check.check_one(framework, cell, dtype, args.device)
                except impls.DeviceUnavailableError as e:
                    row = {**base, "status": "skip", "message": str(e)}
                except Exception as e:  # one broken implementation must not hide the others
                    row = {**base, "status": "error", "message": f"{type(e).__name__}: {e}"}
                rows.append(row)
                print(_progress(row), file=sys.stderr, flush=True)
    fd_rows = []
    if "float64" in dtypes:
        for cell in cells:
            err = check.finite_difference_check(cell)
            fd_rows.append(
                {
                    "framework": "numpy",
                    "cell": cell,
                    "dtype": "float64",
                    "device": "cpu",
                    "path": "finite differences",
                    "max_error": err,
                    "tolerance": 1e-6,
                    "status": "pass" if err <= 1e-6 else "fail",
                }
            )
    table_rows = [{**r, **check.summarise(r["errors"])} if "errors" in r else r for r in rows]
    columns = [
        "framework",
        "cell",
        "dtype",
        "path",
        "y",
        "h_n",
        "c_n",
        *(f"d_{c}" for c in check.GRAD_COLUMNS),
        "status",
    ]
    print(
        "Max relative error against the NumPy float64 reference (max|a-b| / max|ref|), "
        f"tolerance float64 {check.TOLERANCE['float64']:.0e}, float32 {check.TOLERANCE['float32']:.0e}"
    )
    print(render(table_rows, columns))
    for r in rows:
        if r["status"] in ("error", "skip"):
            print(f"{r['status']}: {r['framework']} {r['cell']} {r['dtype']}: {r['message']}")
    if fd_rows:
        print("\nNumPy reference backward (float64) against central finite differences")
        print(render(fd_rows, ["cell", "max_error", "tolerance", "status"]))
    if args.json:
        env = environment()
        write_records(args.json, [{"kind": "check", "environment": env, **r} for r in rows + fd_rows])
        print(f"\nwrote {args.json}")
    counts = {s: sum(r["status"] == s for r in rows + fd_rows) for s in ("pass", "fail", "error", "skip")}
    print(f"\n{counts['pass']} passed, {counts['fail'] + counts['error']} failed, {counts['skip']} skipped")
    if counts["pass"] + counts["fail"] + counts["error"] == 0:
        print("nothing was checked", file=sys.stderr)
        return 2
    failed = counts["fail"] + counts["error"]
    return 1 if failed else 0


def _progress(row: dict) -> str:
    return f"  {row['framework']:<10} {row['cell']:<4} {row['dtype']:<7} {row['status']}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m suite", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="equivalence of every framework x cell against NumPy")
    p.add_argument(
        "--frameworks",
        help=f"comma-separated, from {','.join(impls.FRAMEWORKS)} (default: every installed one)",
    )
    p.add_argument("--cells", help=f"comma-separated, from {','.join(impls.CELLS)} (default: all)")
    p.add_argument("--dtype", help="float32, float64 or both comma-separated (default: both)")
    p.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    p.add_argument("--json", metavar="PATH", help="also write the rows to this results file")
    p.set_defaults(func=cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as e:
        parser.error(str(e))  # exits with code 2
    return 2
