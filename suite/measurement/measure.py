"""Measurements taken inside one worker process: timing, phase peak memory, GEMM calibration.
:func:`speed` and :func:`memory` are what the harness runs for each speed or memory job."""

from __future__ import annotations

import functools
import gc
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import impls
from suite.measurement import stability
from suite.measurement.workloads import (
    DETERMINISTIC_MODES,
    LAST_STEP_MODES,
    STREAM_MODES,
    STREAM_RATE,
    Workload,
    analytic_bytes,
    draw_lengths,
    flops,
)

EXTEND = 3  # an unstable timing goes on for up to this many times its rounds and budget


def timed_rounds(
    fn: Callable[[], object], min_rounds: int, max_rounds: int, budget_s: float, extend: bool = True
) -> tuple[float, list[float]]:
    """(first-call seconds, per-round seconds). The first call (tracing, compilation) and one more
    warm-up call are kept out of the rounds; the garbage collector is off while timing. A timing that is
    unstable at the end of its budget (:mod:`suite.stability`) takes more rounds, up to ``EXTEND`` times
    its rounds and budget, before it is given up as unstable (unless not to ``extend``)."""
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    fn()
    samples: list[float] = []
    gc.collect()
    gc.disable()
    try:
        began = time.perf_counter()
        while len(samples) < max_rounds and (
            len(samples) < min_rounds or time.perf_counter() - began < budget_s
        ):
            t = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t)
        while (
            extend
            and stability.assess(samples)["unstable"]
            and len(samples) < EXTEND * max_rounds
            and time.perf_counter() - began < EXTEND * budget_s
        ):
            t = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t)
    finally:
        gc.enable()
    return first, samples


def summary(samples: list[float]) -> dict[str, float]:
    """Median and interquartile range of the rounds."""
    q = statistics.quantiles(samples, n=4, method="inclusive") if len(samples) > 1 else samples * 3
    return {"median_s": statistics.median(samples), "iqr_s": q[2] - q[0], "min_s": min(samples)}


def inputs(w: Workload) -> tuple[np.ndarray, np.ndarray]:
    """Seeded input and output cotangent for a workload: over every step, or for a loss on the last step
    only (LAST_STEP_MODES) at the last step alone."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((w.batch, w.seq_len, w.input_size)).astype(w.dtype)
    width = (2 if w.bidirectional else 1) * w.hidden_size
    grad_y = rng.standard_normal((w.batch, w.seq_len, width)).astype(w.dtype) / w.seq_len
    if w.mode in LAST_STEP_MODES:
        grad_y[:, :-1] = 0
        grad_y[:, -1] *= w.seq_len
    return x, grad_y


def lengths_of(w: Workload) -> np.ndarray | None:
    """The workload's sequence lengths (seeded: the same in every process), None when all run to T."""
    return draw_lengths(w.lengths, w.batch, w.seq_len) if w.lengths else None


def prepare(w: Workload) -> tuple[impls.RecurrentModel, Callable[[], object]]:
    """The model and its prepared native step for the workload's mode."""
    model = impls.create(
        w.implementation,
        w.cell,
        w.input_size,
        w.hidden_size,
        w.num_layers,
        w.dtype,
        w.device,
        bidirectional=w.bidirectional,
    )
    x, grad_y = inputs(w)
    if w.mode in STREAM_MODES:
        return model, stepper(model, x)
    if w.lengths:
        if w.mode != "forward":
            raise ValueError("sequences of different lengths are timed forward only")
        return model, model.prepare_forward(x, lengths_of(w))
    if w.mode == "forward":
        return model, model.prepare_forward(x)
    return model, model.prepare_train_step(x, grad_y)


def stepper(model: impls.RecurrentModel, x: np.ndarray) -> Callable[[], object]:
    """A function running the next time step of ``x`` through ``model.step`` (NumPy in and out, as a
    stream from the host does), the state carried from call to call, from the first step again at the end."""
    steps = [np.ascontiguousarray(x[:, t]) for t in range(x.shape[1])]
    carried: dict = {"t": 0, "state": None}

    def step() -> object:
        y, carried["state"] = model.step(steps[carried["t"] % len(steps)], carried["state"])
        carried["t"] += 1
        return y

    return step


def stream(w: Workload) -> dict:
    """A streaming job: its cold start (creating the model and its first step, compilation included) and
    each of ``w.seq_len`` further steps timed on its own: p50, p99 and the real-time factor at
    ``STREAM_RATE`` steps per second (time per step over the time between steps; below 1 keeps up)."""
    impls.model_class(w.implementation)  # the framework imported: not part of a model's cold start
    started = time.perf_counter()
    model, fn = prepare(w)
    fn()
    cold = time.perf_counter() - started
    first, samples = timed_rounds(fn, w.seq_len, w.seq_len, 0.0, extend=False)
    q = statistics.quantiles(samples, n=100, method="inclusive")
    p50, p99 = statistics.median(samples), q[98]
    return {
        "path": model.path(),
        "flops": flops(w),
        "cold_start_s": cold,
        "first_call_s": first,
        "rounds": len(samples),
        **summary(samples),
        "p99_s": p99,
        "max_s": max(samples),
        "real_time_factor": p50 * STREAM_RATE,
        "real_time_factor_p99": p99 * STREAM_RATE,
        "stream_rate": STREAM_RATE,
        **stability.assess_latencies(samples),
    }


