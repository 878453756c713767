"""Whether a timing is stable enough to report: the spread of its rounds against their median, and the drift
between its first and second half (as pyperf warns on a large spread). An unstable timing is kept in the
results, flagged, warned about and drawn as such, but never used as a finding."""

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
    return f"IQR {found['rel_iqr']:.0%} of the median, drift {found['drift']:.0%}"
