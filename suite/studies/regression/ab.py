"""Same-job A/B comparison of two source trees: each benchmark timed in pairs of fresh processes, one per
side, in alternating order, with one sample per process; the paired log-ratios give a Hodges-Lehmann
estimate of the ratio and its exact signed-rank confidence interval, and more pairs are taken only while
that interval still crosses a threshold line.

Decisions, for a threshold t (ratio = candidate time / base time):

- ``slower``: the whole interval lies above 1 and reaches beyond 1 + t. A true slowdown of t or more
  ends here; a smaller one is taken as ``same`` once its interval has shrunk below 1 + t. Gated.
- ``faster``: the mirror image, below 1 and reaching under 1 / (1 + t).
- ``same``: the whole interval lies within [1 / (1 + t), 1 + t].
- ``undecided``: the interval holds 1 and a threshold line after every pair the budget allowed.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from suite.measurement.workloads import Workload

WORKER = Path(__file__).resolve().parent / "ab_worker.py"
THRESHOLD = 0.10
CONFIDENCE = 0.99
MIN_PAIRS = 8  # the fewest with which a 99 % signed-rank interval exists
MAX_PAIRS = 40
DECISIONS: tuple[str, ...] = ("slower", "faster", "same", "undecided", "base failed", "candidate failed")
REGRESSIONS: tuple[str, ...] = ("slower", "candidate failed")
PAIRINGS: tuple[str, ...] = ("call", "process")


class AbError(RuntimeError):
    """An A/B comparison that cannot be set up: an unknown revision, a failed worktree."""


@dataclass(frozen=True)
class Side:
    """One side of the comparison: a source tree, run with the installed packages, and extra environment
    variables for its processes."""

    label: str
    tree: Path
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    """How each benchmark is compared."""

    threshold: float = THRESHOLD
    confidence: float = CONFIDENCE
    min_pairs: int = MIN_PAIRS
    max_pairs: int = MAX_PAIRS
    budget_s: float = 120.0  # per benchmark: no new pair starts after this
    threads: int = 1
    min_rounds: int = 5  # timed calls per process, at least
    min_time_s: float = 0.3  # and at least this long
    timeout_s: float = 300.0  # per process
    pairing: str = "call"  # "call": both trees in one process, calls interleaved; "process": one each

    def __post_init__(self) -> None:
        if not 0 < self.threshold < 1:
            raise ValueError(f"threshold must lie between 0 and 1, got {self.threshold}")
        if not 0.5 < self.confidence < 1:
            raise ValueError(f"confidence must lie between 0.5 and 1, got {self.confidence}")
        if self.min_pairs < 2 or self.max_pairs < self.min_pairs:
            raise ValueError("need 2 <= min_pairs <= max_pairs")
        if self.pairing not in PAIRINGS:
            raise ValueError(f"unknown pairing {self.pairing!r}; choose one of {', '.join(PAIRINGS)}")
        if self.budget_s <= 0 or self.timeout_s <= 0:
            raise ValueError("budget and timeout must be > 0")

    @property
    def gated(self) -> bool:
        """Whether a slowdown fails the gate: only at one thread per process, where the noise of two
        threads on two shared cores is absent; other thread counts are report-only."""
        return self.threads == 1


# ----- the statistics -----


def _signed_rank_cdf(n: int) -> np.ndarray:
    """P(W+ <= w) for w = 0..n(n+1)/2 under the null (exact, by counting subsets of ranks)."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1.0
    for rank in range(1, n + 1):
        counts[rank:] = counts[rank:] + counts[:-rank].copy()
    return np.cumsum(counts) / 2.0**n


def hodges_lehmann(d: list[float], confidence: float) -> tuple[float, float, float]:
    """The Hodges-Lehmann estimate of the centre of ``d`` (median of the Walsh averages) and its exact
    distribution-free interval from the signed-rank test; (-inf, inf) when ``d`` is too short for it."""
    x = np.asarray(d, dtype=float)
    i, j = np.triu_indices(x.size)
    walsh = np.sort((x[i] + x[j]) / 2.0)
    estimate = float(np.median(walsh))
    below = np.nonzero(_signed_rank_cdf(x.size) <= (1 - confidence) / 2)[0]
    if below.size == 0:
        return estimate, -math.inf, math.inf
    k = int(below[-1])  # the interval drops the k smallest and k largest Walsh averages
    return estimate, float(walsh[k]), float(walsh[-k - 1])


