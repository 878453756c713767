"""The NumPy reference on a GPU: the same code (:mod:`impls.numpy_adapter`) with CuPy as its array module.

CuPy follows NumPy's API, so this runs the reference's own forward and hand-written backward with cuBLAS
GEMMs and CuPy's elementwise kernels: the speed of the reference's formulation on the GPU, against which
cuDNN and XLA can be read."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import cupy
import numpy as np

from impls.base import DeviceUnavailableError
from impls.numpy_adapter import NumpyModel


def gpu_count() -> int:
    """The CUDA devices CuPy sees (0 without a driver or a device)."""
    try:
        return int(cupy.cuda.runtime.getDeviceCount())
    except cupy.cuda.runtime.CUDARuntimeError:
        return 0


class CupyModel(NumpyModel):
    """The NumPy reference's code, run by CuPy on the GPU."""

    xp = cupy

    def _build(self) -> None:
        if self.device != "gpu":
            raise DeviceUnavailableError("numpy-cupy runs on the GPU only (the CPU one is numpy)")
        if gpu_count() == 0:
            raise DeviceUnavailableError("CuPy sees no CUDA GPU (cupy.cuda.runtime.getDeviceCount() is 0)")
        self._params = {}

    def _to_device(self, a: Any) -> Any:
        return cupy.asarray(a)

    def _to_host(self, a: Any) -> np.ndarray:
        return cupy.asnumpy(a)

    def _sync(self) -> None:
        cupy.cuda.Device().synchronize()

    def _path(self) -> str:
        return "cupy:cuda"

    def reset_device_peak(self) -> None:
        """Return every unused block of CuPy's memory pool to the driver, so that what the pool holds
        from here on is what the run needs."""
        self._sync()
        cupy.get_default_memory_pool().free_all_blocks()

    def device_peak_bytes(self) -> int:
        """The bytes CuPy's memory pool holds. The pool keeps every block it allocated (reusing freed
        ones), so after a run this is its high-water mark: the run's peak, rounded up to the pool's
        512-byte bins."""
        self._sync()
        return int(cupy.get_default_memory_pool().total_bytes())


def matmul(n: int, dtype: str) -> Callable[[], None]:
    """A synchronised n x n GEMM on the GPU (cuBLAS through CuPy)."""
    a = cupy.asarray(np.random.default_rng(0).random((n, n)).astype(dtype))
    device = cupy.cuda.Device()

    def run() -> None:
        a @ a
        device.synchronize()

    return run


def device_times(fn: Callable[[], None], rounds: int) -> dict[str, object]:
    """CUDA events around each call (CuPy's), and the wall time with the L2 cache flushed before each; no
    kernel time (CuPy has no profiler summary)."""
    events = [(cupy.cuda.Event(), cupy.cuda.Event()) for _ in range(rounds)]
    for start, end in events:
        start.record()
        fn()
        end.record()
    events[-1][1].synchronize()
    l2 = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)["l2CacheSize"]
    scratch = cupy.empty(2 * l2 // 4 + 1, dtype=cupy.float32)
    cold = []
    for _ in range(rounds):
        scratch.fill(0)
        cupy.cuda.Device().synchronize()
        t = time.perf_counter()
        fn()
        cold.append(time.perf_counter() - t)
    return {
        "event_median_s": statistics.median(cupy.cuda.get_elapsed_time(s, e) / 1e3 for s, e in events),
        "cold_l2_median_s": statistics.median(cold),
        "l2_bytes": int(l2),
    }
