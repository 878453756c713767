"""OpenVINO: the ``nn`` layer exported by ``torch.onnx``, read by OpenVINO's ONNX frontend and compiled for
its CPU plugin in float32, or in bfloat16 (its default precision hint on a CPU with bf16 units) as
``openvino-bf16``."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import openvino as ov

from impls.base import denormal_mode
from impls.exported import ExportedModel
from impls.registry import UnsupportedError

_CORE = ov.Core()
_SETTINGS: dict[str, object] = {"PERFORMANCE_HINT": "LATENCY"}
_HINTS = {"float32": "f32", "bfloat16": "bf16"}  # INFERENCE_PRECISION_HINT per precision


def _compiled(model: ov.Model, precision: str = "f32") -> ov.CompiledModel:
    return _CORE.compile_model(model, "CPU", {**_SETTINGS, "INFERENCE_PRECISION_HINT": precision})


class OpenVinoModel(ExportedModel):
    """The exported stack compiled by OpenVINO for its CPU plugin, run through one reused infer request."""

    framework = "openvino"

    def _load(self, model: bytes) -> None:
        self.compiled = _compiled(ov.convert_model(io.BytesIO(model)), _HINTS[self.computes_in or "float32"])
        if self.computes_in:
            ran = {precision for kind, precision in self.runtime_layers() if "RNN" in kind}
            if ran != {_HINTS[self.computes_in]}:
                raise UnsupportedError(
                    f"OpenVINO's CPU plugin runs the RNN layers in {', '.join(sorted(ran))} here, not "
                    f"{self.computes_in} (a CPU without {self.computes_in} units)"
                )
        self.request = self.compiled.create_infer_request()
        self.outputs = [o.get_any_name() for o in self.compiled.outputs]

    def _infer(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        results = self.request.infer(inputs)
        return [np.array(results[name]) for name in self.outputs]  # copies: the request reuses its buffers

    def _runtime(self) -> str:
        kinds = sorted({f"{kind} {precision}" for kind, precision in self.runtime_layers() if "RNN" in kind})
        return f"openvino {ov.__version__.split('-')[0]} CPU ({', '.join(kinds) or 'no RNN node'})"

    def runtime_layers(self) -> list[tuple[str, str]]:
        """(layer type, precision it runs in) of each compiled layer, e.g. ``("RNNSeq", "f32")``."""
        layers = []
        for op in self.compiled.get_runtime_model().get_ordered_ops():
            info = op.get_rt_info()
            layers.append((info["layerType"].astype(str), info["runtimePrecision"].astype(str)))
        return layers


class OpenVinoBf16Model(OpenVinoModel):
    """The same, compiled with ``INFERENCE_PRECISION_HINT=bf16``: OpenVINO's default on a CPU with bf16 units
    (float32 in and out, bfloat16 inside)."""

    computes_in = "bfloat16"


def set_threads(n: int) -> None:
    """Threads of every model compiled from now on."""
    _SETTINGS["INFERENCE_NUM_THREADS"] = n


def thread_info() -> dict[str, object]:
    return {"inference_num_threads": _SETTINGS.get("INFERENCE_NUM_THREADS", "default")}


def _one_node(op: Callable, shape: list, dtype: str = "float32", inputs: int = 2) -> ov.InferRequest:
    params = [ov.opset13.parameter(shape, np.dtype(dtype)) for _ in range(inputs)]
    node = op(*(params if inputs > 1 else params * 2))
    return _compiled(ov.Model([node], params)).create_infer_request()


def flush_denormals() -> str:
    """Models compiled from now on set ``CPU_DENORMALS_OPTIMIZATION``; what their float32 multiply then does,
    measured."""
    _SETTINGS["CPU_DENORMALS_OPTIMIZATION"] = True
    request = _one_node(ov.opset13.multiply, [2])
    return denormal_mode(lambda a, b: request.infer([a, b])[0])


def allow_tf32() -> str:
    return "nothing: rnnbench runs OpenVINO's CPU plugin only"


def device_times(fn: Callable[[], object], rounds: int) -> dict[str, object]:
    return {"device_timing": "not available: OpenVINO runs on the CPU here"}


def deterministic() -> str:
    """Nothing to set: float32 is pinned (``INFERENCE_PRECISION_HINT``), the kernels run in one order."""
    return "nothing to set"


def matmul(n: int, dtype: str, device: str) -> Callable[[], None]:
    """An n x n MatMul compiled for the CPU plugin (f32 precision hint)."""
    request = _one_node(lambda a, b: ov.opset13.matmul(a, b, False, False), [n, n], dtype, inputs=1)
    x = np.random.default_rng(0).random((n, n)).astype(dtype)
    return lambda: request.infer([x])
