"""``python -m suite``: the command line."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import impls
import tasks
from suite import accuracy, check, compare
from suite.analysis import add_efficiency, seq_slopes
from suite.environment import environment
from suite.results import write_records
from suite.runner import run_workloads
from suite.table import render
from suite.workloads import PROFILES, grid


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


def cmd_run(args: argparse.Namespace) -> int:
    frameworks = frameworks_arg(args.frameworks)
    cells = parse_list(args.cells, impls.CELLS, "cell")
    dtype = parse_list(args.dtype, impls.DTYPES, "dtype")
    if len(dtype) != 1:
        raise UsageError("give one --dtype per run")
    cores = len(os.sched_getaffinity(0))
    threads = cores if args.threads is None else args.threads
    if not 1 <= threads <= cores:
        raise UsageError(f"--threads must be between 1 and {cores}")
    if args.timeout <= 0:
        raise UsageError("--timeout must be > 0")
    workloads = grid(args.profile, frameworks, cells, dtype[0], args.device, kind=args.benchmark)
    if args.groups:
        groups = parse_list(args.groups, sorted({w.group for w in workloads}), "group")
        workloads = [w for w in workloads if w.group in groups]
    path = Path(args.json or f"results/{args.benchmark}-{args.device}-{args.profile}.json")
    env = environment(threads)
    records: list[dict] = []
    started = time.monotonic()

    def on_result(record: dict) -> None:
        records.append({"kind": args.benchmark, "threads": threads, **record, "environment": env})
        if args.benchmark == "speed":
            add_efficiency(records)
        write_records(path, records)  # after every job: an interrupted run keeps what finished
        elapsed = time.monotonic() - started
        eta = elapsed / len(records) * (len(workloads) - len(records))
        print(
            f"[{len(records)}/{len(workloads)}] {_job_line(record)}  ({elapsed:.0f} s, ~{eta:.0f} s left)",
            file=sys.stderr,
            flush=True,
        )

    settings = PROFILE_SETTINGS[args.profile] if args.benchmark == "speed" else {}
    try:
        run_workloads(workloads, args.benchmark, threads, settings, args.timeout, on_result)
    except KeyboardInterrupt:
        print(f"\ninterrupted: {len(records)} finished jobs kept in {path}", file=sys.stderr)
        return 130
    _print_run_summary(args.benchmark, records)
    print(f"\nwrote {path}")
    return 0 if all(r["status"] == "ok" for r in records) else 1


PROFILE_SETTINGS = {
    "quick": {"min_rounds": 5, "max_rounds": 50, "budget_s": 0.5},
    "full": {"min_rounds": 10, "max_rounds": 200, "budget_s": 2.0},
}


def _positive(name: str, value: int | float | None) -> None:
    if value is not None and not value > 0:
        raise UsageError(f"--{name} must be > 0, got {value}")


def cmd_accuracy(args: argparse.Namespace) -> int:
    try:
        task = tasks.get(args.task)
    except ValueError as e:
        raise UsageError(str(e)) from None
    frameworks = frameworks_arg(args.frameworks)
    cells = parse_list(args.cells, impls.CELLS, "cell")
    profile = accuracy.profile(args.profile, args.task)
    dtype = parse_list(args.dtype or profile["dtype"], impls.DTYPES, "dtype")[0]
    try:
        lengths = [int(v) for v in args.lengths.split(",")] if args.lengths else profile["lengths"]
    except ValueError:
        raise UsageError(f"--lengths must be comma-separated integers, got {args.lengths!r}") from None
    for t in lengths:
        try:
            task.check_length(t)
        except ValueError as e:
            raise UsageError(str(e)) from None
    for name in ("steps", "seeds", "batch_size", "hidden_size", "jobs", "timeout", "lr"):
        _positive(name.replace("_", "-"), getattr(args, name))
    if args.clip is not None and args.clip < 0:
        raise UsageError("--clip must be >= 0")
    if args.executor == "dask" and importlib.util.find_spec("distributed") is None:
        raise UsageError("the dask executor needs dask distributed: pip install -e '.[cluster]'")
    settings = {
        "steps": args.steps or profile["steps"],
        "batch_size": args.batch_size or profile["batch_size"],
        "hidden_size": args.hidden_size or profile["hidden_size"],
        "optimizer": args.optimizer or profile["optimizer"],
        "lr": args.lr or profile["lr"],
        "clip": profile["clip"] if args.clip is None else args.clip or None,
        "dtype": dtype,
        "threads": max(1, len(os.sched_getaffinity(0)) // args.jobs),
    }
    specs = accuracy.job_specs(
        args.task, lengths, frameworks, cells, args.seeds or profile["seeds"], settings
    )
    path = Path(args.json or f"results/accuracy-{args.task}-{args.profile}.json")
    cache = Path(args.cache or "results/cache/accuracy")
    env = environment(settings["threads"])
    try:
        records = accuracy.sweep(
            specs,
            cache,
            args.executor,
            args.jobs,
            args.timeout,
            args.scheduler,
            progress=not args.no_progress,
            environment=env,
        )
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: finished jobs are kept in {cache}; run the same command to resume",
            file=sys.stderr,
        )
        return 130
    out = [{"kind": "accuracy", **r} for r in records]
    write_records(path, out)
    print(render(accuracy.table_rows(out), ["task", *accuracy.TABLE_COLUMNS]))
    print(f"\nwrote {path}")
    return 0 if all(r["status"] in accuracy.CACHEABLE for r in out) else 1


def _job_line(r: dict) -> str:
    what = f"{r['framework']:<10} {r['cell']:<4} {r['mode']:<7} T{r['seq_len']} B{r['batch']}"
    what += f" H{r['hidden_size']}"
    if r["status"] != "ok":
        return f"{what}  {r['status'].upper()}: {r.get('error', '')}"
    if "median_s" in r:
        return f"{what}  {r['median_s'] * 1e3:.2f} ms (IQR {r['iqr_s'] * 1e3:.2f})  {r['path']}"
    return f"{what}  peak {r['peak_bytes'] / 2**20:.1f} MiB (analytic {r['analytic_bytes'] / 2**20:.1f})"


def _print_run_summary(kind: str, records: list[dict]) -> None:
    rows = []
    for r in records:
        row = dict(r)
        if kind == "speed" and r["status"] == "ok":
            row |= {
                "median_ms": f"{r['median_s'] * 1e3:.2f}",
                "iqr_ms": f"{r['iqr_s'] * 1e3:.2f}",
                "GFLOP/s": f"{r['gflops']:.1f}",
                "eff": f"{r.get('efficiency', 0):.0%}",
                "compile_s": f"{r['compile_seconds']:.2f}",
            }
        if kind == "memory" and r["status"] == "ok":
            row |= {
                "peak_MiB": f"{r['peak_bytes'] / 2**20:.1f}",
                "analytic_MiB": f"{r['analytic_bytes'] / 2**20:.1f}",
            }
        rows.append(row)
    values = (
        ["median_ms", "iqr_ms", "GFLOP/s", "eff", "compile_s"]
        if kind == "speed"
        else ["peak_MiB", "analytic_MiB"]
    )
    print(
        render(
            rows,
            [
                "framework",
                "cell",
                "mode",
                "seq_len",
                "batch",
                "input_size",
                "hidden_size",
                *values,
                "path",
                "status",
            ],
        )
    )
    field = "median_s" if kind == "speed" else "peak_bytes"
    slopes = seq_slopes(records, field)
    if slopes:
        print(f"\nlog-log slope of {'time' if kind == 'speed' else 'peak memory'} against T (sequence sweep)")
        print(render(slopes, ["framework", "cell", "mode", "T", "points", "slope"]))
    if kind == "speed":
        peaks = {(r["dtype"], r["device"]): r["peak_gflops"] for r in records if r.get("peak_gflops")}
        for (dtype, device), peak in peaks.items():
            print(f"\nmeasured GEMM peak ({dtype}, {device}): {peak:.1f} GFLOP/s")


def cmd_compare(args: argparse.Namespace) -> int:
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
    _print_comparison(rows, threshold)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    return _exit_code(rows, args.fail_on)


def _exit_code(rows: list[dict], fail_on: str) -> int:
    gates = {g.strip() for g in fail_on.split(",") if g.strip()}
    unknown = gates - set(compare.REGRESSIONS)
    if unknown:
        raise UsageError(
            f"--fail-on: unknown decision {sorted(unknown)}; choose from {', '.join(compare.REGRESSIONS)}"
        )
    return 1 if any(r["decision"] in gates for r in rows) else 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    if len(args.runs) < 2:
        raise UsageError("give at least two A/A runs")
    try:
        result = compare.calibrate(args.runs)
    except compare.CompareError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    write_json = Path(args.out)
    write_json.parent.mkdir(parents=True, exist_ok=True)
    write_json.write_text(json.dumps(result, indent=1) + "\n")
    for pair in result["pairs"]:
        print(
            f"{pair['baseline']} vs {pair['current']}: largest median change {pair['max_change']:.1%} "
            f"({pair['worst']})"
        )
    print(f"threshold {result['threshold']:.0%} ({result['rule']}); wrote {write_json}")
    return 0


def _print_comparison(rows: list[dict], threshold: float) -> None:
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


def cmd_track(args: argparse.Namespace) -> int:
    from suite import tracking

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
        _print_comparison(rows, threshold)
    history = tracking.history_path()
    tracking.append_history(history, args.name, entries, rows)
    print(f"history: {history}")
    return _exit_code(rows, args.fail_on)


def _progress(row: dict) -> str:
    return f"  {row['framework']:<10} {row['cell']:<4} {row['dtype']:<7} {row['status']}"


def _add_fail_on(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--fail-on", default=",".join(compare.REGRESSIONS), help="decisions that exit 1 (default: all)"
    )


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
    run = sub.add_parser("run", help="run a benchmark: speed, memory or accuracy")
    kinds = run.add_subparsers(dest="benchmark", required=True)
    for kind in ("speed", "memory"):
        p = kinds.add_parser(
            kind, help=f"{kind} of every framework x cell, each framework in fresh processes"
        )
        p.add_argument("--profile", choices=list(PROFILES), default="quick")
        p.add_argument("--frameworks", help="comma-separated (default: every installed one)")
        p.add_argument("--cells", help="comma-separated (default: all)")
        p.add_argument("--dtype", default="float32")
        p.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
        p.add_argument("--threads", type=int, help="threads for every framework (default: all cores)")
        p.add_argument(
            "--groups",
            help="only these parts of the grid: fastrnns, deepbench_train, deepbench_inference, seq_sweep",
        )
        p.add_argument("--timeout", type=float, default=600.0, help="seconds per job before it is killed")
        p.add_argument(
            "--json", metavar="PATH", help="results file (default: results/KIND-DEVICE-PROFILE.json)"
        )
        p.set_defaults(func=cmd_run)
    p = kinds.add_parser("accuracy", help="train every framework x cell on a task, against sequence length")
    p.add_argument("--task", required=True, help="adding, copy or varcopy")
    p.add_argument("--profile", choices=list(accuracy.PROFILES), default="quick")
    p.add_argument("--lengths", help="comma-separated sequence lengths (default: the profile's)")
    p.add_argument("--frameworks", help="comma-separated (default: every installed one)")
    p.add_argument("--cells", help="comma-separated (default: all)")
    for name in ("steps", "seeds", "batch-size", "hidden-size"):
        p.add_argument(f"--{name}", type=int, help="default: the profile's")
    p.add_argument("--optimizer", choices=["adam", "rmsprop"], help="default: the profile's")
    p.add_argument("--lr", type=float, help="default: the profile's")
    p.add_argument("--clip", type=float, help="global-norm clip, 0: off (default: the profile's)")
    p.add_argument("--dtype", help="default: the profile's")
    p.add_argument("--executor", choices=list(accuracy.EXECUTORS), default="local")
    p.add_argument(
        "--scheduler", help="dask: address of a running scheduler (default: start a local cluster)"
    )
    p.add_argument("--jobs", type=int, default=1, help="jobs at a time (default 1)")
    p.add_argument(
        "--timeout", type=float, default=accuracy.JOB_TIMEOUT_S, help="seconds per job before it is killed"
    )
    p.add_argument("--cache", help="cache folder (default: results/cache/accuracy)")
    p.add_argument(
        "--json", metavar="PATH", help="results file (default: results/accuracy-TASK-PROFILE.json)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_accuracy)
    p = sub.add_parser("compare", help="compare two runs (pytest-benchmark JSON or rnnbench results)")
    p.add_argument("baseline")
    p.add_argument("current")
    p.add_argument(
        "--threshold", type=float, help="relative change to flag (default: from the A/A calibration)"
    )
    p.add_argument("--normalize", action="store_true", help="compare times relative to each run's GEMM peak")
    p.add_argument("--json", metavar="PATH", help="also write the rows here")
    _add_fail_on(p)
    p.set_defaults(func=cmd_compare)
    p = sub.add_parser(
        "track", help="compare a run with this machine's baseline and append it to the history"
    )
    p.add_argument("current")
    p.add_argument("--name", default="ci", help="which tracked set (default: ci)")
    p.add_argument("--update-baseline", action="store_true", help="make CURRENT the new baseline")
    _add_fail_on(p)
    p.set_defaults(func=cmd_track)
    p = sub.add_parser(
        "calibrate", help="derive the time threshold from A/A runs (the same code twice or more)"
    )
    p.add_argument("runs", nargs="+", help="results files (or pytest-benchmark JSON) of the same code")
    p.add_argument("--out", default=str(compare.CALIBRATION), help="where to write the calibration")
    p.set_defaults(func=cmd_calibrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as e:
        parser.error(str(e))  # exits with code 2
    return 2
