"""PyTorch, three ways: ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``, the layers users use (oneDNN on CPU, cuDNN on
GPU); an eager Python loop over ``nn.RNNCell`` / ``LSTMCell`` / ``GRUCell`` (fastrnns' baseline); and the
cell written in PyTorch ops, compiled with ``torch.compile`` (what a user writing a custom cell does)."""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Callable, Iterable
from functools import partial

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from impls import training
from impls.base import DeviceUnavailableError, RecurrentModel, State, denormal_mode
from impls.layout import PARAM_KINDS, param_name, param_shapes
from impls.registry import UnsupportedError
from impls.training import TrainConfig, Trainer

# Equivalence needs full float32 matmuls on Ampere and newer GPUs.
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


@contextlib.contextmanager
def _quiet_stderr():
    """Silence the profiler's C-level start/stop lines on file descriptor 2."""
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def tensor(a: np.ndarray, copy: bool = False) -> torch.Tensor:
    """A NumPy array as a CPU tensor (NumPy's bfloat16 is ml_dtypes', which torch.from_numpy refuses)."""
    if a.dtype == np.dtype("bfloat16"):
        return torch.from_numpy(np.array(a, copy=True).view(np.int16)).view(torch.bfloat16)
    return torch.tensor(a) if copy else torch.from_numpy(a)


def host(t: torch.Tensor) -> np.ndarray:
    """A tensor as a NumPy array on the host, bfloat16 as ml_dtypes' bfloat16."""
    t = t.detach().cpu()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(np.dtype("bfloat16"))
    return t.numpy()


_LAYERS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


