"""The registry of implementations: each one's name, framework, what it supports and how to install it.

The implementation, not the framework, is the unit: a framework can have several (PyTorch's ``nn`` layers,
the same cell under ``torch.compile``, ...). A framework's name is the name of its default implementation,
so ``torch`` means ``nn.LSTM`` and friends, as it always did. Third-party packages add implementations
through the entry-point group ``rnnbench.impls``: the entry point's name is the implementation's name, its
object a :class:`~impls.base.RecurrentModel` subclass that declares the same capabilities as class
attributes (``framework``, ``cells``, ``dtypes``, ``devices``, ``description``, ``extra``)."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import re
import warnings
from dataclasses import dataclass
from functools import cache

from impls.layout import CELLS, DTYPES, FULL_PRECISION, LOW_PRECISION

FRAMEWORKS: tuple[str, ...] = ("numpy", "torch", "tensorflow", "jax", "onnxruntime", "openvino")
DEVICES: tuple[str, ...] = ("cpu", "gpu")
ENTRY_POINT_GROUP = "rnnbench.impls"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")  # works on the command line and in file names


class ImplementationNotInstalledError(ImportError):
    """An implementation was asked for whose packages are not installed here."""


class UnsupportedError(ValueError):
    """An implementation was asked for a cell or dtype it does not declare."""


@dataclass(frozen=True)
class Implementation:
    """One implementation and what it declares about itself."""

    name: str
    framework: str
    target: str  # "module:Class", the RecurrentModel subclass
    requires: tuple[str, ...]  # importable packages it needs
    extra: str  # what installs them: a pip extra of rnnbench, or a package for a plugin
    description: str
    cells: tuple[str, ...] = CELLS
    dtypes: tuple[str, ...] = FULL_PRECISION
    devices: tuple[str, ...] = DEVICES
    variant: int = 0  # 0 for a framework's default; picks its marker and hatch in plots (hue: framework)
    plugin: str = ""  # the distribution that registered it (plugins only)
    # whether several runs train together in one compiled step (RecurrentModel.train_together fuses them)
    trains_together: bool = False
    # whether it takes sequences of different lengths in one batch (RecurrentModel.takes_lengths)
    takes_lengths: bool = True
    # whether it builds both directions, ``bidirectional=True`` (RecurrentModel.takes_bidirectional)
    takes_bidirectional: bool = False
    # gradients and training (RecurrentModel.differentiable): False for an inference runtime
    differentiable: bool = True
    # mixed precision (RecurrentModel.computes_in): the dtype the arithmetic runs in, float32 in and out
    computes_in: str = ""
    # the implementation a mixed-precision one runs under its policy (what it is compared against)
    policy_of: str = ""

    def installed(self) -> bool:
        """Whether every package it needs can be imported (checked without importing them)."""
        return all(importlib.util.find_spec(p) is not None for p in self.requires)

    def install_hint(self) -> str:
        if self.plugin:
            return f"pip install {self.plugin}"
        return f"pip install -e '.[{self.extra}]'"

    def unsupported(self, cell: str, dtype: str, device: str) -> tuple[str, str] | None:
        """None if it supports the combination, else (what, the reason it does not)."""
        for kind, value, have in (
            ("cell", cell, self.cells),
            ("dtype", dtype, self.dtypes),
            ("device", device, self.devices),
        ):
            if value not in have:
                return kind, f"{self.name} does not support {kind} {value!r}; it supports {', '.join(have)}"
        return None


_BUILTIN = (
    Implementation(
        "numpy",
        "numpy",
        "impls.numpy_adapter:NumpyModel",
        ("numpy",),
        "",
        "the reference: input projection in one matmul, hand-written backward through time",
        devices=("cpu",),
        takes_bidirectional=True,
    ),
    Implementation(
        "numpy-cupy",
        "numpy",
        "impls.cupy_adapter:CupyModel",
        ("numpy", "cupy"),
        "cupy",
        "the NumPy reference's own code on the GPU, with CuPy as its array module (cuBLAS GEMMs)",
        devices=("gpu",),
        variant=1,
        takes_bidirectional=True,
    ),
    Implementation(
        "torch",
        "torch",
        "impls.torch_adapter:TorchModel",
        ("torch",),
        "torch",
        "nn.RNN / nn.LSTM / nn.GRU (oneDNN or ATen on the CPU, cuDNN on the GPU)",
        dtypes=DTYPES,
        takes_bidirectional=True,
    ),
    Implementation(
        "torch-cells",
        "torch",
        "impls.torch_adapter:TorchCellsModel",
        ("torch",),
        "torch",
        "an eager Python loop over nn.RNNCell / LSTMCell / GRUCell (fastrnns' baseline)",
        variant=1,
    ),
    Implementation(
        "torch-compile",
        "torch",
        "impls.torch_adapter:TorchCompiledModel",
        ("torch",),
        "torch",
        "the cell in PyTorch ops, its step compiled by torch.compile (inductor; needs a C++ compiler on CPU)",
        variant=2,
    ),
    Implementation(
        "tensorflow",
        "tensorflow",
        "impls.tensorflow_adapter:TensorflowModel",
        ("tensorflow", "keras"),
        "tensorflow",
        "Keras 3 SimpleRNN / LSTM / GRU(reset_after=True) inside tf.function",
        takes_bidirectional=True,
    ),
    Implementation(
        "torch-autocast",
        "torch",
        "impls.torch_adapter:TorchAutocastModel",
        ("torch",),
        "torch",
        "the nn layers under torch.autocast(bfloat16): float32 weights, inputs and outputs, PyTorch's "
        "mixed precision (nn.RNN and nn.LSTM run whole in bfloat16; nn.GRU is not on its list, but ATen's "
        "GRU runs its gate GEMMs in bfloat16 and keeps its state in float32)",
        dtypes=("float32",),
        variant=5,
        takes_bidirectional=True,
        computes_in="bfloat16",
        policy_of="torch",
    ),
    Implementation(
        "tensorflow-mixed",
        "tensorflow",
        "impls.tensorflow_adapter:TensorflowMixedModel",
        ("tensorflow", "keras"),
        "tensorflow",
        "the Keras layers under the mixed_bfloat16 dtype policy: float32 variables, bfloat16 arithmetic",
        dtypes=("float32",),
        variant=2,
        takes_bidirectional=True,
        computes_in="bfloat16",
        policy_of="tensorflow",
    ),
    Implementation(
        "tensorflow-xla",
        "tensorflow",
        "impls.tensorflow_adapter:TensorflowXlaModel",
        ("tensorflow", "keras"),
        "tensorflow",
        "the same Keras layers inside tf.function(jit_compile=True): XLA",
        variant=1,
        takes_bidirectional=True,
    ),
    Implementation(
        "jax",
        "jax",
        "impls.jax_adapter:JaxModel",
        ("jax",),
        "jax",
        "lax.scan under jit, the input projection in the step on the CPU, hoisted out of the scan on the GPU",
        dtypes=DTYPES,
        trains_together=True,
        takes_bidirectional=True,
    ),
    Implementation(
        "jax-unroll",
        "jax",
        "impls.jax_adapter:JaxUnrolledModel",
        ("jax",),
        "jax",
        "the same scan unrolled (steps per iteration chosen by measurement); GPU only: on the CPU it slowed "
        "gradients 1.3-6x and helped nothing but one forward by 8 %",
        devices=("gpu",),
        variant=1,
        trains_together=True,
        takes_bidirectional=True,
    ),
    Implementation(
        "jax-flax",
        "jax",
        "impls.flax_adapter:FlaxModel",
        ("jax", "flax"),
        "flax",
        "flax.linen.RNN over flax's SimpleCell / OptimizedLSTMCell / GRUCell",
        variant=2,
        trains_together=True,
        takes_bidirectional=True,
    ),
    Implementation(
        "jax-flax-mixed",
        "jax",
        "impls.flax_adapter:FlaxMixedModel",
        ("jax", "flax"),
        "flax",
        "flax's cells with dtype=bfloat16, param_dtype=float32: float32 weights, bfloat16 arithmetic "
        "and carry",
        dtypes=("float32",),
        variant=6,
        trains_together=True,
        takes_bidirectional=True,
        computes_in="bfloat16",
        policy_of="jax-flax",
    ),
    Implementation(
        "jax-hoisted",
        "jax",
        "impls.jax_adapter:JaxHoistedModel",
        ("jax",),
        "jax",
        "the same scan with the input projection hoisted out of it on every device",
        variant=3,
        trains_together=True,
        takes_bidirectional=True,
    ),
    Implementation(
        "jax-in-step",
        "jax",
        "impls.jax_adapter:JaxInStepModel",
        ("jax",),
        "jax",
        "the same scan with the input projection in the step, a matmul per gate, on every device",
        variant=4,
        trains_together=True,
        takes_bidirectional=True,
    ),
    Implementation(
        "torch-cudagraph",
        "torch",
        "impls.torch_adapter:TorchGraphModel",
        ("torch",),
        "torch",
        "nn.RNN / nn.LSTM / nn.GRU with each whole call captured once as a CUDA graph and replayed (GPU)",
        devices=("gpu",),
        variant=4,
        takes_lengths=False,
    ),
    Implementation(
        "jax-cudnn",
        "jax",
        "impls.jax_cudnn_adapter:JaxCudnnModel",
        ("jax",),
        "jax",
        "jax.experimental.rnn.lstm: cuDNN's fused LSTM, as Keras's JAX backend uses it (GPU, LSTM, float32)",
        cells=("lstm",),
        dtypes=("float32",),
        devices=("gpu",),
        variant=5,
        takes_lengths=False,
    ),
    Implementation(
        "numpy-in-step",
        "numpy",
        "impls.numpy_adapter:NumpyInStepModel",
        ("numpy",),
        "",
        "the reference with the input projection in the loop, a GEMM per step (against the hoisted one)",
        devices=("cpu",),
        variant=2,
        takes_bidirectional=True,
    ),
    Implementation(
        "torch-hoisted-loop",
        "torch",
        "impls.torch_adapter:TorchHoistedLoopModel",
        ("torch",),
        "torch",
        "an eager loop, the input projection in one matmul before it (torch-cells projects in each step)",
        variant=3,
    ),
    Implementation(
        "onnxruntime",
        "onnxruntime",
        "impls.onnxruntime_adapter:OnnxRuntimeModel",
        ("onnxruntime", "onnx", "torch"),
        "onnx",
        "the nn layer exported by torch.onnx (a fused ONNX RNN / LSTM / GRU node per layer), run by ONNX "
        "Runtime's CPU provider: forward and step only",
        dtypes=("float32",),
        devices=("cpu",),
        takes_lengths=False,
        takes_bidirectional=True,
        differentiable=False,
    ),
    Implementation(
        "openvino",
        "openvino",
        "impls.openvino_adapter:OpenVinoModel",
        ("openvino", "onnx", "torch"),
        "openvino",
        "the same ONNX export read and compiled by OpenVINO's CPU plugin (float32 pinned): forward and step "
        "only",
        dtypes=("float32",),
        devices=("cpu",),
        takes_lengths=False,
        takes_bidirectional=True,
        differentiable=False,
    ),
    Implementation(
        "openvino-bf16",
        "openvino",
        "impls.openvino_adapter:OpenVinoBf16Model",
        ("openvino", "onnx", "torch"),
        "openvino",
        "the same export compiled with INFERENCE_PRECISION_HINT=bf16, OpenVINO's default on a CPU with bf16 "
        "units: float32 in and out, bfloat16 inside; forward and step only",
        takes_lengths=False,
        dtypes=("float32",),
        devices=("cpu",),
        variant=1,
        takes_bidirectional=True,
        differentiable=False,
        computes_in="bfloat16",
        policy_of="openvino",
    ),
)


def _from_entry_point(ep: importlib.metadata.EntryPoint, taken: set[str]) -> Implementation | None:
    """An Implementation for a plugin's entry point, or None with a warning naming what is wrong."""
    from impls.base import RecurrentModel

    where = f"plugin entry point {ep.name!r} ({ep.value}) in group {ENTRY_POINT_GROUP!r}"
    if not _NAME.match(ep.name):
        warnings.warn(f"{where}: the name must be lower-case letters, digits, '-' or '_'", stacklevel=3)
        return None
    if ep.name in taken:
        warnings.warn(f"{where}: the name {ep.name!r} is already taken; plugin ignored", stacklevel=3)
        return None
    try:
        cls = ep.load()
    except Exception as e:
        warnings.warn(f"{where} failed to import: {type(e).__name__}: {e}", stacklevel=3)
        return None
    if not (isinstance(cls, type) and issubclass(cls, RecurrentModel)):
        warnings.warn(f"{where}: {ep.value} is not a RecurrentModel subclass; plugin ignored", stacklevel=3)
        return None
    try:
        impl = Implementation(
            name=ep.name,
            framework=str(cls.framework),
            target=f"{cls.__module__}:{cls.__qualname__}",
            requires=(cls.__module__.split(".")[0],),
            extra=ep.dist.name if ep.dist else ep.name,
            description=str(getattr(cls, "description", "") or cls.__doc__ or "").strip().split("\n")[0],
            cells=tuple(getattr(cls, "cells", CELLS)),
            dtypes=tuple(getattr(cls, "dtypes", FULL_PRECISION)),
            devices=tuple(getattr(cls, "devices", ("cpu",))),
            variant=1,
            plugin=ep.dist.name if ep.dist else ep.name,
            takes_lengths=getattr(cls, "takes_lengths", False) is True,  # a property decides per model: no
            takes_bidirectional=getattr(cls, "takes_bidirectional", False) is True,
            differentiable=getattr(cls, "differentiable", True) is not False,
            computes_in=str(getattr(cls, "computes_in", "") or ""),
        )
    except Exception as e:
        warnings.warn(f"{where}: bad declared capabilities: {e}", stacklevel=3)
        return None
    bad = [c for c in impl.cells if c not in CELLS] + [d for d in impl.dtypes if d not in DTYPES]
    bad += [impl.computes_in] if impl.computes_in and impl.computes_in not in LOW_PRECISION else []
    bad += [d for d in impl.devices if d not in DEVICES]
    if not impl.framework or bad:
        warnings.warn(f"{where}: declares no framework or unknown cells/dtypes/devices {bad}", stacklevel=3)
        return None
    return impl


