"""Result records: what each kind holds, the key that names a benchmark, the results file (a schema version,
atomic writes, older files migrated on reading) and the figures derived from records.

A results file is ``{"format": "rnnbench-results", "schema_version": N, "records": [...]}``. Every record
has a ``kind`` and the ``environment`` it ran in. Files store what was measured; figures computed from it
(GFLOP/s, the run's GEMM peak, efficiency) come from :func:`derived`, never from editing records."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypedDict

FORMAT = "rnnbench-results"
SCHEMA_VERSION = 2
# version 1: a bare JSON list of records, with gflops, peak_gflops and efficiency stored in speed records,
# and no implementation (each framework had one: its name)
_DERIVED_V1 = ("gflops", "peak_gflops", "efficiency")


class ResultsError(ValueError):
    """A results file that is missing, corrupt, foreign or from a newer rnnbench."""


# ----- the records -----


class _Benchmark(TypedDict):
    """What every speed and memory record names: one benchmark job (suite.measurement.workloads.Workload)."""

    kind: str
    implementation: str  # the registry name (a framework's name for its default implementation)
    framework: str
    cell: str
    mode: str  # forward | train
    seq_len: int
    batch: int
    input_size: int
    hidden_size: int
    num_layers: int
    dtype: str
    device: str
    status: str  # ok | error | crash | oom | timeout
    environment: dict


class SpeedRecord(_Benchmark, total=False):
    group: str
    threads: int
    threads_effective: dict  # what the framework reports after the harness set its pools
    path: str  # the kernel that ran: onednn, cudnn, xla:cpu, ...
    flops: float  # of one call
    median_s: float
    iqr_s: float
    min_s: float
    samples: list[float]  # seconds per round
    rounds: int
    rel_iqr: float  # the rounds' interquartile range over their median (suite.stability)
    drift: float  # between the first and second half of the rounds, over the median
    unstable: bool  # flagged, warned about and drawn as such; never a finding
    first_call_s: float  # tracing and compilation included
    compile_seconds: float
    gemm_gflops: float  # this process's square-GEMM calibration
    error: str


class MemoryRecord(_Benchmark, total=False):
    group: str
    threads: int
    threads_effective: dict
    path: str
    peak_bytes: int
    first_call_peak_bytes: int | None
    analytic_bytes: int
    rss_before_bytes: int | None
    memory_method: str
    error: str


class _Check(TypedDict):
    kind: str
    implementation: str
    framework: str
    cell: str
    dtype: str
    device: str
    status: str  # pass | fail | error | skip
    environment: dict


class CheckRecord(_Check, total=False):
    test: str  # function | round_trip | finite_differences (check.which_test reads older records)
    path: str
    shape: dict
    weights: dict  # how the check drew the weights it loaded, and how far its gates saturate
    errors: dict[str, float]  # relative error of every output, state and gradient (round trip: parameter)
    max_error: float
    worst: str
    tolerance: float
    message: str


class _Accuracy(TypedDict):
    kind: str
    task: str
    implementation: str
    framework: str
    cell: str
    seq_len: int
    seed: int
    status: str  # ok | diverged | error | crash | oom | timeout
    environment: dict


class AccuracyRecord(_Accuracy, total=False):
    steps: int
    batch_size: int
    hidden_size: int
    optimizer: str
    lr: float
    clip: float | None
    dtype: str
    test_loss: float | None
    baseline_loss: float
    accuracy: float | None
    solved: bool
    learning_curve: list
    wall_seconds: float


class CapacityRecord(AccuracyRecord, total=False):
    """One job of the capacity search (suite.capacity): an accuracy job that may stop early."""

    init: str
    t_max: int | None  # chrono's longest dependency
    eval_every: int  # validation checks every so many steps; the job stops once the test set confirms
    solved_step: int | None  # the step the job met the solve criterion at; None: not within the budget
    steps_run: int
    validation_curve: list  # [step, accuracy, loss] at each check
    throughput: bool  # a timing run (run capacity --throughput), not part of the search


class _Ab(_Benchmark):
    base: str  # the revisions compared (a commit, or "working tree")
    candidate: str
    decision: str  # slower | faster | same | undecided | base failed | candidate failed


class AbRecord(_Ab, total=False):
    """One benchmark of a same-job A/B comparison (suite.ab)."""

    group: str
    benchmark: str
    threads: int
    pairs: list[dict]  # {"base_s", "candidate_s", "first"}: one sample per fresh process
    n_pairs: int
    base_median_s: float | None
    candidate_median_s: float | None
    ratio: float | None  # candidate / base, Hodges-Lehmann over the pairs' log-ratios
    ci_low: float | None
    ci_high: float | None
    confidence: float
    threshold: float
    gated: bool  # one thread per process: a slowdown fails the gate
    regressed: bool
    seconds: float
    base_path: str | None
    candidate_path: str | None
    comparison: str  # evidence runs: which comparison of the series
    injected: str  # evidence runs: the slowdown injected into the test-only implementation
    error: str


class _Gradients(TypedDict):
    kind: str
    implementation: str
    framework: str
    cell: str
    init: str
    seed: int
    hidden_size: int
    lags: list[int]
    status: str  # ok | error | crash | oom | timeout
    environment: dict


class GradientsRecord(_Gradients, total=False):
    """The gradient's norm against lag (suite.gradients)."""

    t_max: int | None  # chrono's longest dependency
    task: str  # whose inputs drive the recurrence
    dtype: str
    batch: int
    step: int  # the training step the weights come from: 0 at initialisation
    path: str
    norms: list[float]  # |d(u . h_k)/d h_0| per lag
    c_norms: list[float] | None  # the LSTM's cell state
    decay_per_step: float | None
    c_decay_per_step: float | None
    error: str