class TorchModel(RecurrentModel):
    """``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``. Subclasses change :meth:`_layers` and :meth:`_run`; the
    rest works on ``self.params``, the parameters under their canonical names."""

    framework = "torch"
    takes_bidirectional = True  # nn.LSTM(bidirectional=True); the loops below run one direction

    def _build(self) -> None:
        if self.device == "gpu" and not torch.cuda.is_available():
            raise DeviceUnavailableError("torch sees no CUDA GPU (torch.cuda.is_available() is False)")
        self._device = torch.device("cuda" if self.device == "gpu" else "cpu")
        self._dtype = getattr(torch, self.dtype)
        self.module, self.params = self._layers()

    def _layers(self) -> tuple[torch.nn.Module, dict[str, torch.nn.Parameter]]:
        """The module and its parameters by canonical name."""
        module = _LAYERS[self.cell](
            self.input_size,
            self.hidden_size,
            num_layers=self.num_layers,
            batch_first=True,
            bidirectional=self.bidirectional,
            device=self._device,
            dtype=self._dtype,
        )
        return module, dict(module.named_parameters())

    def _run(self, x: torch.Tensor, state=None):
        """(y, final state) of the stack, as nn.LSTM returns them; ``state`` None means zeros."""
        return self.module(x, state)

    def _get_params(self) -> dict[str, np.ndarray]:
        return {n: host(p).copy() for n, p in self.params.items()}

    def _set_params(self, params: dict[str, np.ndarray]) -> None:
        with torch.no_grad():
            for name, p in self.params.items():
                p.copy_(tensor(params[name]))

    def to_device(self, a: np.ndarray, requires_grad: bool = False) -> torch.Tensor:
        """A copy of ``a`` on the model's device."""
        return tensor(a, copy=True).to(self._device).requires_grad_(requires_grad)

    def _state(self, state: State, requires_grad: bool = False):
        if self.cell == "lstm":
            return tuple(self.to_device(s, requires_grad) for s in state)
        return self.to_device(state, requires_grad)

    def _forward(self, x: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        with torch.no_grad():
            y, final = self._run(self.to_device(x), self._state(state))
        if self.cell == "lstm":
            return host(y), (host(final[0]), host(final[1]))
        return host(y), host(final)

    def _backward(self, x: np.ndarray, grad_y: np.ndarray, state: State) -> dict[str, np.ndarray]:
        xt = self.to_device(x, requires_grad=True)
        st = self._state(state, requires_grad=True)
        y, _ = self._run(xt, st)
        inputs = [xt, *(st if self.cell == "lstm" else (st,))]
        names = list(self.params)
        grads = torch.autograd.grad(y, [*self.params.values(), *inputs], grad_outputs=self.to_device(grad_y))
        names += ["x", "h_0", "c_0"] if self.cell == "lstm" else ["x", "h_0"]
        return {n: host(g) for n, g in zip(names, grads, strict=True)}

    # PyTorch's own mechanism for lengths: a PackedSequence through the nn layer; the loops mask each step
    takes_lengths = True

    def _length_run(self, x: torch.Tensor, state, lengths: np.ndarray):
        """(y zero-padded to x's length, each sequence's final state) through ``pack_padded_sequence``."""
        pack = torch.nn.utils.rnn
        packed = pack.pack_padded_sequence(
            x, torch.from_numpy(lengths), batch_first=True, enforce_sorted=False
        )
        out, final = self.module(packed, state)
        y, _ = pack.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return y, final

    def _forward_lengths(self, x: np.ndarray, state: State, lengths: np.ndarray) -> tuple[np.ndarray, State]:
        with torch.no_grad():
            y, final = self._length_run(self.to_device(x), self._state(state), lengths)
        if self.cell == "lstm":
            return host(y), (host(final[0]), host(final[1]))
        return host(y), host(final)

    def _backward_lengths(
        self, x: np.ndarray, grad_y: np.ndarray, state: State, lengths: np.ndarray
    ) -> dict[str, np.ndarray]:
        xt = self.to_device(x, requires_grad=True)
        st = self._state(state, requires_grad=True)
        y, _ = self._length_run(xt, st, lengths)
        inputs = [xt, *(st if self.cell == "lstm" else (st,))]
        names = [*self.params, "x", "h_0", "c_0"][: len(self.params) + len(inputs)]
        grads = torch.autograd.grad(y, [*self.params.values(), *inputs], grad_outputs=self.to_device(grad_y))
        return {n: host(g) for n, g in zip(names, grads, strict=True)}

    def _prepare_forward_lengths(
        self, x: np.ndarray, state: State, lengths: np.ndarray
    ) -> Callable[[], None]:
        xt = self.to_device(x)

        def run() -> None:
            with torch.no_grad():
                self._length_run(xt, None, lengths)
            self._sync()

        return run

    def _sync(self) -> None:
        if self._device.type == "cuda":
            torch.cuda.synchronize()

    def _prepare_forward(self, x: np.ndarray, state: State) -> Callable[[], None]:
        xt = self.to_device(x)

        def run() -> None:
            with torch.no_grad():
                self._run(xt)
            self._sync()

        return run

    def _prepare_backward(self, x: np.ndarray, grad_y: np.ndarray, state: State) -> Callable[[], None]:
        xt = self.to_device(x, requires_grad=True)
        gy = self.to_device(grad_y)
        params = [*self.params.values(), xt]

        def run() -> None:
            y, _ = self._run(xt)
            torch.autograd.grad(y, params, grad_outputs=gy)
            self._sync()

        return run

    def _prepare_train_step(
        self, x: np.ndarray, grad_y: np.ndarray, state: State, lr: float
    ) -> Callable[[], None]:
        xt = self.to_device(x)
        gy = self.to_device(grad_y)
        optimizer = torch.optim.SGD(self.params.values(), lr=lr)

        def run() -> None:
            optimizer.zero_grad(set_to_none=True)
            y, _ = self._run(xt)
            y.backward(gy)
            optimizer.step()
            self._sync()

        return run

    def reset_device_peak(self) -> None:
        if self._device.type != "cuda":
            super().reset_device_peak()
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()

    def device_peak_bytes(self) -> int:
        if self._device.type != "cuda":
            super().device_peak_bytes()
        return int(torch.cuda.max_memory_allocated())

    def _trainer(self, config: TrainConfig, seed: int) -> Trainer:
        return TorchTrainer(self, config, seed)

    def _path(self) -> str:
        """Read off the profiler which RNN kernel ran, forward and backward."""
        x, gy = _probe(self)
        return _kernel_path(self.prepare_forward(x), self.prepare_backward(x, gy))

    def _path_lengths(self, x: np.ndarray, lengths: np.ndarray) -> str:
        """The profiler's RNN kernel of the packed forward (the loops below mask each step instead)."""
        if type(self)._length_run is not TorchModel._length_run:
            return super()._path_lengths(x, lengths)
        return f"{_kernel_path(self.prepare_forward(x, lengths))}, packed"


def _as_float32(state):
    """A final state (a tensor, or an LSTM's (h, c)) in float32."""
    return tuple(s.float() for s in state) if isinstance(state, tuple) else state.float()


class TorchAutocastModel(TorchModel):
    """The nn layers under ``torch.autocast(bfloat16)``, PyTorch's mixed precision: float32 weights, inputs
    and outputs; autocast runs the ops on its lower-precision list in bfloat16, the rest in float32."""

    computes_in = "bfloat16"

    def _build(self) -> None:
        super()._build()
        if self._device.type == "cpu":
            self._check_cpu_kernel()

    def _check_cpu_kernel(self) -> None:
        """UnsupportedError where oneDNN cannot build the layer's bfloat16 kernel on this CPU (its LSTM in
        bfloat16 needs AVX-512 bf16 support), as PyTorch itself fails at the first call there."""
        try:
            with torch.no_grad(), self._autocast():
                self.module(torch.zeros(1, 2, self.input_size))
        except RuntimeError as e:
            if "primitive descriptor" not in str(e):
                raise
            raise UnsupportedError(
                f"PyTorch's oneDNN has no bfloat16 {self.cell} kernel for this CPU: " + str(e).split(". ")[0]
            ) from e

    def _autocast(self) -> torch.autocast:
        return torch.autocast(self._device.type, dtype=getattr(torch, self.computes_in))

    def _run(self, x: torch.Tensor, state=None):
        with self._autocast():
            y, final = super()._run(x, state)
        return y.float(), _as_float32(final)

    def _length_run(self, x: torch.Tensor, state, lengths: np.ndarray):
        with self._autocast():
            y, final = super()._length_run(x, state, lengths)
        return y.float(), _as_float32(final)

    def _path(self) -> str:
        """The kernel, and the dtypes autocast actually ran the layer's ops in and gave its output in: it
        lowers nn.LSTM whole; nn.GRU is not on its list, yet ATen's GRU runs its gate GEMMs in bfloat16."""
        dtypes = _OpDtypes()
        with torch.no_grad(), self._autocast(), dtypes:
            y, _ = self.module(torch.zeros(1, 2, self.input_size, device=self._device))
        gemms = " and ".join(sorted(dtypes.seen))
        out = str(y.dtype).removeprefix("torch.")
        return f"{super()._path()} under torch.autocast({self.computes_in}): GEMMs in {gemms}, output {out}"


class _OpDtypes(TorchDispatchMode):
    """The floating dtypes the GEMMs and RNN kernels called inside it read (ATen ops named *mm* or *rnn*)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = str(func)
        if "mm" in name or "rnn" in name:
            for a in torch.utils._pytree.tree_leaves(args):
                if isinstance(a, torch.Tensor) and a.is_floating_point():
                    self.seen.add(str(a.dtype).removeprefix("torch."))
        return func(*args, **(kwargs or {}))


def _probe(model: TorchModel) -> tuple[np.ndarray, np.ndarray]:
    """A tiny input and output cotangent, to see which kernels run."""
    x = np.zeros((2, 2, model.input_size), dtype=model.dtype)
    return x, np.ones((2, 2, model.directions * model.hidden_size), dtype=model.dtype)


def _kernel_path(forward: Callable[[], None], backward: Callable[[], None] | None = None) -> str:
    """Which RNN kernel a prepared forward (and backward) run: the profiler's op names."""
    found = []
    for mode, fn in (("forward", forward), ("backward", backward or forward)):
        with _quiet_stderr(), torch.profiler.profile() as prof:
            fn()
        ops = {e.name for e in prof.events()}
        if any("cudnn_rnn" in op for op in ops):
            found.append((mode, "cudnn"))
        elif any("mkldnn_rnn" in op for op in ops):
            found.append((mode, "onednn"))
        else:
            found.append((mode, "aten"))
    if found[0][1] == found[1][1]:
        return found[0][1]
    return ", ".join(f"{mode}: {p}" for mode, p in found)


_CELLS = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}