def ratio_interval(pairs: list[dict], confidence: float) -> tuple[float, float, float]:
    """(ratio, low, high) of candidate / base time over the pairs."""
    logs = [math.log(p["ratio"] if "ratio" in p else p["candidate_s"] / p["base_s"]) for p in pairs]
    estimate, low, high = hodges_lehmann(logs, confidence)
    return math.exp(estimate), math.exp(low), math.exp(high)


def decide(low: float, high: float, threshold: float) -> str:
    """The decision for a ratio interval (see the module's docstring)."""
    up, down = 1 + threshold, 1 / (1 + threshold)
    if low > 1 and high > up:
        return "slower"
    if high < 1 and low < down:
        return "faster"
    if low >= down and high <= up:
        return "same"
    return "undecided"


def settled(low: float, high: float, threshold: float) -> bool:
    """Whether no threshold line lies inside the interval, so that more pairs would not change the
    region it lies in."""
    return not any(low < line < high for line in (1 + threshold, 1 / (1 + threshold)))


# ----- the processes -----


class SampleError(RuntimeError):
    """A worker process that crashed, timed out or ran another tree's code; ``side`` is the side that
    failed (the candidate when a process holding both cannot tell)."""

    def __init__(self, message: str, side: str = "candidate") -> None:
        super().__init__(message)
        self.side = side


