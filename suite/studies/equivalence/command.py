"""``check``: equivalence of every implementation x cell against the NumPy reference."""

from __future__ import annotations

import argparse
import sys

import impls
from suite.environment import environment
from suite.options import (
    UsageError,
    add_json,
    add_selection,
    implementations_arg,
    on_gpu,
    one_dtype,
    parse_ints,
    parse_list,
)
from suite.records import make_record, write_records
from suite.studies.equivalence import check
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
    "repeatable",
)
ROUND_TRIP_COLUMNS = ("implementation", "cell", "dtype", "worst", "max_error", "status")
TEST_NAMES = {
    "function": "function",
    "round_trip": "round trip",
    "lengths": "lengths",
    "bidirectional": "bidirectional",
    "bidirectional_lengths": "bidirectional lengths",
    "tf32": "tf32",
    "growth": "growth",
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="equivalence of every implementation x cell against NumPy")
    add_selection(p)
    p.add_argument(
        "--dtype",
        help=f"comma-separated, from {','.join(impls.DTYPES)} (default: all; each implementation is "
        "checked in the dtypes it declares)",
    )
    p.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    p.add_argument(
        "--tf32",
        action="store_true",
        help="the float32 rows with TF32 on (NVIDIA GPUs; every adapter keeps it off otherwise): its error",
    )
    p.add_argument(
        "--lengths",
        help="comma-separated sequence lengths: the function rows at each, to see how the error grows with T "
        f"(e.g. {','.join(map(str, check.GROWTH_LENGTHS))})",
    )
    add_json(p)
    p.set_defaults(func=main)


def _progress(row: dict) -> None:
    print(
        f"  {row['implementation']:<16} {row['cell']:<4} {row['dtype']:<7} "
        f"{TEST_NAMES[row['test']]:<21} {row['status']}",
        file=sys.stderr,
        flush=True,
    )


def _verdict(row: dict) -> str | None:
    """One line on a row that did not pass, naming it and its test."""
    what = f"{row['status']}: {row['implementation']} {row['cell']} {row['dtype']}"
    if row["status"] == "skip":  # the same for both tests
        return f"{what}: {row['message']}"
    what += f" {TEST_NAMES[row['test']]}"
    if row["status"] == "error":
        return f"{what}: {row['message']}"
    if row["status"] != "fail":
        return None
    if row["test"] != "round_trip":
        return f"{what}: {row['worst']} differs by {row['max_error']:.1e} (tolerance {row['tolerance']:.0e})"
    differs = f"{row['worst']} differs by {row['max_error']:.1e} (relative)" if row.get("worst") else ""
    return f"{what}: get_params is not what was set: " + "; ".join(
        filter(None, [differs, row.get("message")])
    )


def _measurements(args: argparse.Namespace, implementations: list[str], cells: list[str]) -> int:
    """``--tf32`` or ``--lengths``: rows that report an error rather than prove agreement."""
    if args.tf32 and args.lengths:
        raise UsageError("give --tf32 or --lengths, not both")
    if args.tf32:
        if args.dtype not in (None, "float32"):
            raise UsageError("--tf32 checks float32 only (TF32 does not touch float64)")
        rows = check.tf32_rows(implementations, cells, args.device, on_row=_progress)
        columns = ["implementation", "cell", "dtype", "path", "y", "h_n", "c_n", "d_weight_ih", "d_bias_ih"]
        print("float32 with TF32 on, against the NumPy float64 reference (max relative error)")
        table = [{**r, **check.summarise(r["errors"])} if "errors" in r else r for r in rows]
        print(render(table, [*columns, "tf32", "status"]))
    else:
        lengths = parse_ints(args.lengths, "--lengths")
        if not lengths or min(lengths) < 1:
            raise UsageError(f"--lengths must be lengths >= 1, got {args.lengths!r}")
        dtype = one_dtype(args.dtype or "float32")
        rows = check.growth_rows(implementations, cells, dtype, args.device, lengths, on_row=_progress)
        print(f"{dtype} error against the NumPy float64 reference, by sequence length")
        print(
            render(
                rows, ["implementation", "cell", "seq_len", "path", "max_error", "worst", "within_tolerance"]
            )
        )
    if args.json:
        write_records(args.json, [make_record("check", r, environment()) for r in rows])
        print(f"\nwrote {args.json}")
    n = check.counts(rows)
    if n["passed"] + n["failed"] == 0:
        print("nothing was checked", file=sys.stderr)
        return 2
    return 1 if n["failed"] else 0