class TorchCellsModel(TorchModel):
    """An eager Python loop over ``nn.RNNCell`` / ``LSTMCell`` / ``GRUCell``, one layer after another:
    fastrnns' baseline, and what code that steps a cell by hand runs."""

    takes_bidirectional = False
    lengths_mechanism = "each step masked"

    def _layers(self) -> tuple[torch.nn.Module, dict[str, torch.nn.Parameter]]:
        cells = torch.nn.ModuleList(
            _CELLS[self.cell](
                self.input_size if k == 0 else self.hidden_size,
                self.hidden_size,
                device=self._device,
                dtype=self._dtype,
            )
            for k in range(self.num_layers)
        )
        params = {param_name(kind, k): getattr(c, kind) for k, c in enumerate(cells) for kind in PARAM_KINDS}
        return cells, params

    def _run(self, x: torch.Tensor, state=None, mask=None):
        lstm = self.cell == "lstm"
        step = lambda k, x_t, h, c: self.module[k](x_t, (h, c) if lstm else h)  # noqa: E731
        return _stack(self, x, state, step, mask=mask)

    def _length_run(self, x: torch.Tensor, state, lengths: np.ndarray):
        return self._run(x, state, _mask(x, lengths))

    def _path(self) -> str:
        return "eager cell loop"