def run_worker(spec: dict, env: Mapping[str, str], cwd: Path, timeout_s: float) -> dict:
    """One fresh worker process (suite/ab_worker.py) for ``spec``: its parsed result."""
    try:
        out = subprocess.run(
            [sys.executable, str(WORKER), json.dumps(spec)],
            capture_output=True,
            text=True,
            cwd=cwd,
            env={**os.environ, **env},
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        raise SampleError(f"timed out after {timeout_s:.0f} s") from None
    if out.returncode != 0:
        try:
            failed = json.loads(out.stdout.strip().splitlines()[-1])
            raise SampleError(failed["error"], failed["failed"])
        except (IndexError, json.JSONDecodeError, KeyError, TypeError):
            pass
        tail = (out.stderr.strip().splitlines() or [""])[-1]
        raise SampleError(f"exit code {out.returncode}: {tail}")
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise SampleError(f"no result on stdout: {out.stdout[-200:]!r}") from None


def take_pair(spec: dict, base: Side, candidate: Side, settings: Settings, first: str) -> tuple[dict, dict]:
    """One pair: (its record, the kernel path of each side). ``pairing="call"``: one process holding both
    trees, calls interleaved (the environments merged, the candidate's last); ``"process"``: one fresh
    process per side, ``first`` first. SampleError names the side that failed."""
    sides = {"base": base, "candidate": candidate}
    if settings.pairing == "call":
        both = {**spec, "sides": {n: str(s.tree) for n, s in sides.items()}, "first": first}
        try:
            got = run_worker(both, {**base.env, **candidate.env}, candidate.tree, settings.timeout_s)
        except SampleError as e:
            raise SampleError(f"{sides[e.side].label}: {e}", e.side) from None
        pair = {
            "first": first,
            "base_s": got["base"]["sample_s"],
            "candidate_s": got["candidate"]["sample_s"],
        }
        return {**pair, "ratio": got["ratio"]}, {n: got[n]["path"] for n in sides}
    pair, paths = {"first": first}, {}
    for name in (first, "candidate" if first == "base" else "base"):
        side = sides[name]
        try:
            got = run_worker(
                {**spec, "sides": {name: str(side.tree)}}, side.env, side.tree, settings.timeout_s
            )
        except SampleError as e:
            raise SampleError(f"{side.label}: {e}", name) from None
        pair[f"{name}_s"] = got[name]["sample_s"]
        paths[name] = got[name]["path"]
    return pair, paths


def compare_benchmark(
    workload: Workload,
    base: Side,
    candidate: Side,
    settings: Settings,
    on_pair: Callable[[int], None] | None = None,
) -> dict:
    """The A/B row of one benchmark: its pairs, ratio, interval, decision and the time it took."""
    spec = {
        **workload.as_dict(),
        "threads": settings.threads,
        "min_rounds": settings.min_rounds,
        "min_time_s": settings.min_time_s,
    }
    row: dict = {**workload.as_dict(), "benchmark": workload.key(), "threads": settings.threads}
    pairs: list[dict] = []
    started = time.monotonic()
    decision, ratio, low, high = "undecided", None, None, None
    paths: dict[str, str] = {}
    while len(pairs) < settings.max_pairs:
        try:
            pair, paths = take_pair(spec, base, candidate, settings, ("base", "candidate")[len(pairs) % 2])
        except SampleError as e:
            decision = f"{e.side} failed"
            row["error"] = str(e)
            break
        pairs.append(pair)
        if on_pair:
            on_pair(len(pairs))
        if len(pairs) >= settings.min_pairs:
            ratio, low, high = ratio_interval(pairs, settings.confidence)
            decision = decide(low, high, settings.threshold)
            if settled(low, high, settings.threshold):
                break
            if time.monotonic() - started > settings.budget_s:
                break
    row.update(
        {
            "pairing": settings.pairing,
            "pairs": pairs,
            "n_pairs": len(pairs),
            "base_median_s": statistics.median(p["base_s"] for p in pairs) if pairs else None,
            "candidate_median_s": statistics.median(p["candidate_s"] for p in pairs) if pairs else None,
            "ratio": ratio,
            "ci_low": low,
            "ci_high": high,
            "confidence": settings.confidence,
            "threshold": settings.threshold,
            "decision": decision,
            "gated": settings.gated,
            "regressed": settings.gated and decision in REGRESSIONS,
            "seconds": time.monotonic() - started,
            "base_path": paths.get("base"),
            "candidate_path": paths.get("candidate"),
        }
    )
    return row


def compare(
    workloads: list[Workload],
    base: Side,
    candidate: Side,
    settings: Settings,
    on_row: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Every benchmark, one after the other; each row passed to ``on_row`` when it is finished."""
    rows = []
    for w in workloads:
        row = compare_benchmark(w, base, candidate, settings)
        rows.append(row)
        if on_row:
            on_row(row)
    return rows


# ----- the source trees -----


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise AbError(f"git {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout.strip()


def resolve(repo: Path, revision: str) -> str:
    """The commit a revision names; AbError naming it when there is none here."""
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except AbError:
        raise AbError(
            f"unknown revision {revision!r} in {repo} (a shallow clone may lack it: git fetch --deepen=N)"
        ) from None


@contextlib.contextmanager
def worktree(repo: Path, revision: str) -> Iterator[Path]:
    """A temporary detached worktree of ``revision``, removed afterwards."""
    commit = resolve(repo, revision)
    folder = Path(tempfile.mkdtemp(prefix="rnnbench-ab-"))
    tree = folder / commit[:12]
    _git(repo, "worktree", "add", "--detach", "--quiet", str(tree), commit)
    try:
        yield tree
    finally:
        subprocess.run(
            ["git", "-C", str(repo), "worktree", "remove", "--force", str(tree)], capture_output=True
        )
        shutil.rmtree(folder, ignore_errors=True)


def default_base(repo: Path) -> str:
    """The revision a submission builds on: ``$RNNBENCH_AB_BASE`` if set (a CI system's base commit),
    else the merge-base with ``origin/main`` where that exists and differs from HEAD, else ``HEAD^``."""
    if os.environ.get("RNNBENCH_AB_BASE"):
        return os.environ["RNNBENCH_AB_BASE"]
    try:
        base = _git(repo, "merge-base", "HEAD", "origin/main")
        if base != resolve(repo, "HEAD"):
            return base
    except AbError:
        pass
    return "HEAD^"
