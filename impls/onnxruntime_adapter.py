"""ONNX Runtime: the ``nn`` layer exported by ``torch.onnx``, run by its CPU execution provider."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnxruntime as ort

from impls.base import denormal_mode
from impls.exported import ExportedModel

_SETTINGS: dict[str, object] = {"threads": 0, "flush_denormals": False}  # 0: ONNX Runtime's default


def _session(model: bytes) -> ort.InferenceSession:
    """A CPU session with every graph optimisation, the thread count and the subnormal mode set here."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = int(_SETTINGS["threads"])
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if _SETTINGS["flush_denormals"]:
        options.add_session_config_entry("session.set_denormal_as_zero", "1")
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


class OnnxRuntimeModel(ExportedModel):
    """The exported stack in an ``onnxruntime.InferenceSession`` (CPU execution provider)."""

    framework = "onnxruntime"

    def _load(self, model: bytes) -> None:
        self.session = _session(model)

    def _infer(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self.session.run(None, inputs)

    def _runtime(self) -> str:
        return f"onnxruntime {ort.__version__} {self.session.get_providers()[0]}"


def set_threads(n: int) -> None:
    """Intra-op threads of every session created from now on (one inter-op thread: the graph is a chain)."""
    _SETTINGS["threads"] = n


def thread_info() -> dict[str, object]:
    return {"intra_op": _SETTINGS["threads"] or "default", "inter_op": 1}


def _one_node(op: str, inputs: list[str], shape: list, dtype: str = "float32") -> ort.InferenceSession:
    """A session running one ONNX node ``op`` on ``inputs`` of ``shape`` and ``dtype``."""
    from onnx import TensorProto, helper

    kind = {"float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE}[dtype]
    values = [helper.make_tensor_value_info(name, kind, shape) for name in sorted(set(inputs))]
    out = helper.make_tensor_value_info("out", kind, shape)
    graph = helper.make_graph([helper.make_node(op, inputs, ["out"])], op, values, [out])
    return _session(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())


def flush_denormals() -> str:
    """Sessions created from now on set ``session.set_denormal_as_zero``; what a session's float32
    multiply then does, measured."""
    _SETTINGS["flush_denormals"] = True
    session = _one_node("Mul", ["a", "b"], [None])
    return denormal_mode(lambda a, b: session.run(None, {"a": a, "b": b})[0])


def allow_tf32() -> str:
    return "nothing: rnnbench runs ONNX Runtime's CPU provider only"


def device_times(fn: Callable[[], object], rounds: int) -> dict[str, object]:
    return {"device_timing": "not available: ONNX Runtime runs on the CPU here"}


def deterministic() -> str:
    """Nothing to set: the CPU provider's RNN kernels run in one order (the check's repeats confirm it)."""
    return "nothing to set"


def matmul(n: int, dtype: str, device: str) -> Callable[[], None]:
    """An n x n MatMul node in a session (the provider's GEMM)."""
    session = _one_node("MatMul", ["a", "a"], [n, n], dtype)
    x = np.random.default_rng(0).random((n, n)).astype(dtype)
    return lambda: session.run(None, {"a": x})