@cache
def registry() -> dict[str, Implementation]:
    """Every implementation known here, built-in first, then plugins (installed or not)."""
    found = {impl.name: impl for impl in _BUILTIN}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        impl = _from_entry_point(ep, set(found))
        if impl is not None:
            found[impl.name] = impl
    return found


def names() -> tuple[str, ...]:
    return tuple(registry())


def get(name: str) -> Implementation:
    """The implementation called ``name``; ValueError naming the choices when there is none."""
    found = registry()
    if name not in found:
        raise ValueError(f"unknown implementation {name!r}; choose one of {', '.join(found)}")
    return found[name]


def find(name: str) -> Implementation | None:
    """The implementation called ``name``, or None (a record's plugin that is not installed here)."""
    return registry().get(name)


def available() -> tuple[str, ...]:
    """The implementations whose packages are installed here."""
    return tuple(name for name, impl in registry().items() if impl.installed())


def of_framework(framework: str) -> tuple[str, ...]:
    """Every implementation of ``framework``, the default first."""
    return tuple(n for n, impl in registry().items() if impl.framework == framework)


def load(name: str) -> type:
    """The model class of ``name``, imported; a clear error when it is unknown or not installed."""
    impl = get(name)
    if not impl.installed():
        missing = [p for p in impl.requires if importlib.util.find_spec(p) is None]
        raise ImplementationNotInstalledError(
            f"{name} needs {', '.join(missing)}, which is not installed; "
            f"install it with: {impl.install_hint()}"
        )
    module, _, cls = impl.target.partition(":")
    return getattr(importlib.import_module(module), cls)