def _mask(x: torch.Tensor, lengths: np.ndarray) -> torch.Tensor:
    """(batch, time): whether each step is within its sequence."""
    return (
        torch.arange(x.shape[1], device=x.device)[None, :] < torch.from_numpy(lengths).to(x.device)[:, None]
    )


def _stack(model: TorchModel, x: torch.Tensor, state, step, project=None, mask=None):
    """Run the layers in turn, stepping ``step(layer, x_t, h, c)`` (which returns h, or (h, c) for the
    LSTM) over time, on ``project(layer, x)`` of each layer's input where given: (y, final state) as
    nn.LSTM returns them. ``mask`` (batch, time): where False, the state is kept and the output is zero."""
    lstm = model.cell == "lstm"
    if state is None:
        zeros = torch.zeros(model.num_layers, x.shape[0], model.hidden_size, device=x.device, dtype=x.dtype)
        state = (zeros, zeros) if lstm else zeros
    h0, c0 = state if lstm else (state, None)
    hs, cs = [], []
    for k in range(model.num_layers):
        h, c = h0[k], None if c0 is None else c0[k]
        xs = project(k, x) if project else x
        outputs = []
        for t in range(x.shape[1]):
            out = step(k, xs[:, t], h, c)
            h_new, c_new = out if lstm else (out, None)
            if mask is None:
                h, c = h_new, c_new
                outputs.append(h)
                continue
            m = mask[:, t, None]  # a sequence past its end keeps its state and outputs zero
            h = torch.where(m, h_new, h)
            c = None if c is None else torch.where(m, c_new, c)
            outputs.append(torch.where(m, h_new, torch.zeros_like(h_new)))
        x = torch.stack(outputs, dim=1)
        hs.append(h)
        cs.append(c)
    return x, ((torch.stack(hs), torch.stack(cs)) if lstm else torch.stack(hs))


def _recurrence(cell: str, xw_t: torch.Tensor, h: torch.Tensor, c, w_hh: torch.Tensor, b_hh: torch.Tensor):
    """One step given the input projection ``xw_t`` (x_t @ W_ih.T + b_ih): h, or (h, c) for the LSTM."""
    hw = h @ w_hh.t() + b_hh
    if cell == "rnn":
        return torch.tanh(xw_t + hw)
    if cell == "lstm":
        i, f, g, o = (xw_t + hw).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
    xr, xz, xn = xw_t.chunk(3, dim=1)
    hr, hz, hn = hw.chunk(3, dim=1)
    r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
    n = torch.tanh(xn + r * hn)
    return (1 - z) * n + z * h


