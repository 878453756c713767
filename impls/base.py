"""The adapter interface every framework implements, with the input validation they share."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from impls.layout import CELLS, DTYPES, init_params, param_shapes
from impls.registry import DEVICES, UnsupportedError
from impls.training import Runs, TrainConfig, Trainer

State = np.ndarray | tuple[np.ndarray, np.ndarray]


class DeviceUnavailableError(RuntimeError):
    """A device was asked for that the framework cannot see."""


@runtime_checkable
class Backend(Protocol):
    """What the harness calls on an adapter module (``impls.backend(framework)``), besides its model
    class. Every adapter module defines these three functions at module level."""

    def set_threads(self, n: int) -> None:
        """Size the framework's own thread pools to ``n``. Called once in a fresh process, after the
        harness pinned it to ``n`` cores and before the framework does any work."""

    def thread_info(self) -> dict[str, object]:
        """The thread counts the framework reports now (stored with every speed and memory record)."""

    def matmul(self, n: int, dtype: str, device: str) -> Callable[[], None]:
        """A function running one synchronised ``n x n`` GEMM in ``dtype`` on ``device``: the
        calibration of the machine's peak."""

    def flush_denormals(self) -> str:
        """Have the framework's CPU arithmetic flush subnormal floats to zero where it lets you choose
        (arithmetic on subnormals is very slow on x86), and return what its float32 arithmetic now does,
        measured (``denormal_mode``): ``flushed`` or ``kept``. Called once in a fresh process, before the
        framework does any work."""

    def allow_tf32(self) -> str:
        """Let the framework's float32 matmuls and convolutions on an NVIDIA GPU use TF32 (a 10-bit mantissa;
        every adapter turns it off, so that float32 means float32) and return what was set: for the check's
        TF32 rows, which report the error it brings. Called before any model is built."""

    def device_times(self, fn: Callable[[], object], rounds: int) -> dict[str, object]:
        """For a prepared GPU call ``fn`` (which waits for its result), ``rounds`` more calls timed on the
        device: ``event_median_s`` (CUDA events around each call: the GPU's timeline, idle gaps included),
        ``kernel_s`` (the kernels' own time per call, from the profiler), ``cold_l2_median_s`` (wall time
        with the L2 cache flushed before each call) and ``l2_bytes``, where the framework can measure them;
        ``device_timing`` says why where it cannot."""

    def deterministic(self) -> str:
        """Switch the framework to its deterministic mode (the same result bitwise on every run, at what
        cost is measured by the speed study's ``train_deterministic`` mode) and return what was set. Called
        once in a fresh process, before the framework does any work."""


