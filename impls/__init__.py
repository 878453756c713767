"""One adapter per framework behind one interface: ``impls.create(framework, cell, ...)``."""

from __future__ import annotations

import importlib
import importlib.util
import os

from impls.base import (
    Backend,
    DeviceUnavailableError,
    FrameworkNotInstalledError,
    RecurrentModel,
    State,
    check_choice,
)
from impls.layout import CELLS, DTYPES, param_shapes

FRAMEWORKS: tuple[str, ...] = ("numpy", "torch", "tensorflow", "jax")

# framework -> (adapter module, model class, the module that must be importable, pip extra)
_ADAPTERS: dict[str, tuple[str, str, str, str]] = {
    "numpy": ("impls.numpy_adapter", "NumpyModel", "numpy", ""),
    "torch": ("impls.torch_adapter", "TorchModel", "torch", "torch"),
    "tensorflow": ("impls.tensorflow_adapter", "TensorflowModel", "tensorflow", "tensorflow"),
    "jax": ("impls.jax_adapter", "JaxModel", "jax", "jax"),
}

__all__ = [
    "Backend",
    "CELLS",
    "DTYPES",
    "FRAMEWORKS",
    "DeviceUnavailableError",
    "FrameworkNotInstalledError",
    "RecurrentModel",
    "State",
    "backend",
    "available",
    "configure_threads",
    "create",
    "model_class",
    "param_shapes",
]


def available() -> tuple[str, ...]:
    """The frameworks whose package is installed here (checked without importing them)."""
    return tuple(f for f in FRAMEWORKS if importlib.util.find_spec(_ADAPTERS[f][2]) is not None)


def model_class(framework: str) -> type[RecurrentModel]:
    """The adapter class of ``framework``; a clear error if it is unknown or not installed."""
    check_choice("framework", framework, FRAMEWORKS)
    module, cls, package, extra = _ADAPTERS[framework]
    if importlib.util.find_spec(package) is None:
        raise FrameworkNotInstalledError(
            f"{framework} is not installed; install it with: pip install -e '.[{extra}]'"
        )
    return getattr(importlib.import_module(module), cls)


def backend(framework: str) -> Backend:
    """The adapter module of ``framework`` (importing the framework), which implements :class:`Backend`."""
    model_class(framework)  # the clear errors for unknown or missing frameworks
    module = importlib.import_module(_ADAPTERS[framework][0])
    if not isinstance(module, Backend):
        raise TypeError(
            f"{module.__name__} does not implement impls.Backend (set_threads, thread_info, matmul)"
        )
    return module


def configure_threads(framework: str, threads: int) -> dict[str, object]:
    """Pin this process to ``threads`` cores and size the framework's own pools to match. Call it in a
    fresh process, before the framework does any work. Returns what the framework then reports."""
    cores = sorted(os.sched_getaffinity(0))
    if not 1 <= threads <= len(cores):
        raise ValueError(f"threads must be between 1 and {len(cores)} (the cores this process may use)")
    os.sched_setaffinity(0, cores[:threads])
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    module = backend(framework)
    module.set_threads(threads)
    return {"cpu_affinity": threads, **module.thread_info()}


def create(
    framework: str,
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    dtype: str = "float32",
    device: str = "cpu",
    seed: int = 0,
) -> RecurrentModel:
    """A ``num_layers`` stack of ``cell`` in ``framework``, initialised from ``seed`` identically in
    every framework."""
    return model_class(framework)(cell, input_size, hidden_size, num_layers, dtype, device, seed)
