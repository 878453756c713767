"""Test only: the NumPy reference with an injected slowdown, for the evidence of the A/B gate.

``RNNBENCH_SLOWDOWN="lstm=1.10,gru=1.20"`` makes every prepared call of those cells take that factor of its
own time, by busy-waiting after it (so the extra time costs CPU, as slower code would). With
``RNNBENCH_SLOWDOWN_TREE`` set, only the copy built on that source tree's ``impls`` is slowed (an A/B
process holds both trees). Unset, it is the NumPy reference. The variables belong to this test package,
not to rnnbench."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from impls.numpy_adapter import NumpyModel


def factor(cell: str) -> float:
    """The slowdown asked for ``cell`` in this tree (1.0 when none is)."""
    tree = os.environ.get("RNNBENCH_SLOWDOWN_TREE")
    here = Path(sys.modules[NumpyModel.__module__].__file__).resolve().parents[1]
    if tree and Path(tree).resolve() != here:
        return 1.0
    for item in filter(None, os.environ.get("RNNBENCH_SLOWDOWN", "").split(",")):
        name, _, value = item.partition("=")
        if name.strip() == cell:
            return float(value)
    return 1.0


class SlowdownModel(NumpyModel):
    """The NumPy reference, slowed per cell by $RNNBENCH_SLOWDOWN (test only)."""

    framework = "numpy"
    devices = ("cpu",)

    def _stretch(self, fn: Callable[[], None]) -> Callable[[], None]:
        f = factor(self.cell)
        if f == 1.0:
            return fn

        def run() -> None:
            start = time.perf_counter()
            fn()
            until = start + (time.perf_counter() - start) * f
            while time.perf_counter() < until:
                pass

        return run

    def _prepare_forward(self, x, state):
        return self._stretch(super()._prepare_forward(x, state))

    def _prepare_train_step(self, x, grad_y, state, lr):
        return self._stretch(super()._prepare_train_step(x, grad_y, state, lr))