def _compiler_missing() -> str | None:
    """Why torch.compile cannot build CPU kernels here (inductor needs a C++ compiler), or None."""
    import shutil

    compiler = os.environ.get("CXX", "g++")
    return None if shutil.which(compiler) else f"torch.compile on the CPU needs a C++ compiler ({compiler})"


class TorchCompiledModel(TorchModel):
    """The cell written in PyTorch ops: each layer's input projection in one matmul, then the recurrence
    step compiled by ``torch.compile`` (inductor, fused elementwise work) and called in a Python loop.
    On a machine without a C++ compiler inductor cannot build CPU kernels: creating it raises
    DeviceUnavailableError saying so."""

    takes_bidirectional = False
    lengths_mechanism = "each step masked"

    compiled = True

    def _layers(self) -> tuple[torch.nn.Module, dict[str, torch.nn.Parameter]]:
        missing = _compiler_missing() if self.device == "cpu" and self.compiled else None
        if missing:
            raise DeviceUnavailableError(missing)
        shapes = param_shapes(self.cell, self.input_size, self.hidden_size, self.num_layers)
        module = torch.nn.ParameterDict(
            {
                n: torch.nn.Parameter(torch.empty(s, device=self._device, dtype=self._dtype))
                for n, s in shapes.items()
            }
        )
        self._step = partial(_recurrence, self.cell)
        if self.compiled:
            # one compiled graph per shape and dtype: a benchmark process sees many of each
            torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 512)
            self._step = torch.compile(self._step, fullgraph=True, dynamic=False)
        return module, {n: module[n] for n in shapes}

    def _length_run(self, x: torch.Tensor, state, lengths: np.ndarray):
        return self._run(x, state, _mask(x, lengths))

    def _run(self, x: torch.Tensor, state=None, mask=None):
        p = self.params

        def project(k, x):  # the whole sequence of a layer at once
            return x @ p[f"weight_ih_l{k}"].t() + p[f"bias_ih_l{k}"]

        def step(k, xw_t, h, c):
            return self._step(xw_t, h, c, p[f"weight_hh_l{k}"], p[f"bias_hh_l{k}"])

        return _stack(self, x, state, step, project, mask)

    def _path(self) -> str:
        return f"inductor:{self._device.type}"


class TorchHoistedLoopModel(TorchCompiledModel):
    """An eager loop with each layer's input projection in one matmul before it, the step in PyTorch ops:
    against ``torch-cells`` (nn.*Cell, the projection in every step), what hoisting buys a hand-written
    PyTorch loop."""

    compiled = False

    def _path(self) -> str:
        return "eager loop, projection hoisted"


