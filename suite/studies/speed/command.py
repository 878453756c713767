"""``run speed`` and ``run memory``: a profile's benchmark grid, each implementation in fresh processes."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import impls
from suite import harness
from suite.environment import environment
from suite.measurement import grids as profiles
from suite.measurement import measure, stability
from suite.measurement.benchmarks import BENCHMARKS, Benchmark
from suite.options import (
    UsageError,
    add_json,
    add_selection,
    implementations_arg,
    on_gpu,
    one_dtype,
    parse_list,
)
from suite.records import benchmark_key, derived, run_peaks, write_records
from suite.studies.speed.analysis import seq_slopes
from suite.table import render

WORKLOAD_COLUMNS = ("implementation", "cell", "mode", "seq_len", "batch", "input_size", "hidden_size")


def add_parsers(kinds: argparse._SubParsersAction) -> None:
    for benchmark in BENCHMARKS.values():
        p = kinds.add_parser(
            benchmark.name,
            help=f"{benchmark.quantity} of every implementation x cell, each in fresh processes",
        )
        p.add_argument("--profile", choices=list(profiles.PROFILES), default="quick")
        add_selection(p)
        p.add_argument("--dtype", default="float32")
        p.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
        p.add_argument("--threads", type=int, help="threads for every framework (default: all cores)")
        p.add_argument(
            "--groups",
            help=f"only these parts of the grid: {', '.join(profiles.groups('full', benchmark.name))}",
        )
        p.add_argument("--timeout", type=float, default=600.0, help="seconds per job before it is killed")
        if benchmark.timed:
            p.add_argument(
                "--repeat",
                type=int,
                default=1,
                help="time the whole grid this many times, each time in fresh processes; a record then holds "
                "the median of the processes' medians and is unstable when they disagree (default: 1)",
            )
        add_json(p, default=f"results/{benchmark.name}-DEVICE-PROFILE.json")
        p.set_defaults(func=main, benchmark=benchmark)


def _job_line(benchmark: Benchmark, r: dict) -> str:
    what = f"{r['implementation']:<16} {r['cell']:<4} {r['mode']:<7} T{r['seq_len']} B{r['batch']}"
    what += f" H{r['hidden_size']}"
    if r["status"] != "ok":
        return f"{what}  {r['status'].upper()}: {r.get('error', '')}"
    return f"{what}  {benchmark.line(r)}"


def main(args: argparse.Namespace) -> int:
    benchmark: Benchmark = args.benchmark
    implementations = implementations_arg(args)
    cells = parse_list(args.cells, impls.CELLS, "cell")
    dtype = one_dtype(args.dtype)
    try:
        threads = harness.check_threads(args.threads)
    except ValueError as e:
        raise UsageError(f"--threads: {e}") from None
    if args.timeout <= 0:
        raise UsageError("--timeout must be > 0")
    repeat = getattr(args, "repeat", 1)
    if repeat < 1:
        raise UsageError("--repeat must be >= 1")
    groups = None
    if args.groups:
        groups = parse_list(args.groups, profiles.groups(args.profile, benchmark.name), "group")
    workloads = profiles.workloads(
        args.profile, benchmark.name, implementations, cells, dtype, args.device, groups
    )
    for why in _left_out(implementations, groups or []).values():
        print(f"left out of {why}", file=sys.stderr)
    if not workloads:
        raise UsageError(
            "nothing to run: no selected implementation declares the cells, dtype, device, lengths, "
            f"directions or gradients these groups need ({', '.join(groups or ['all'])})"
        )
    path = Path(args.json or f"results/{benchmark.name}-{args.device}-{args.profile}.json")
    measured: list[dict] = []  # every process's record
    records: list[dict] = []  # one per job, its processes combined
    started = time.monotonic()
    total = len(workloads) * repeat

    def on_record(record: dict) -> None:
        measured.append(record)
        records[:] = combined(measured)
        write_records(path, records)  # after every job: an interrupted run keeps what finished
        elapsed = time.monotonic() - started
        eta = elapsed / len(measured) * (total - len(measured))
        done = f"[{len(measured)}/{total}]"
        print(
            f"{done} {_job_line(benchmark, record)}  ({elapsed:.0f} s, ~{eta:.0f} s left)",
            file=sys.stderr,
            flush=True,
        )

    try:
        for _ in range(repeat):  # each pass in fresh processes, so the processes of one job are apart in time
            benchmark.run(workloads, threads, args.profile, environment(threads), args.timeout, on_record)
    except KeyboardInterrupt:
        print(f"\ninterrupted: {len(measured)} finished jobs kept in {path}", file=sys.stderr)
        return 130
    print_summary(benchmark, records)
    print(f"\nwrote {path}")
    return 0 if all(r["status"] == "ok" for r in records) else 1


def _left_out(implementations: list[str], groups: list[str]) -> dict[str, str]:
    """Asked-for groups that need what an implementation does not take: {name: which group, and why}."""
    out = {}
    for name in implementations:
        impl = impls.get(name)
        if "lengths" in groups and not impl.takes_lengths:
            out[name] = f"the lengths group: {name} does not take sequence lengths"
        if "bidirectional" in groups and not impl.takes_bidirectional:
            out[name] = f"the bidirectional group: {name} is not bidirectional"
    return out


def combined(records: list[dict]) -> list[dict]:
    """One record per job, in the order first measured: a job timed in several processes as one
    (stability.across_processes); failures and single processes as they are."""
    jobs: dict[tuple, list[dict]] = {}
    for r in records:
        jobs.setdefault((r.get("group"), benchmark_key(r)), []).append(r)
    out = []
    for runs in jobs.values():
        ok = [r for r in runs if r["status"] == "ok" and r.get("median_s") is not None]
        out.append(stability.across_processes(ok) if len(ok) > 1 else (ok or runs)[0])
    return out


def print_summary(benchmark: Benchmark, records: list[dict]) -> None:
    """The run's table, the log-log slopes over the sequence sweep and (speed) the measured GEMM peak."""
    rows = [{**r, **benchmark.format(r)} if r["status"] == "ok" else r for r in derived(records)]
    print(render(rows, [*WORKLOAD_COLUMNS, *benchmark.columns, "path", "status"]))
    slopes = seq_slopes(records, benchmark.value)
    if slopes:
        print(f"\nlog-log slope of {benchmark.quantity} against T (sequence sweep)")
        print(render(slopes, ["implementation", "cell", "mode", "T", "points", "slope"]))
    for (dtype, device), peak in run_peaks(records).items():
        print(f"\nmeasured GEMM peak ({dtype}, {device}): {peak:.1f} GFLOP/s")
    if benchmark.timed:
        warn_unstable([r for r in records if r["status"] == "ok"])