def denormal_mode(multiply: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> str:
    """``flushed`` when a framework's float32 ``multiply`` (run as the framework runs it) turns a
    subnormal result or a subnormal input into zero, else ``kept``."""
    a = np.array([2e-38, 1e-39], dtype=np.float32)  # a normal float and a subnormal one
    b = np.array([0.25, 1e3], dtype=np.float32)  # a subnormal product (5e-39) and a normal one (1e-36)
    return "flushed" if np.any(np.asarray(multiply(a, b)) == 0) else "kept"


def check_choice(kind: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a ValueError naming them."""
    if value not in choices:
        raise ValueError(f"unknown {kind} {value!r}; choose one of {', '.join(choices)}")
    return value


def check_size(name: str, value: Any) -> int:
    """Return ``value`` if it is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


class RecurrentModel(ABC):
    """A stack of ``num_layers`` recurrent layers of one cell type, batch-first, in one framework.

    NumPy in, NumPy out. Inputs must already have the model's dtype and must be finite: a NaN or inf
    in ``x``, ``state``, ``grad_y`` or the parameters raises ValueError instead of propagating.
    """

    framework: str = ""  # what the class declares (plugins declare cells, dtypes, devices, description too)
    implementation: str = ""  # the registry name it was created under (impls.create sets it)
    init: str = "default"  # how the weights were initialised, and chrono's t_max (impls.create sets them)
    t_max: int | None = None

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        dtype: str = "float32",
        device: str = "cpu",
        seed: int = 0,
        bidirectional: bool = False,
    ) -> None:
        self.cell = check_choice("cell", cell, CELLS)
        self.dtype = check_choice("dtype", dtype, DTYPES)
        self.device = check_choice("device", device, DEVICES)
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.num_layers = check_size("num_layers", num_layers)
        if not isinstance(bidirectional, bool):
            raise TypeError(f"bidirectional must be True or False, got {bidirectional!r}")
        if bidirectional and not self.takes_bidirectional:
            raise UnsupportedError(f"{self.implementation or type(self).__name__} is not bidirectional")
        self.bidirectional = bidirectional
        self.directions = 2 if bidirectional else 1
        self.shapes = param_shapes(cell, self.input_size, self.hidden_size, self.num_layers, bidirectional)
        self._build()
        self.set_params(
            init_params(
                cell,
                self.input_size,
                self.hidden_size,
                self.num_layers,
                dtype,
                seed,
                bidirectional=bidirectional,
            )
        )

    def __repr__(self) -> str:
        both = ", bidirectional=True" if self.bidirectional else ""
        return (
            f"{type(self).__name__}(cell={self.cell!r}, input_size={self.input_size}, "
            f"hidden_size={self.hidden_size}, num_layers={self.num_layers}, "
            f"dtype={self.dtype!r}, device={self.device!r}{both})"
        )

    # ----- the public surface -----

    def get_params(self) -> dict[str, np.ndarray]:
        """Every parameter in the canonical layout (PyTorch's names, shapes and gate order)."""
        return self._get_params()

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        """Load canonical parameters; names, shapes, dtypes and finiteness are checked first."""
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict of arrays, got {type(params).__name__}")
        missing = [n for n in self.shapes if n not in params]
        unknown = [n for n in params if n not in self.shapes]
        if missing or unknown:
            raise KeyError(
                f"parameter names do not match a {self.num_layers}-layer {self.cell}: "
                f"missing {missing}, unknown {unknown}"
            )
        for name, shape in self.shapes.items():
            self._check_array(f"parameter {name}", params[name], shape)
        self._set_params({n: np.array(params[n], copy=True) for n in self.shapes})

    def forward(
        self, x: np.ndarray, state: State | None = None, lengths: np.ndarray | None = None
    ) -> tuple[np.ndarray, State]:
        """Run the stack: ``y`` (batch, time, hidden) and the final state, h_n or (h_n, c_n),
        each (layers, batch, hidden). Bidirectional (PyTorch's convention): ``y`` (batch, time, 2 x hidden),
        the forward direction's outputs then the reverse one's, and states (2 x layers, batch, hidden), layer
        k's forward direction at 2k, its reverse at 2k + 1. With ``lengths`` (batch,) of integers in
        [1, time], ``x`` is right-padded: sequence b ends at step ``lengths[b]``, its outputs after that are
        zero, its final state is the state at its own last step, and a reverse direction starts at its own
        end (implementations that take lengths: ``takes_lengths``)."""
        x, state = self._check_inputs(x, state)
        if lengths is None:
            return self._forward(x, state)
        return self._forward_lengths(x, state, self._check_lengths(lengths, x))

    def backward(
        self,
        x: np.ndarray,
        grad_y: np.ndarray,
        state: State | None = None,
        lengths: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """Gradients of ``sum(y * grad_y)`` with respect to every parameter (canonical names),
        the input ``"x"`` and the initial state ``"h_0"`` (and ``"c_0"`` for LSTM); with ``lengths``,
        of the length-aware forward (padded steps contribute nothing)."""
        x, state = self._check_inputs(x, state)
        self._check_grad_y(x, grad_y)
        if lengths is None:
            return self._backward(x, grad_y, state)
        return self._backward_lengths(x, grad_y, state, self._check_lengths(lengths, x))

    def step(self, x_t: np.ndarray, state: State | None = None) -> tuple[np.ndarray, State]:
        """One time step, for streaming: ``x_t`` (batch, input) and the state the previous call returned
        (zeros when None) -> (``y_t`` (batch, hidden), the new state). Stepping through a sequence gives
        what one :meth:`forward` over it gives. Unidirectional stacks only: a reverse direction reads the
        whole sequence."""
        if self.bidirectional:
            raise UnsupportedError(
                "a bidirectional stack cannot step: its reverse direction reads the sequence"
            )
        if not isinstance(x_t, np.ndarray):
            raise TypeError(f"x_t must be a numpy.ndarray, got {type(x_t).__name__}")
        if x_t.ndim != 2:
            raise ValueError(
                f"x_t must be (batch, input), one time step, got {x_t.ndim} dimensions {x_t.shape}"
            )
        x, state = self._check_inputs(x_t[:, None, :], state)
        return self._one_step(x, state)

    def _one_step(self, x: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """One step as a one-step sequence through the framework's own forward (compiled where the framework
        compiles: jit, tf.function, torch.compile; the ``nn`` layers called on one step, as streaming code
        calls them)."""
        y, final = self._forward(x, state)
        return y[:, 0], final

    def path(self, lengths: np.ndarray | None = None) -> str:
        """The implementation that runs underneath, e.g. ``onednn``, ``cudnn``, ``xla:cpu``, as the framework
        reports it where it can (PyTorch's profiler, the traced Keras graph); with ``lengths``, of the
        length-aware forward, which may leave the fast kernel."""
        if lengths is None:
            return self._path()
        x, state = self._check_inputs(
            np.zeros((len(lengths), int(max(lengths)), self.input_size), self.dtype), None
        )
        return self._path_lengths(x, self._check_lengths(lengths, x))

    def prepare_forward(self, x: np.ndarray, lengths: np.ndarray | None = None) -> Callable[[], None]:
        """The native fast path: put ``x`` on the device once and return a function that runs the
        compiled forward on it (zero initial state) and waits for the result. The first call includes
        compilation. With ``lengths``, the length-aware forward (see :meth:`forward`)."""
        x, state = self._check_inputs(x, None)
        if lengths is None:
            return self._prepare_forward(x, state)
        return self._prepare_forward_lengths(x, state, self._check_lengths(lengths, x))

    def prepare_backward(self, x: np.ndarray, grad_y: np.ndarray) -> Callable[[], None]:
        """Like :meth:`prepare_forward`, for forward plus backward of ``sum(y * grad_y)`` (every
        parameter gradient and the input's)."""
        x, state = self._check_inputs(x, None)
        self._check_grad_y(x, grad_y)
        return self._prepare_backward(x, grad_y, state)

    def prepare_train_step(self, x: np.ndarray, grad_y: np.ndarray, lr: float = 1e-3) -> Callable[[], None]:
        """Like :meth:`prepare_forward`, for one training step: forward, backward of ``sum(y * grad_y)``
        and an SGD update of every parameter with the framework's own optimizer. It changes the weights."""
        x, state = self._check_inputs(x, None)
        self._check_grad_y(x, grad_y)
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not np.isfinite(lr) or lr <= 0:
            raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
        return self._prepare_train_step(x, grad_y, state, float(lr))

    def trainer(self, config: TrainConfig, seed: int = 0) -> Trainer:
        """This stack with a linear readout, trained in the framework by ``config``."""
        if not isinstance(config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        if self.bidirectional:
            raise UnsupportedError(
                "the trainers read one direction's last step: train a unidirectional stack"
            )
        return self._trainer(config, int(seed))

    @classmethod
    def train_together(
        cls, models: list[RecurrentModel], configs: list[TrainConfig], seeds: list[int]
    ) -> Runs:
        """K models of this class and one shape, each trained by its config (which may differ in the
        learning rate alone) with its readout seed: in one compiled step where the framework can
        (``Runs.fused``), else in turn. Each run computes what its own :meth:`trainer` would."""
        if not models or not len(models) == len(configs) == len(seeds):
            raise ValueError(
                f"need one config and one seed per model, got {len(models)}, {len(configs)}, {len(seeds)}"
            )
        first = models[0]
        for m in models:
            if type(m) is not cls:
                raise TypeError(f"{cls.__name__}.train_together got a {type(m).__name__}")
            if m.shapes != first.shapes or (m.dtype, m.device) != (first.dtype, first.device):
                raise ValueError(f"runs trained together must share one shape: {m!r} vs {first!r}")
        if len({dataclasses.replace(c, lr=1.0) for c in configs}) > 1:
            raise ValueError("runs trained together may differ in the learning rate only")
        trainers = [m.trainer(c, s) for m, c, s in zip(models, configs, seeds, strict=True)]
        return cls._train_together(trainers)

    @classmethod
    def _train_together(cls, trainers: list[Trainer]) -> Runs:
        return Runs(trainers)

    # gradients and training: an inference runtime (ONNX Runtime, OpenVINO) runs forward and step only
    differentiable: bool = True
    # mixed precision: the dtype its arithmetic runs in where that differs from its weights', inputs' and
    # outputs' (torch.autocast, a Keras mixed policy, flax's dtype apart from param_dtype); "" if none
    computes_in: str = ""
    # whether get_params reads the weights back from the framework (a runtime's compiled graph holds them
    # where they cannot be read: it returns a copy of what was set)
    params_readable: bool = True
    # sequences of different lengths in one batch: implementations that take them set this and define
    # _forward_lengths and _backward_lengths with their framework's own mechanism
    takes_lengths: bool = False
    # both directions (``bidirectional=True``): implementations that build them set this
    takes_bidirectional: bool = False

    def _forward_lengths(self, x: np.ndarray, state: State, lengths: np.ndarray) -> tuple[np.ndarray, State]:
        raise UnsupportedError(f"{self.implementation} does not take sequence lengths")

    def _backward_lengths(
        self, x: np.ndarray, grad_y: np.ndarray, state: State, lengths: np.ndarray
    ) -> dict[str, np.ndarray]:
        raise UnsupportedError(f"{self.implementation} does not take sequence lengths")

    lengths_mechanism = ""  # how it runs sequences of different lengths, where its path does not say

    def _path_lengths(self, x: np.ndarray, lengths: np.ndarray) -> str:
        """:meth:`path` of the length-aware forward: by default the path, and the mechanism."""
        return f"{self._path()}, {self.lengths_mechanism}" if self.lengths_mechanism else self._path()

    def _prepare_forward_lengths(
        self, x: np.ndarray, state: State, lengths: np.ndarray
    ) -> Callable[[], None]:
        """The length-aware forward, timed: by default through :meth:`_forward_lengths` (host arrays in
        and out); frameworks with a device keep the inputs there."""
        return lambda: self._forward_lengths(x, state, lengths)

    def reset_device_peak(self) -> None:
        """Start a new peak of the device allocator (GPU); CPU memory is measured by the harness."""
        raise NotImplementedError(f"{self.framework} reports no device memory on {self.device}")

    def device_peak_bytes(self) -> int:
        """Peak bytes held by the framework's device allocator since :meth:`reset_device_peak`."""
        raise NotImplementedError(f"{self.framework} reports no device memory on {self.device}")

    # ----- for the adapters -----

    @abstractmethod
    def _build(self) -> None: ...

    @abstractmethod
    def _get_params(self) -> dict[str, np.ndarray]: ...

    @abstractmethod
    def _set_params(self, params: dict[str, np.ndarray]) -> None: ...

    @abstractmethod
    def _forward(self, x: np.ndarray, state: State) -> tuple[np.ndarray, State]: ...

    @abstractmethod
    def _backward(self, x: np.ndarray, grad_y: np.ndarray, state: State) -> dict[str, np.ndarray]: ...

    @abstractmethod
    def _path(self) -> str: ...

    @abstractmethod
    def _prepare_forward(self, x: np.ndarray, state: State) -> Callable[[], None]: ...

    @abstractmethod
    def _prepare_backward(self, x: np.ndarray, grad_y: np.ndarray, state: State) -> Callable[[], None]: ...

    @abstractmethod
    def _prepare_train_step(
        self, x: np.ndarray, grad_y: np.ndarray, state: State, lr: float
    ) -> Callable[[], None]: ...

    @abstractmethod
    def _trainer(self, config: TrainConfig, seed: int) -> Trainer: ...

    # ----- validation -----

    def _check_array(self, what: str, a: Any, shape: tuple[int, ...]) -> np.ndarray:
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{what} must be a numpy.ndarray, got {type(a).__name__}")
        if a.shape != tuple(shape):
            raise ValueError(f"{what} has shape {a.shape}, expected {tuple(shape)}")
        if a.dtype != np.dtype(self.dtype):
            raise TypeError(
                f"{what} has dtype {a.dtype}, the model is {self.dtype} "
                f"(convert with .astype(np.{self.dtype}))"
            )
        if not np.isfinite(a).all():
            raise ValueError(f"{what} contains NaN or inf")
        return a

    def _check_lengths(self, lengths: Any, x: np.ndarray) -> np.ndarray:
        batch, time, _ = x.shape
        if not isinstance(lengths, np.ndarray):
            raise TypeError(f"lengths must be a numpy.ndarray of integers, got {type(lengths).__name__}")
        if lengths.dtype.kind not in "iu":
            raise TypeError(f"lengths must be integers, got dtype {lengths.dtype}")
        if lengths.shape != (batch,):
            raise ValueError(f"lengths has shape {lengths.shape}, expected ({batch},): one per sequence")
        if lengths.min() < 1 or lengths.max() > time:
            raise ValueError(
                f"lengths must be between 1 and the time dimension {time}, "
                f"got {lengths.min()}..{lengths.max()}"
            )
        if not self.takes_lengths:
            raise UnsupportedError(f"{self.implementation} does not take sequence lengths")
        return lengths.astype(np.int64)

    def _check_grad_y(self, x: np.ndarray, grad_y: Any) -> np.ndarray:
        return self._check_array(
            "grad_y", grad_y, (x.shape[0], x.shape[1], self.directions * self.hidden_size)
        )

    def _check_inputs(self, x: Any, state: State | None) -> tuple[np.ndarray, State]:
        if not isinstance(x, np.ndarray):
            raise TypeError(f"x must be a numpy.ndarray, got {type(x).__name__}")
        if x.ndim != 3:
            raise ValueError(f"x must be (batch, time, input), got {x.ndim} dimensions {x.shape}")
        batch, time, _ = x.shape
        if batch < 1 or time < 1:
            raise ValueError(f"x must have batch >= 1 and time >= 1, got shape {x.shape}")
        self._check_array("x", x, (batch, time, self.input_size))
        state_shape = (self.num_layers * self.directions, batch, self.hidden_size)
        if state is None:
            zeros = np.zeros(state_shape, dtype=self.dtype)
            return x, (zeros, zeros.copy()) if self.cell == "lstm" else zeros
        if self.cell == "lstm":
            if not (isinstance(state, tuple) and len(state) == 2):
                raise TypeError("an LSTM state must be a tuple (h, c)")
            h = self._check_array("state h", state[0], state_shape)
            c = self._check_array("state c", state[1], state_shape)
            return x, (h, c)
        if isinstance(state, tuple):
            raise TypeError(f"a {self.cell} state is one array h, not a tuple")
        return x, self._check_array("state h", state, state_shape)
