"""Whether a timing is stable enough to report: the spread of its rounds against their median, the drift
between its first and second half (as pyperf warns on a large spread), and, when it was measured in several
fresh processes, how far their medians disagree. An unstable timing is kept in the results, flagged, warned
about and drawn as such, but never used as a finding."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

MAX_REL_IQR = 0.20  # the interquartile range over the median
MAX_DRIFT = 0.15  # |median of the first half - median of the second half| over the median
MIN_HALF = 3  # rounds per half below which drift is not judged


def assess(samples: Sequence[float]) -> dict[str, float | bool]:
    """``rel_iqr``, ``drift`` and ``unstable`` of a timing's rounds (seconds)."""
    if not samples:
        raise ValueError("no rounds to assess")
    median = statistics.median(samples)
    if len(samples) > 1:
        q = statistics.quantiles(samples, n=4, method="inclusive")
        rel_iqr = (q[2] - q[0]) / median
    else:
        rel_iqr = 0.0
    half = len(samples) // 2
    drift = 0.0
    if half >= MIN_HALF:
        drift = abs(statistics.median(samples[:half]) - statistics.median(samples[half:])) / median
    return {"rel_iqr": rel_iqr, "drift": drift, "unstable": rel_iqr > MAX_REL_IQR or drift > MAX_DRIFT}


def assess_latencies(samples: Sequence[float]) -> dict[str, float | bool]:
    """:func:`assess` for a latency distribution (each step of a stream timed): its spread is the
    measurement (p50 against p99), not noise, so only a drift between its halves makes it unstable."""
    found = assess(samples)
    return {**found, "unstable": found["drift"] > MAX_DRIFT}


def is_unstable(record: Mapping) -> bool:
    """Whether a speed record's timing is unstable: as it says, or judged from its rounds (records written
    before timings were judged)."""
    if "unstable" in record:
        return bool(record["unstable"])
    samples = record.get("samples")
    return bool(samples) and bool(assess(samples)["unstable"])


def describe(record: Mapping) -> str:
    """Why a timing is unstable, in a few words."""
    found = assess(record["samples"]) if record.get("samples") else record
    words = f"IQR {found['rel_iqr']:.0%} of the median, drift {found['drift']:.0%}"
    if record.get("processes", 1) > 1:
        words += f", {record['processes']} processes {record['process_spread']:.0%} apart"
    return words


MAX_PROCESS_SPREAD = 0.25  # (slowest - fastest process median) over the median of the processes' medians


def across_processes(records: Sequence[Mapping]) -> dict:
    """One timing measured in several fresh processes, as one record: the median of the processes' medians,
    each process's median (``process_medians``), their spread over that median (``process_spread``), and
    ``unstable`` when any process was or the processes disagree by more than ``MAX_PROCESS_SPREAD`` (a second
    run of the same code in a fresh process can move far more than a process's own rounds spread)."""
    if not records:
        raise ValueError("no processes to combine")
    ordered = sorted(records, key=lambda r: r["median_s"])
    medians = [r["median_s"] for r in ordered]
    middle = ordered[(len(ordered) - 1) // 2]
    median = statistics.median(medians)
    spread = (medians[-1] - medians[0]) / median
    return {
        **middle,
        "median_s": median,
        "min_s": min(r["min_s"] for r in ordered),
        "processes": len(ordered),
        "process_medians": [r["median_s"] for r in records],
        "process_spread": spread,
        "unstable": spread > MAX_PROCESS_SPREAD or any(is_unstable(r) for r in records),
    }