def _captured(fn: Callable[[], object]) -> tuple[torch.cuda.CUDAGraph, object]:
    """``fn`` warmed up on a side stream (as ``torch.cuda.graphs`` asks), then captured as a CUDA graph:
    (the graph, what ``fn`` returned during capture: tensors the replays refill)."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = fn()
    return graph, out


class TorchGraphModel(TorchModel):
    """``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` with each whole call (forward, backward, the training step)
    captured once as a CUDA graph and replayed: one launch per call instead of one per kernel, the remedy for
    launch overhead on small recurrent steps. Inputs are copied into the graph's own tensors. GPU only."""

    takes_bidirectional = False

    takes_lengths = False  # a graph replays one shape: no PackedSequence

    def _build(self) -> None:
        super()._build()
        if self._device.type != "cuda":
            raise DeviceUnavailableError("CUDA graphs need a CUDA GPU")

    def _static(self, x: np.ndarray, state: State, requires_grad: bool = False):
        xt = self.to_device(x, requires_grad)
        return xt, self._state(state, requires_grad)

    def _forward(self, x: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        xt, st = self._static(x, state)
        with torch.no_grad():
            graph, (y, final) = _captured(lambda: self._run(xt, st))
        graph.replay()
        torch.cuda.synchronize()
        if self.cell == "lstm":
            return host(y), (host(final[0]), host(final[1]))
        return host(y), host(final)

    def _backward(self, x: np.ndarray, grad_y: np.ndarray, state: State) -> dict[str, np.ndarray]:
        xt, st = self._static(x, state, requires_grad=True)
        gy = self.to_device(grad_y)
        inputs = [xt, *(st if self.cell == "lstm" else (st,))]
        wrt = [*self.params.values(), *inputs]

        def grads():
            y, _ = self._run(xt, st)
            return torch.autograd.grad(y, wrt, grad_outputs=gy)

        graph, out = _captured(grads)
        graph.replay()
        torch.cuda.synchronize()
        names = [*self.params, "x", "h_0", "c_0"][: len(wrt)]
        return {n: host(g) for n, g in zip(names, out, strict=True)}

    def _prepare_forward(self, x: np.ndarray, state: State) -> Callable[[], None]:
        xt = self.to_device(x)
        with torch.no_grad():
            graph, _ = _captured(lambda: self._run(xt))
        return lambda: (graph.replay(), torch.cuda.synchronize())

    def _prepare_backward(self, x: np.ndarray, grad_y: np.ndarray, state: State) -> Callable[[], None]:
        xt, gy = self.to_device(x, requires_grad=True), self.to_device(grad_y)
        wrt = [*self.params.values(), xt]
        graph, _ = _captured(lambda: torch.autograd.grad(self._run(xt)[0], wrt, grad_outputs=gy))
        return lambda: (graph.replay(), torch.cuda.synchronize())

    def _prepare_train_step(
        self, x: np.ndarray, grad_y: np.ndarray, state: State, lr: float
    ) -> Callable[[], None]:
        xt, gy = self.to_device(x), self.to_device(grad_y)
        params = list(self.params.values())

        def step() -> None:  # plain SGD, in place, so that the graph updates the parameters it holds
            y, _ = self._run(xt)
            grads = torch.autograd.grad(y, params, grad_outputs=gy)
            with torch.no_grad():
                torch._foreach_add_(params, grads, alpha=-lr)

        graph, _ = _captured(step)
        return lambda: (graph.replay(), torch.cuda.synchronize())

    def _path(self) -> str:  # the kernels of the eager calls the graphs captured (a replay shows no ops)
        x, gy = _probe(self)
        (x, state), eager = self._check_inputs(x, None), TorchModel
        forward = eager._prepare_forward(self, x, state)
        return f"{_kernel_path(forward, eager._prepare_backward(self, x, gy, state))} in a CUDA graph"


class TorchTrainer(Trainer):
    """torch.optim's Adam, RMSprop or SGD; eager, since nn.RNN/LSTM/GRU are single fused ops."""

    model: TorchModel

    def _build(self) -> None:
        m, c = self.model, self.config
        self.readout = torch.nn.Linear(m.hidden_size, c.output_size, device=m._device, dtype=m._dtype)
        with torch.no_grad():
            self.readout.weight.copy_(tensor(self.readout_init["readout.weight"]))
            self.readout.bias.copy_(tensor(self.readout_init["readout.bias"]))
        self.parameters = [*m.params.values(), *self.readout.parameters()]
        if c.optimizer == "adam":
            self.optimizer = torch.optim.Adam(self.parameters, c.lr, betas=(c.beta1, c.beta2), eps=c.eps)
        elif c.optimizer == "rmsprop":
            self.optimizer = torch.optim.RMSprop(self.parameters, c.lr, alpha=c.decay, eps=c.eps)
        else:
            self.optimizer = torch.optim.SGD(self.parameters, c.lr)

    def _output(self, x: torch.Tensor, lengths: np.ndarray | None = None) -> torch.Tensor:
        if lengths is None:
            y, _ = self.model._run(x)
        else:  # the model's own mechanism (a PackedSequence for the nn layers)
            y, _ = self.model._length_run(x, None, lengths)
            lengths = torch.from_numpy(lengths).to(y.device)
        if not training.at_last_step(self.config):
            return self.readout(y)
        return self.readout(training.last_outputs(torch, y, lengths))

    def _step(self, x: np.ndarray, target: np.ndarray, lengths: np.ndarray | None) -> float:
        self.optimizer.zero_grad(set_to_none=True)
        out = self._output(self.model.to_device(x), lengths)
        t = tensor(target).to(self.model._device)
        if self.config.loss == "mse_last":
            loss = torch.mean((out - t) ** 2)
        else:
            loss = torch.nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), t.reshape(-1))
        loss.backward()
        if self.config.clip is not None:
            # min(1, clip / norm), the definition every framework here uses (clip_grad_norm_ adds 1e-6)
            norm = torch.sqrt(sum(torch.sum(p.grad**2) for p in self.parameters))
            scale = torch.clamp(self.config.clip / norm, max=1.0)
            for p in self.parameters:
                p.grad.mul_(scale)
        self.optimizer.step()
        return loss.item()

    def _predict(self, x: np.ndarray, lengths: np.ndarray | None) -> np.ndarray:
        with torch.no_grad():
            return host(self._output(self.model.to_device(x), lengths))

    def _readout(self) -> dict[str, np.ndarray]:
        return {f"readout.{n}": host(p).copy() for n, p in self.readout.named_parameters()}


def set_threads(n: int) -> None:
    """Intra-op threads, and inter-op threads where the pool has not started yet."""
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(n)
    except RuntimeError:
        pass  # only settable once, before any parallel work


def thread_info() -> dict[str, object]:
    return {"intra_op": torch.get_num_threads(), "inter_op": torch.get_num_interop_threads()}


def flush_denormals() -> str:
    """``torch.set_flush_denormal(True)``: the CPU's FTZ and DAZ bits for this thread, inherited by the
    thread pools started after it."""
    torch.set_flush_denormal(True)
    return denormal_mode(lambda a, b: (torch.from_numpy(a) * torch.from_numpy(b)).numpy())


def kernel_seconds(averages: Iterable, rounds: int) -> float:
    """The GPU's busy time per call from a CUDA-only profile's ``key_averages()`` (kernels and copies):
    each entry's own device time in microseconds, summed, over ``rounds`` calls."""
    total_us = sum(
        getattr(e, "self_device_time_total", getattr(e, "self_cuda_time_total", 0)) for e in averages
    )
    return total_us / 1e6 / rounds


def device_times(fn: Callable[[], object], rounds: int) -> dict[str, object]:
    """CUDA events around each call, the profiler's kernel time, and the wall time with the L2 flushed."""
    events = [
        (torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(rounds)
    ]
    for start, end in events:
        start.record()
        fn()
        end.record()
    torch.cuda.synchronize()
    with _quiet_stderr(), torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        for _ in range(rounds):
            fn()
    l2 = torch.cuda.get_device_properties(torch.cuda.current_device()).L2_cache_size
    scratch = torch.empty(2 * l2 // 4 + 1, dtype=torch.float32, device="cuda")  # twice the L2
    cold = []
    for _ in range(rounds):
        scratch.zero_()
        torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        cold.append(time.perf_counter() - t)
    return {
        "event_median_s": statistics.median(s.elapsed_time(e) / 1e3 for s, e in events),
        "kernel_s": kernel_seconds(prof.key_averages(), rounds),
        "cold_l2_median_s": statistics.median(cold),
        "l2_bytes": l2,
    }


def allow_tf32() -> str:
    """TF32 in cuBLAS matmuls and cuDNN kernels (each adapter module turns both off at import)."""
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    return "torch.backends.cuda.matmul.allow_tf32 = cudnn.allow_tf32 = True"


def deterministic() -> str:
    """PyTorch's deterministic algorithms (an error where an op has none) and cuDNN's deterministic kernels;
    cuBLAS needs a fixed workspace for it."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    return "torch.use_deterministic_algorithms(True), cudnn.deterministic, CUBLAS_WORKSPACE_CONFIG=:4096:8"


def matmul(n: int, dtype: str, device: str) -> Callable[[], None]:
    """A synchronised n x n GEMM, for the calibration of the machine's peak."""
    dev = torch.device("cuda" if device == "gpu" else "cpu")
    a = torch.rand(n, n, dtype=getattr(torch, dtype), device=dev)

    def run() -> None:
        a @ a
        if dev.type == "cuda":
            torch.cuda.synchronize()

    return run
