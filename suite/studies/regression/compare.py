"""Compare two benchmark runs: per benchmark a decision (faster / same / slower / memory up), flagging
only changes that are both larger than a threshold and statistically significant on the raw rounds."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from suite.measurement.benchmarks import BENCHMARKS
from suite.records import ResultsError, benchmark_key, derived, read_json, read_records

CALIBRATION = Path(__file__).resolve().parent.parent / "results" / "calibration" / "aa.json"
FALLBACK_THRESHOLD = 0.25  # used only when the A/A calibration file is missing
MEMORY_THRESHOLD = 0.05  # memory is nearly deterministic: gate it tightly
MEMORY_SLACK_BYTES = 2 * 2**20  # RSS moves by a few pages from run to run
CONFIDENCE = 0.99
BOOTSTRAP = 2000


REGRESSIONS: tuple[str, ...] = ("slower", "memory up", "flops changed")
SAFETY = 1.5  # the threshold is this many times the largest A/A change, in log terms


class CompareError(ValueError):
    """A file that cannot be compared: missing, corrupt or foreign."""


@dataclass
class Entry:
    """One benchmark of one run."""

    samples: list[float] = field(default_factory=list)  # seconds per round (time benchmarks)
    peak_bytes: int | None = None  # memory benchmarks
    flops: float | None = None
    peak_gflops: float | None = None  # the run's GEMM calibration

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def default_threshold() -> float:
    """The time threshold derived from the committed A/A calibration."""
    try:
        return float(json.loads(CALIBRATION.read_text())["threshold"])
    except (OSError, ValueError, KeyError, TypeError):
        return FALLBACK_THRESHOLD


def load(path: str | Path) -> dict[str, Entry]:
    """Benchmarks of a pytest-benchmark JSON file or an rnnbench speed/memory results file."""
    path = Path(path)
    data = read_json(path, CompareError)
    if isinstance(data, dict) and isinstance(data.get("benchmarks"), list):
        return _from_pytest_benchmark(path, data)
    try:
        records = derived(read_records(path))
    except ResultsError as e:
        raise CompareError(f"{e} (nor a pytest-benchmark file)") from None
    entries = {
        benchmark_key(r, r["kind"]): Entry(
            samples=r.get("samples", []),
            peak_bytes=r.get("peak_bytes"),
            flops=r.get("flops"),
            peak_gflops=r.get("peak_gflops"),
        )
        for r in records
        if r["status"] == "ok" and r["kind"] in BENCHMARKS
    }
    if not entries:
        raise CompareError(f"{path}: no successful speed or memory records to compare")
    return entries


def _from_pytest_benchmark(path: Path, data: dict) -> dict[str, Entry]:
    entries = {}
    for b in data["benchmarks"]:
        try:
            samples = b["stats"]["data"]
        except (KeyError, TypeError):
            raise CompareError(
                f"{path}: benchmark {b.get('name')!r} has no raw rounds (stats.data)"
            ) from None
        extra = b.get("extra_info", {})
        entries[b["fullname"]] = Entry(
            samples=list(samples), flops=extra.get("flops"), peak_gflops=extra.get("peak_gflops")
        )
    if not entries:
        raise CompareError(f"{path}: holds no benchmarks")
    return entries


def ratio_interval(base: list[float], cur: list[float], seed: int = 0) -> tuple[float, float, float]:
    """Median ratio cur/base and its bootstrap confidence interval (resampling the rounds of each run)."""
    rng = np.random.default_rng(seed)
    b, c = np.asarray(base), np.asarray(cur)
    rb = np.median(rng.choice(b, (BOOTSTRAP, b.size)), axis=1)
    rc = np.median(rng.choice(c, (BOOTSTRAP, c.size)), axis=1)
    ratios = rc / rb
    alpha = (1 - CONFIDENCE) / 2
    return (
        float(np.median(c) / np.median(b)),
        float(np.quantile(ratios, alpha)),
        float(np.quantile(ratios, 1 - alpha)),
    )


def decide(base: Entry, cur: Entry, threshold: float, normalize: bool = False) -> dict:
    """The row of one benchmark present in both runs."""
    if base.flops is not None and cur.flops is not None and base.flops != cur.flops:
        return {"decision": "flops changed", "regressed": True, "ratio": cur.flops / base.flops}
    if base.peak_bytes is not None and cur.peak_bytes is not None:
        ratio = cur.peak_bytes / base.peak_bytes if base.peak_bytes else float("inf")
        up = cur.peak_bytes > base.peak_bytes * (1 + MEMORY_THRESHOLD) + MEMORY_SLACK_BYTES
        return {"decision": "memory up" if up else "same", "regressed": up, "ratio": ratio}
    b, c = base.samples, cur.samples
    if normalize:
        if not (base.peak_gflops and cur.peak_gflops):
            raise CompareError("--normalize needs the GEMM calibration (peak_gflops) in both runs")
        # seconds x GFLOP/s of the machine: the time in units of the run's own GEMM speed
        b = [s * base.peak_gflops for s in b]
        c = [s * cur.peak_gflops for s in c]
    ratio, low, high = ratio_interval(b, c)
    if ratio > 1 + threshold and low > 1:
        decision = "slower"
    elif ratio < 1 / (1 + threshold) and high < 1:
        decision = "faster"
    else:
        decision = "same"
    return {
        "decision": decision,
        "regressed": decision == "slower",
        "ratio": ratio,
        "ci_low": low,
        "ci_high": high,
    }


def compare(
    baseline: dict[str, Entry], current: dict[str, Entry], threshold: float, normalize: bool = False
) -> list[dict]:
    """One row per benchmark in either run; those in one run only are listed as added or removed."""
    rows = []
    for key in sorted(set(baseline) | set(current)):
        if key not in current:
            rows.append({"benchmark": key, "decision": "removed", "regressed": False})
        elif key not in baseline:
            rows.append({"benchmark": key, "decision": "added", "regressed": False})
        else:
            rows.append({"benchmark": key, **decide(baseline[key], current[key], threshold, normalize)})
    return rows


def calibrate(runs: list[str]) -> dict:
    """The time threshold from A/A runs: the largest median change between consecutive runs of the same
    code, widened by SAFETY in log terms, rounded up to 5 %, at least 10 %."""
    loaded = [load(r) for r in runs]
    pairs = []
    worst_log = 0.0
    named = list(zip(runs, loaded, strict=True))
    for (a_name, a), (b_name, b) in zip(named, named[1:], strict=False):
        changes = {k: b[k].median / a[k].median for k in set(a) & set(b) if a[k].samples and b[k].samples}
        if not changes:
            raise CompareError(f"{a_name} and {b_name} share no time benchmarks")
        key = max(changes, key=lambda k: abs(math.log(changes[k])))
        worst_log = max(worst_log, abs(math.log(changes[key])))
        pairs.append(
            {
                "baseline": Path(a_name).name,
                "current": Path(b_name).name,
                "benchmarks": len(changes),
                "max_change": abs(changes[key] - 1),
                "worst": key,
            }
        )
    threshold = max(0.10, math.ceil((math.exp(SAFETY * worst_log) - 1) * 20) / 20)
    return {
        "threshold": threshold,
        "rule": f"exp({SAFETY} x largest |log ratio|) - 1, rounded up to 5 %, >= 10 %",
        "runs": [Path(r).name for r in runs],
        "pairs": pairs,
    }