def main(args: argparse.Namespace) -> int:
    implementations = implementations_arg(args)
    cells = parse_list(args.cells, impls.CELLS, "cell")
    if args.tf32 or args.lengths:
        return _measurements(args, implementations, cells)
    dtypes = parse_list(args.dtype, impls.DTYPES, "dtype")
    rows, fd_rows = check.run(implementations, cells, dtypes, args.device, on_row=_progress)
    function = [r for r in rows if r["test"] == "function"]
    round_trip = [r for r in rows if r["test"] == "round_trip"]
    print(
        "The function: max relative error against the NumPy float64 reference (max|a-b| / max|ref|), both "
        "computing from the weights the check drew and loaded with set_params; tolerance "
        + ", ".join(f"{d} {check.TOLERANCE[d]:.0e}" for d in dtypes)
    )
    table = [{**r, **check.summarise(r["errors"])} if "errors" in r else r for r in function]
    print(render(table, [*COLUMNS, "status"]))
    print("\nThe round trip: get_params against what set_params loaded (must be bitwise equal)")
    print(render(round_trip, ROUND_TRIP_COLUMNS))
    varied = [r for r in rows if r["test"] == "lengths" and r["status"] != "skip"]
    if varied:
        lengths = varied[0].get("lengths")
        print(f"\nSequences of lengths {lengths} in one batch (the implementations that take them)")
        print(render(varied, ["implementation", "cell", "dtype", "path", "max_error", "worst", "status"]))
    both = [r for r in rows if r["test"].startswith("bidirectional") and r["status"] != "skip"]
    if both:
        print("\nBidirectional stacks, without and with those lengths (the implementations that build them)")
        columns = ["implementation", "cell", "dtype", "test", "path", "max_error", "worst", "status"]
        print(render(both, columns))
    varied += both
    # a skip is the same for every test: said once
    checked = [r for r in round_trip + varied if r["status"] != "skip"]
    undeclared = [r for r in function if r["status"] == "skip" and "does not support dtype" in r["message"]]
    verdicts = [_verdict(r) for r in function + checked if r not in undeclared]
    for line in filter(None, verdicts):
        print(line)
    if undeclared:
        per_impl: dict[str, set[str]] = {}
        for r in undeclared:
            per_impl.setdefault(r["implementation"], set()).add(r["dtype"])
        listed = "; ".join(f"{n} ({', '.join(d for d in dtypes if d in ds)})" for n, ds in per_impl.items())
        print(f"skip: dtypes an implementation does not declare: {listed}")
    if fd_rows:
        print("\nNumPy reference backward (float64) against central finite differences")
        print(render(fd_rows, ["cell", "max_error", "tolerance", "status"]))
    if args.json:
        env = environment()
        write_records(args.json, [make_record("check", r, env) for r in rows + fd_rows])
        print(f"\nwrote {args.json}")
    n = check.counts(rows + fd_rows)
    print(f"\n{n['passed']} passed, {n['failed']} failed, {n['skipped']} skipped")
    if n["passed"] + n["failed"] == 0:
        print("nothing was checked", file=sys.stderr)
        return 2
    return 1 if n["failed"] else 0


def gpu_steps(names: list[str], out: str, timeout: float) -> dict[str, list[str]]:
    """The check on the GPU; then the float32 error with TF32 on, and against T (cuDNN's float32 rows)."""
    lengths = ",".join(map(str, check.GROWTH_LENGTHS))
    return {
        "check": ["check", *on_gpu(names), "--json", f"{out}/check-gpu.json"],
        "check-tf32": ["check", *on_gpu(names), "--tf32", "--json", f"{out}/check-gpu-tf32.json"],
        "check-growth": [
            "check",
            *on_gpu(names),
            "--lengths",
            lengths,
            "--json",
            f"{out}/check-gpu-growth.json",
        ],
    }