RECORD_TYPES: dict[str, type] = {
    "check": CheckRecord,
    "speed": SpeedRecord,
    "memory": MemoryRecord,
    "accuracy": AccuracyRecord,
    "ab": AbRecord,
    "gradients": GradientsRecord,
    "capacity": CapacityRecord,
}
KINDS: tuple[str, ...] = tuple(RECORD_TYPES)


def device_of(spec_or_record: Mapping[str, Any]) -> str:
    """Where a job ran or runs: its ``device``, the CPU when it names none (records written before jobs
    named one)."""
    return spec_or_record.get("device") or "cpu"


def benchmark_key(fields: Mapping[str, Any], kind: str | None = None) -> str:
    """The name of one benchmark, stable across runs (what comparisons pair on), e.g.
    ``torch/lstm/forward/T100/B64/I512/H512/L1/float32/cpu``, led by the implementation's name; with
    ``kind``, ``speed:`` before it."""
    f = fields
    key = (
        f"{f.get('implementation') or f['framework']}/{f['cell']}/{f['mode']}/T{f['seq_len']}/B{f['batch']}"
        f"/I{f['input_size']}/H{f['hidden_size']}/L{f['num_layers']}/{f['dtype']}/{f['device']}"
    )
    if f.get("lengths"):  # sequences of different lengths, through the length-aware path
        key += f"/lengths-{f['lengths']}"
    if f.get("bidirectional"):
        key += "/bidirectional"
    return f"{kind}:{key}" if kind else key


# ----- derived figures -----


def run_peaks(records: Iterable[Mapping]) -> dict[tuple[str, str], float]:
    """The machine's peak of one run per (dtype, device): the best GEMM any of its workers measured."""
    peaks: dict[tuple[str, str], float] = defaultdict(float)
    for r in records:
        if r.get("gemm_gflops"):
            key = (r["dtype"], r["device"])
            peaks[key] = max(peaks[key], r["gemm_gflops"])
    return dict(peaks)