def speed(job: dict, min_rounds: int, max_rounds: int, budget_s: float) -> dict:
    """Time one workload (a Workload's fields); with this process's GEMM calibration beside it."""
    w = Workload(**job)
    if w.mode in STREAM_MODES:
        return {**stream(w), "gemm_gflops": gemm_gflops(w.framework, w.dtype, w.device)}
    denormals = {}
    if w.mode == "train_last_flushed":  # before the framework starts its thread pools
        backend = impls.backend(w.implementation)
        denormals["denormals"] = backend.flush_denormals() if backend is not None else "unknown"
    if w.mode in DETERMINISTIC_MODES:  # before the framework does any work
        backend = impls.backend(w.implementation)
        denormals["deterministic"] = backend.deterministic() if backend is not None else "unknown"
    gemm = gemm_gflops(w.framework, w.dtype, w.device)  # the first job of a process calibrates, untimed
    model, fn = prepare(w)
    first, samples = timed_rounds(fn, min_rounds, max_rounds, budget_s)
    stats = summary(samples)
    judged = stability.assess(samples)
    n_flops = flops(w)
    on_device = (
        gpu_timing(impls.backend(w.implementation), fn, min(len(samples), GPU_ROUNDS))
        if w.device == "gpu"
        else {}
    )
    padding, lengths = {}, lengths_of(w)
    if lengths is not None:
        padding = {"padding_share": 1 - float(lengths.sum()) / (w.batch * w.seq_len)}
    return {
        "path": model.path(lengths),
        "flops": n_flops,
        **padding,
        "first_call_s": first,
        "compile_seconds": max(first - stats["median_s"], 0.0),
        "rounds": len(samples),
        "samples": samples,
        **stats,
        **judged,
        "gemm_gflops": gemm,
        **denormals,
        **on_device,
    }


GPU_ROUNDS = 20  # calls timed again on the device, after the wall-clock rounds


def gpu_timing(backend, fn: Callable[[], object], rounds: int) -> dict:
    """A GPU job's device-side timing beside its wall-clock rounds (``impls.base.Backend.device_times``):
    what the framework can measure, or why not; the wall-clock rounds ran back to back on the same tensors,
    so with the L2 cache warm."""
    out: dict = {"l2": "warm: rounds back to back on the same tensors"}
    if backend is None:
        return {**out, "device_timing": "no backend for this framework"}
    try:
        return {**out, **backend.device_times(fn, rounds)}
    except Exception as e:  # a timing that fails must not lose the job's wall-clock timing
        return {**out, "device_timing": f"failed: {type(e).__name__}: {e}"}


def _status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def memory(job: dict) -> dict:
    """Peak memory of one call of the measured phase, after a warm-up call. CPU: the rise of the
    resident set's high-water mark (VmHWM, reset through /proc/self/clear_refs) over the resident set
    before the phase; the first call's rise (tracing and compilation included) is kept beside it,
    since an allocator that keeps memory from the warm-up hides part of the phase. GPU: the
    framework allocator's peak."""
    w = Workload(**job)
    model, fn = prepare(w)
    gc.collect()
    first = None
    if w.device == "cpu":
        before_first = _reset_peak()
        fn()
        first = _status_bytes("VmHWM") - before_first
    else:
        fn()  # tracing and compilation are not part of the phase
    gc.collect()
    if w.device == "gpu":
        model.reset_device_peak()
        fn()
        peak, before, method = model.device_peak_bytes(), None, "allocator peak"
    else:
        before = _reset_peak()
        fn()
        peak, method = _status_bytes("VmHWM") - before, "VmHWM - VmRSS"
    return {
        "path": model.path(lengths_of(w)),
        "peak_bytes": peak,
        "first_call_peak_bytes": first,
        "analytic_bytes": analytic_bytes(w),
        "rss_before_bytes": before,
        "memory_method": method,
    }


def _reset_peak() -> int:
    """Reset the high-water mark to the current resident set; return that resident set."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_bytes("VmRSS")


@functools.cache
def gemm_gflops(
    framework: str, dtype: str, device: str, sizes: tuple[int, ...] = (1024, 2048)
) -> float | None:
    """The framework's best square GEMM rate (GFLOP/s), best of several calls at each size; measured
    once per process. None for a plugin's framework, which has no backend here."""
    module = impls.backend(framework)
    if module is None:
        return None
    best = 0.0
    for n in sizes:
        fn = module.matmul(n, dtype, device)
        fn()
        t = min(_once(fn) for _ in range(5))
        best = max(best, 2.0 * n**3 / t / 1e9)
    return best


def _once(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t