def warn_unstable(records: list[dict]) -> None:
    """Name the timings whose rounds spread or drift too much to be reported as facts (stderr)."""
    unstable = [r for r in records if stability.is_unstable(r)]
    if not unstable:
        return
    print(
        f"\nwarning: {len(unstable)} of {len(records)} timings are unstable (IQR over "
        f"{stability.MAX_REL_IQR:.0%} of the median, or drift over {stability.MAX_DRIFT:.0%}, after up to "
        f"{measure.EXTEND}x the rounds): flagged in the results file, drawn hollow in plots, left out of "
        "findings. Rerun them on quiet cores:",
        file=sys.stderr,
    )
    for r in unstable:
        print(f"  {benchmark_key(r)}: {stability.describe(r)}", file=sys.stderr)


def gpu_steps(names: list[str], out: str, timeout: float) -> dict[str, list[str]]:
    """Speed at the fastrnns and small points and memory at the fastrnns point, quick profile, on the GPU;
    later, the batches of different lengths, both directions and the fast-path settings (cuDNN's)."""
    quick = ["--profile", "quick", "--timeout", str(timeout)]
    return {
        "speed": ["run", "speed", *on_gpu(names), *quick, "--groups", "fastrnns,small,deterministic"]
        + ["--json", f"{out}/speed-gpu-quick.json"],
        "speed-variants": ["run", "speed", *on_gpu(names), *quick]
        + ["--groups", "fastrnns,lengths,bidirectional,fastpath", "--json", f"{out}/speed-gpu-variants.json"],
        "memory": ["run", "memory", *on_gpu(names), *quick, "--groups", "fastrnns"]
        + ["--json", f"{out}/memory-gpu-quick.json"],
    }
