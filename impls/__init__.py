"""Implementations of RNN, LSTM and GRU behind one interface: ``impls.create(name, cell, ...)``, where
``name`` is an implementation (``impls.available()``; a framework's name means its default one)."""

from __future__ import annotations

import importlib
import os

from impls.base import (
    Backend,
    DeviceUnavailableError,
    RecurrentModel,
    State,
)
from impls.layout import CELLS, DTYPES, INITS, check_init, init_params, param_shapes
from impls.registry import (
    DEVICES,
    FRAMEWORKS,
    Implementation,
    ImplementationNotInstalledError,
    UnsupportedError,
    available,
    get,
    names,
    of_framework,
)

FrameworkNotInstalledError = ImplementationNotInstalledError  # the name this error had before variants

__all__ = [
    "Backend",
    "CELLS",
    "DTYPES",
    "FRAMEWORKS",
    "INITS",
    "DeviceUnavailableError",
    "FrameworkNotInstalledError",
    "Implementation",
    "ImplementationNotInstalledError",
    "RecurrentModel",
    "State",
    "UnsupportedError",
    "available",
    "backend",
    "configure_threads",
    "create",
    "get",
    "model_class",
    "names",
    "of_framework",
    "param_shapes",
]


def model_class(name: str) -> type[RecurrentModel]:
    """The model class of implementation ``name``; a clear error if it is unknown or not installed."""
    from impls import registry

    return registry.load(name)


def backend(name: str) -> Backend | None:
    """The backend module (thread pools, GEMM calibration) of the framework of implementation ``name``,
    imported; None for a plugin's framework that rnnbench has no backend for."""
    framework = get(name).framework
    if framework not in FRAMEWORKS:
        return None
    model_class(framework)  # the clear errors for a framework that is not installed
    module = importlib.import_module(get(framework).target.partition(":")[0])
    if not isinstance(module, Backend):
        raise TypeError(f"{module.__name__} does not implement impls.Backend")
    return module


def configure_threads(name: str, threads: int, cores: list[int] | None = None) -> dict[str, object]:
    """Pin this process to ``cores`` (default: the first ``threads`` it may use) and size the framework's
    own pools to match. Call it in a fresh process, before the framework does any work. Returns what the
    framework then reports."""
    allowed = sorted(os.sched_getaffinity(0))
    if not 1 <= threads <= len(allowed):
        raise ValueError(f"threads must be between 1 and {len(allowed)} (the cores this process may use)")
    if cores is not None and (len(cores) != threads or not set(cores) <= set(allowed)):
        raise ValueError(f"cores {cores} are not {threads} of the cores this process may use, {allowed}")
    module = backend(name)
    os.sched_setaffinity(0, cores if cores is not None else allowed[:threads])
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    if module is None:
        return {"cpu_affinity": threads}
    module.set_threads(threads)
    return {"cpu_affinity": threads, **module.thread_info()}


def create(
    name: str,
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    dtype: str = "float32",
    device: str = "cpu",
    seed: int = 0,
    init: str = "default",
    t_max: int | None = None,
    bidirectional: bool = False,
) -> RecurrentModel:
    """A ``num_layers`` stack of ``cell`` in implementation ``name`` (both directions with
    ``bidirectional``), initialised from ``seed`` (and ``init``, ``t_max``: impls.layout.init_params)
    identically everywhere. A cell, dtype or direction the implementation does not declare raises
    UnsupportedError, a device it does not declare (or cannot see) DeviceUnavailableError."""
    impl = get(name)
    cls = model_class(name)
    if cell in CELLS and dtype in DTYPES and device in DEVICES:
        refused = impl.unsupported(cell, dtype, device)
        if refused:
            raise (DeviceUnavailableError if refused[0] == "device" else UnsupportedError)(refused[1])
    check_init(cell, init, t_max)  # before a framework builds anything
    if bidirectional is True and not impl.takes_bidirectional:
        raise UnsupportedError(f"{name} is not bidirectional; bidirectional implementations: {_both()}")
    model = cls(cell, input_size, hidden_size, num_layers, dtype, device, seed, bidirectional=bidirectional)
    if init != "default":
        model.set_params(
            init_params(cell, input_size, hidden_size, num_layers, dtype, seed, init, t_max, bidirectional)
        )
    model.implementation = name
    model.init, model.t_max = init, t_max
    return model


def _both() -> str:
    return ", ".join(n for n in names() if get(n).takes_bidirectional)
