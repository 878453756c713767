"""How much of the NumPy reference forward is GEMM: ``python -m suite.gemm_breakdown``.
Times, at the fastrnns point, the forward's GEMMs alone (the input projection as run, and the recurrent
GEMMs) against the whole LSTM forward and a square GEMM, best of several calls each, in this process."""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable

import numpy as np

from impls.numpy_adapter import layer_forward
from suite.environment import environment


def best_ms(fn: Callable[[], object], calls: int = 7) -> float:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    b, t, i, h = 64, 100, 512, 512
    rng = np.random.default_rng(0)
    x = rng.standard_normal((b, t, i)).astype("float32")
    w_ih, w_hh = (rng.uniform(-0.04, 0.04, (4 * h, n)).astype("float32") for n in (i, h))
    bias = np.zeros(4 * h, "float32")
    h0 = np.zeros((b, h), "float32")
    out = np.empty((b, 4 * h), "float32")
    square = np.ones((2048, 2048), "float32")
    gemm_flops = 2.0 * t * b * 4 * h * i  # each of the two GEMM parts
    figures = {
        "projection_ms": best_ms(lambda: x.reshape(b * t, i) @ w_ih.T),  # as the reference runs it
        "recurrent_ms": best_ms(lambda: [np.matmul(h0, w_hh.T, out=out) for _ in range(t)]),
        "forward_ms": best_ms(lambda: layer_forward("lstm", x, (w_ih, w_hh, bias, bias), h0, h0.copy())),
        "square_2048_ms": best_ms(lambda: square @ square),
    }
    rates = {
        "projection_gflops": gemm_flops / figures["projection_ms"] / 1e6,
        "recurrent_gflops": gemm_flops / figures["recurrent_ms"] / 1e6,
        "forward_gflops": 2 * gemm_flops / figures["forward_ms"] / 1e6,
        "square_2048_gflops": 2 * 2048**3 / figures["square_2048_ms"] / 1e6,
    }
    for name, value in {**figures, **rates}.items():
        print(f"{name:>20}: {value:8.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {**figures, **rates, "environment": environment(len(os.sched_getaffinity(0)))},
                f,
                indent=1,
            )


if __name__ == "__main__":
    main()
