"""The speed and memory benchmarks as data: how each one's jobs run in the harness, what it measures, and
how its records read. Everything that differs between the two lives on a :class:`Benchmark`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from suite import harness
from suite.measurement import grids as profiles
from suite.measurement import stability
from suite.measurement.workloads import APART_MODES, Workload
from suite.records import make_record

# The malloc settings make a phase's peak RSS its own, but each large allocation a system call: memory
# runs only, never timed ones.
_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}


def _speed_columns(r: dict) -> dict[str, Any]:
    return {
        "median_ms": f"{r['median_s'] * 1e3:.2f}",
        "iqr_ms": f"{r['iqr_s'] * 1e3:.2f}",
        "GFLOP/s": f"{r['gflops']:.1f}" if r.get("gflops") else None,
        "eff": f"{r['efficiency']:.0%}" if r.get("efficiency") is not None else None,
        # a streaming job times its cold start (create + first step) instead
        "compile_s": f"{r.get('compile_seconds', r.get('cold_start_s', 0.0)):.2f}",
        "timing": "UNSTABLE" if stability.is_unstable(r) else "stable",
    }


def _memory_columns(r: dict) -> dict[str, Any]:
    return {
        "peak_MiB": f"{r['peak_bytes'] / 2**20:.1f}",
        "analytic_MiB": f"{r['analytic_bytes'] / 2**20:.1f}",
    }


def _speed_line(r: dict) -> str:
    line = f"{r['median_s'] * 1e3:.2f} ms (IQR {r['iqr_s'] * 1e3:.2f})  {r['path']}"
    return line + (f"  UNSTABLE: {stability.describe(r)}" if stability.is_unstable(r) else "")


def _memory_line(r: dict) -> str:
    return f"peak {r['peak_bytes'] / 2**20:.1f} MiB (analytic {r['analytic_bytes'] / 2**20:.1f})"


@dataclass(frozen=True)
class Benchmark:
    """One kind of benchmark over workloads."""

    name: str
    plan: harness.Plan
    value: str  # the record field it measures
    quantity: str  # that field in words
    timed: bool  # takes the profile's Timing
    columns: tuple[str, ...]  # the summary table's columns for what it measures
    format: Callable[[dict], dict[str, Any]]  # those columns of a successful record, formatted
    line: Callable[[dict], str]  # a successful record in one line

    def options(self, profile: str) -> dict:
        """What the measuring function takes besides the job, in ``profile``."""
        return vars(profiles.TIMING[profile]).copy() if self.timed else {}

    def run(
        self,
        workloads: list[Workload],
        threads: int,
        profile: str,
        environment: dict,
        timeout_s: float = 600.0,
        on_record: Callable[[dict], None] | None = None,
    ) -> list[dict]:
        """Run every workload in fresh processes; each result becomes a record of this kind, passed to
        ``on_record`` as soon as it is finished."""
        records: list[dict] = []

        def add(result: dict) -> None:
            record = make_record(self.name, {"threads": threads, **result}, environment)
            records.append(record)
            if on_record:
                on_record(record)

        jobs = [w.as_dict() for w in workloads]
        # flushing subnormals or a deterministic mode changes the process for every later job: those modes
        # (the last-step ones, flushed and not) each run in a fresh process, so that they differ in it alone
        apart = [j for j in jobs if j["mode"] in APART_MODES]
        rest = [j for j in jobs if j["mode"] not in APART_MODES]
        harness.run_jobs(rest, self.plan, threads, self.options(profile), timeout_s, add)
        alone = replace(self.plan, process_per="job")
        harness.run_jobs(apart, alone, threads, self.options(profile), timeout_s, add)
        return records


SPEED = Benchmark(
    name="speed",
    plan=harness.Plan("suite.measurement.measure:speed", process_per="implementation"),
    value="median_s",
    quantity="time",
    timed=True,
    columns=("median_ms", "iqr_ms", "GFLOP/s", "eff", "compile_s", "timing"),
    format=_speed_columns,
    line=_speed_line,
)
MEMORY = Benchmark(
    name="memory",
    plan=harness.Plan("suite.measurement.measure:memory", process_per="job", env=_MALLOC_ENV),
    value="peak_bytes",
    quantity="peak memory",
    timed=False,
    columns=("peak_MiB", "analytic_MiB"),
    format=_memory_columns,
    line=_memory_line,
)
BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in (SPEED, MEMORY)}
