"""``ab``: is CANDIDATE slower than BASE? Both revisions' code timed in the same job, in alternating pairs of
fresh processes, with the installed packages (a worktree of each revision, no reinstall)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import impls
from suite.environment import REPO, environment, git_commit
from suite.measurement import grids as profiles
from suite.measurement.workloads import MODES
from suite.options import (
    UsageError,
    add_json,
    add_selection,
    implementations_arg,
    one_dtype,
    parse_list,
)
from suite.records import make_record, write_records
from suite.studies.regression import ab
from suite.table import render


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ab",
        help="is CANDIDATE (default: the working tree) slower than BASE? Same-job interleaved A/B",
        description=__doc__,
    )
    p.add_argument("base", help="a git revision: a commit, branch, tag, HEAD^ ...")
    p.add_argument(
        "candidate", nargs="?", help="a git revision (default: the working tree, uncommitted changes too)"
    )
    add_selection(p)
    p.add_argument("--groups", default="small", help="parts of the speed grid (default: small)")
    p.add_argument("--modes", help=f"comma-separated, from {','.join(MODES)} (default: both)")
    p.add_argument(
        "--profile", choices=list(profiles.PROFILES), default="quick", help="whose grid (default: quick)"
    )
    p.add_argument("--dtype", default="float32")
    p.add_argument(
        "--threads", type=int, default=1, help="threads per process (default 1; other counts are report-only)"
    )
    p.add_argument(
        "--threshold", type=float, default=ab.THRESHOLD, help="relative slowdown that fails (default 0.10)"
    )
    p.add_argument("--min-pairs", type=int, default=ab.MIN_PAIRS, help=f"default {ab.MIN_PAIRS}")
    p.add_argument("--max-pairs", type=int, default=ab.MAX_PAIRS, help=f"default {ab.MAX_PAIRS}")
    p.add_argument(
        "--budget", type=float, default=120.0, help="seconds per benchmark after which no pair starts"
    )
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per process before it is killed")
    add_json(p)
    p.set_defaults(func=main)


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_rows(rows: list[dict], settings: ab.Settings) -> None:
    """The decision table and a one-line verdict."""
    table = [
        {
            "benchmark": r["benchmark"],
            "pairs": r["n_pairs"],
            "base_ms": _fmt(r["base_median_s"] and r["base_median_s"] * 1e3, ".2f"),
            "candidate_ms": _fmt(r["candidate_median_s"] and r["candidate_median_s"] * 1e3, ".2f"),
            "ratio": _fmt(r["ratio"], ".3f"),
            f"{settings.confidence:.0%} interval": f"{_fmt(r['ci_low'], '.3f')}-{_fmt(r['ci_high'], '.3f')}",
            "decision": r["decision"],
            "seconds": f"{r['seconds']:.0f}",
        }
        for r in rows
    ]
    print(render(table, list(table[0]) if table else ["benchmark"]))
    for r in rows:
        if r.get("error"):
            print(f"{r['decision']}: {r['benchmark']}: {r['error']}")
    regressed = [r["benchmark"] for r in rows if r["regressed"]]
    total = sum(r["seconds"] for r in rows)
    gate = (
        f"gate: slower by more than {settings.threshold:.0%} with the whole interval above 1"
        if settings.gated
        else f"report only: {settings.threads} threads per process (the gate runs at 1)"
    )
    print(f"\n{gate}; {len(rows)} compared in {total:.0f} s, {len(regressed)} regressed", end="")
    print(": " + ", ".join(regressed) if regressed else "")


def main(args: argparse.Namespace) -> int:
    implementations = implementations_arg(args)
    cells = parse_list(args.cells, impls.CELLS, "cell")
    modes = parse_list(args.modes, MODES, "mode")
    groups = parse_list(args.groups, profiles.groups(args.profile, "speed"), "group")
    dtype = one_dtype(args.dtype)
    try:
        settings = ab.Settings(
            threshold=args.threshold,
            min_pairs=args.min_pairs,
            max_pairs=args.max_pairs,
            budget_s=args.budget,
            threads=args.threads,
            timeout_s=args.timeout,
        )
        workloads = [
            w
            for w in profiles.workloads(args.profile, "speed", implementations, cells, dtype, "cpu", groups)
            if w.mode in modes
        ]
    except ValueError as e:
        raise UsageError(str(e)) from None
    if not workloads:
        raise UsageError("the selection holds no benchmark")
    try:
        with contextlib.ExitStack() as stack:
            base_tree = stack.enter_context(ab.worktree(REPO, args.base))
            base = ab.Side(f"base {args.base} ({ab.resolve(REPO, args.base)[:12]})", base_tree)
            if args.candidate is None:
                candidate = ab.Side(f"candidate: working tree ({git_commit()})", REPO)
            else:
                tree = stack.enter_context(ab.worktree(REPO, args.candidate))
                candidate = ab.Side(
                    f"candidate {args.candidate} ({ab.resolve(REPO, args.candidate)[:12]})", tree
                )
            print(
                f"{base.label}\n{candidate.label}\n{len(workloads)} benchmarks, {settings.threads} thread(s)"
            )
            rows = _run(workloads, base, candidate, settings, args.json)
    except ab.AbError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print_rows(rows, settings)
    return 1 if any(r["regressed"] for r in rows) else 0


def _run(
    workloads: list, base: ab.Side, candidate: ab.Side, settings: ab.Settings, json_path: str | None
) -> list:
    env = environment(settings.threads)
    records: list[dict] = []

    def on_row(row: dict) -> None:
        print(
            f"[{len(records) + 1}/{len(workloads)}] {row['benchmark']}: {row['decision']}"
            f" ({row['n_pairs']} pairs, {row['seconds']:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
        status = "ok" if row["decision"] in ab.DECISIONS[:4] else "error"
        fields = {"base": base.label, "candidate": candidate.label, "status": status, **row}
        records.append(make_record("ab", fields, env))
        if json_path:
            write_records(Path(json_path), records)  # after every benchmark: an interrupted run keeps them

    return ab.compare(workloads, base, candidate, settings, on_row)