def derived(records: Iterable[Mapping]) -> list[dict]:
    """Copies of the records of ONE run, each successful speed record with ``gflops``, ``peak_gflops``
    (the run's best GEMM, same dtype and device) and ``efficiency`` = gflops / peak added."""
    records = list(records)
    peaks = run_peaks(records)
    out = []
    for r in records:
        r = dict(r)
        if r.get("kind") == "speed" and r.get("status") == "ok" and r.get("flops") and r.get("median_s"):
            r["gflops"] = r["flops"] / r["median_s"] / 1e9
            peak = peaks.get((r["dtype"], r["device"]))
            if peak:
                r["peak_gflops"] = peak
                r["efficiency"] = r["gflops"] / peak
        out.append(r)
    return out


# ----- files -----


def _clean(value: Any) -> Any:
    """NaN and inf become None so that the file is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def write_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` so that a reader sees the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def dumps(value: Any) -> str:
    """Strict JSON (NaN and inf as null), indented for reading."""
    return json.dumps(_clean(value), indent=1, allow_nan=False) + "\n"


def write_records(path: str | os.PathLike, records: list[dict]) -> Path:
    """Write a results file of the current schema, atomically."""
    return write_atomic(path, dumps({"format": FORMAT, "schema_version": SCHEMA_VERSION, "records": records}))


def read_json(path: str | os.PathLike, error: type[Exception] = ResultsError) -> Any:
    """The JSON in ``path``; ``error`` naming the file when it is missing or not JSON."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise error(f"{path}: not valid JSON ({e})") from None


def _migrate_v1(record: dict) -> dict:
    out = {k: v for k, v in record.items() if k not in _DERIVED_V1}
    if "framework" in out and "implementation" not in out:
        out = {"kind": out.get("kind"), "implementation": out["framework"], **out}
    return out


def migrate(data: Any, source: str = "results") -> list[dict]:
    """The records of a parsed results file of any schema version, in the current schema."""
    if isinstance(data, list):  # version 1
        return [_migrate_v1(r) if isinstance(r, dict) else r for r in data]
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ResultsError(f'{source}: not an rnnbench results file (no "format": "{FORMAT}")')
    version = data.get("schema_version")
    if not isinstance(version, int) or version < 2:
        raise ResultsError(f"{source}: unknown schema_version {version!r}")
    if version > SCHEMA_VERSION:
        raise ResultsError(
            f"{source}: written by a newer rnnbench (schema {version}, this one reads up to {SCHEMA_VERSION})"
        )
    records = data.get("records")
    if not isinstance(records, list):
        raise ResultsError(f"{source}: 'records' is not a list")
    return records


def validate(records: list, source: str = "results") -> list[dict]:
    """``records`` if each has a known kind, an environment and its kind's required fields."""
    if not records:
        raise ResultsError(f"{source}: holds no records")
    for i, rec in enumerate(records):
        if not isinstance(rec, dict) or rec.get("kind") not in KINDS:
            raise ResultsError(f"{source}: record {i} has no known 'kind' ({', '.join(KINDS)})")
        if not isinstance(rec.get("environment"), dict):
            raise ResultsError(f"{source}: record {i} has no 'environment'")
        missing = sorted(RECORD_TYPES[rec["kind"]].__required_keys__ - set(rec))
        if missing:
            raise ResultsError(f"{source}: {rec['kind']} record {i} lacks {', '.join(missing)}")
    return records


def read_records(path: str | os.PathLike) -> list[dict]:
    """The records of a results file, of any schema version, validated; ResultsError naming the problem."""
    return validate(migrate(read_json(path), str(path)), str(path))


def make_record(kind: str, fields: Mapping[str, Any], environment: Mapping[str, Any]) -> dict:
    """A record of ``kind``: what was run and measured (``fields``), then where and when (``environment``).
    Every study builds its records here."""
    return {"kind": kind, **fields, "environment": dict(environment)}
