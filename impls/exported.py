"""What the deployment runtimes (ONNX Runtime, OpenVINO) share: the canonical stack built as PyTorch's ``nn``
layer, exported to ONNX by ``torch.onnx`` and run forward, whole sequences or one step at a time, by a
runtime. Inference only: a runtime declares no gradients and no training."""

from __future__ import annotations

import collections
import io
import warnings
from abc import abstractmethod
from collections.abc import Callable

import numpy as np
import torch  # the exporter: imported with the runtime, so that a model's cold start is export + compile

from impls.base import RecurrentModel, State
from impls.registry import UnsupportedError
from impls.training import TrainConfig, Trainer

# the legacy (TorchScript) exporter: one fused ONNX RNN / LSTM / GRU node per layer with dynamic batch and
# time; torch 2.13's dynamo exporter unrolls nn.RNN over a fixed length (measured when this was written)
EXPORTER = "torch.onnx.export(dynamo=False)"
OPSET = 17


def export_onnx(
    cell: str, input_size: int, hidden_size: int, num_layers: int, bidirectional: bool, params: dict
) -> bytes:
    """The ``nn`` layer holding ``params`` (canonical names: PyTorch's own), as an ONNX model whose inputs
    are ``x`` (batch, time, input), ``h0`` (and ``c0``), and outputs ``y``, ``hn`` (and ``cn``), batch and
    time dynamic."""
    layer = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
        input_size, hidden_size, num_layers=num_layers, batch_first=True, bidirectional=bidirectional
    )
    with torch.no_grad():
        for name, p in layer.named_parameters():
            p.copy_(torch.from_numpy(np.asarray(params[name], dtype=np.float32)))
    lstm = cell == "lstm"

    class Stack(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = layer

        def forward(self, x, h0, c0=None):
            if lstm:
                y, (hn, cn) = self.layer(x, (h0, c0))
                return y, hn, cn
            return self.layer(x, h0)

    states = num_layers * (2 if bidirectional else 1)
    x = torch.zeros(2, 3, input_size)
    h = torch.zeros(states, 2, hidden_size)
    inputs, outputs = (["x", "h0", "c0"], ["y", "hn", "cn"]) if lstm else (["x", "h0"], ["y", "hn"])
    dynamic = {"x": {0: "batch", 1: "time"}, "y": {0: "batch", 1: "time"}}
    dynamic |= {name: {1: "batch"} for name in inputs[1:] + outputs[1:]}
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer warnings
        torch.onnx.export(
            Stack(),
            (x, h, h.clone()) if lstm else (x, h),
            out,
            dynamo=False,
            opset_version=OPSET,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=dynamic,
        )
    return out.getvalue()


def onnx_operators(model: bytes) -> dict[str, int]:
    """How many nodes of each ONNX operator type the exported graph holds (a fused ``LSTM`` node per layer,
    or an unrolled graph of ``MatMul`` and friends)."""
    import onnx

    graph = onnx.load_from_string(model).graph
    counts = collections.Counter(n.op_type for n in graph.node if n.op_type != "Constant")
    return dict(sorted(counts.items()))


class ExportedModel(RecurrentModel):
    """The stack exported to ONNX and run by a runtime: subclasses load the model (:meth:`_load`) and run it
    (:meth:`_infer`). The canonical parameters are kept as they were set: a runtime holds them only inside
    its compiled graph."""

    differentiable = False
    params_readable = False
    takes_bidirectional = True  # the ONNX RNN / LSTM / GRU operators' ``direction="bidirectional"``

    def _build(self) -> None:
        if self.dtype != "float32":
            raise UnsupportedError(f"{self.implementation or self.framework} runs float32 only")
        self._params: dict[str, np.ndarray] = {}
        self.onnx_model = b""

    def _get_params(self) -> dict[str, np.ndarray]:
        return {name: p.copy() for name, p in self._params.items()}

    def _set_params(self, params: dict[str, np.ndarray]) -> None:
        self._params = params
        self.onnx_model = export_onnx(
            self.cell, self.input_size, self.hidden_size, self.num_layers, self.bidirectional, params
        )
        self._load(self.onnx_model)

    def operators(self) -> dict[str, int]:
        """The ONNX operators the export produced (see :func:`onnx_operators`)."""
        return onnx_operators(self.onnx_model)

    @abstractmethod
    def _load(self, model: bytes) -> None:
        """Compile ``model`` (ONNX bytes) for the runtime's CPU device."""

    @abstractmethod
    def _infer(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        """The outputs (y, hn[, cn]) for the named inputs (x, h0[, c0])."""

    def _feeds(self, x: np.ndarray, state: State) -> dict[str, np.ndarray]:
        if self.cell == "lstm":
            return {"x": x, "h0": state[0], "c0": state[1]}
        return {"x": x, "h0": state}

    def _forward(self, x: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        y, *final = self._infer(self._feeds(x, state))
        return y, (final[0], final[1]) if self.cell == "lstm" else final[0]

    def _path(self) -> str:
        ops = ", ".join(f"{n} {op}" for op, n in self.operators().items() if op in ("RNN", "LSTM", "GRU"))
        return f"{self._runtime()}: ONNX {ops or 'unrolled graph'}"

    @abstractmethod
    def _runtime(self) -> str:
        """The runtime, its version and device, e.g. ``onnxruntime 1.32.0 CPUExecutionProvider``."""

    def _prepare_forward(self, x: np.ndarray, state: State) -> Callable[[], None]:
        feeds = self._feeds(x, state)
        return lambda: self._infer(feeds)

    def _no_gradients(self, *_args) -> None:
        raise UnsupportedError(
            f"{self.implementation or self.framework} is an inference runtime: it computes no gradients "
            "and does not train"
        )

    def _backward(self, x: np.ndarray, grad_y: np.ndarray, state: State) -> dict[str, np.ndarray]:
        self._no_gradients()

    def _prepare_backward(self, x: np.ndarray, grad_y: np.ndarray, state: State) -> Callable[[], None]:
        self._no_gradients()

    def _prepare_train_step(
        self, x: np.ndarray, grad_y: np.ndarray, state: State, lr: float
    ) -> Callable[[], None]:
        self._no_gradients()

    def _trainer(self, config: TrainConfig, seed: int) -> Trainer:
        self._no_gradients()
