"""TensorFlow: Keras 3 ``SimpleRNN`` / ``LSTM`` / ``GRU(reset_after=True)`` on the TensorFlow backend,
called inside ``tf.function`` as users do, or inside ``tf.function(jit_compile=True)`` (XLA)."""

from __future__ import annotations

import os
from collections.abc import Callable

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from impls import training  # noqa: E402
from impls.base import DeviceUnavailableError, RecurrentModel, State, denormal_mode  # noqa: E402
from impls.layout import PARAM_KINDS, gate_permute, layer_params, param_name  # noqa: E402
from impls.training import TrainConfig, Trainer  # noqa: E402

if keras.backend.backend() != "tensorflow":
    raise ImportError(
        f"the tensorflow adapter needs KERAS_BACKEND=tensorflow, not {keras.backend.backend()!r}"
    )
tf.config.experimental.enable_tensor_float_32_execution(False)
tf.get_logger().setLevel("ERROR")  # one tf.function per model: its retracing warning is noise here

_LAYERS = {
    "rnn": lambda h, dt: keras.layers.SimpleRNN(h, **_common(dt)),
    "lstm": lambda h, dt: keras.layers.LSTM(h, **_common(dt)),
    "gru": lambda h, dt: keras.layers.GRU(h, reset_after=True, **_common(dt)),
}
_GRU_ORDER = [1, 0, 2]  # canonical r, z, n  <->  Keras z, r, h (a swap, its own inverse)


def _common(dtype: str) -> dict:
    return {"return_sequences": True, "return_state": True, "dtype": dtype}


def _keras_gates(w: np.ndarray) -> np.ndarray:
    return gate_permute(w, _GRU_ORDER)


def to_keras(cell: str, weights: tuple[np.ndarray, ...]) -> list[np.ndarray]:
    """Canonical (W_ih, W_hh, b_ih, b_hh) of one layer -> Keras [kernel, recurrent_kernel, bias]."""
    w_ih, w_hh, b_ih, b_hh = weights
    if cell == "gru":
        p = _keras_gates
        return [p(w_ih).T, p(w_hh).T, np.stack([p(b_ih), p(b_hh)])]
    return [w_ih.T, w_hh.T, b_ih + b_hh]  # Keras keeps one merged bias


def from_keras_grads(cell: str, grads: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Gradients of [kernel, recurrent_kernel, bias] -> canonical (dW_ih, dW_hh, db_ih, db_hh).
    A merged bias's gradient is the gradient of b_ih and of b_hh alike."""
    dk, drk, db = grads
    if cell == "gru":
        p = _keras_gates
        return p(dk.T), p(drk.T), p(db[0]), p(db[1])
    return dk.T, drk.T, db, db.copy()


class TensorflowModel(RecurrentModel):
    framework = "tensorflow"
    jit_compile = False
    takes_bidirectional = True  # keras.layers.Bidirectional

    def _build(self) -> None:
        if self.device == "gpu" and not tf.config.list_physical_devices("GPU"):
            raise DeviceUnavailableError("tensorflow sees no GPU (tf.config.list_physical_devices)")
        self._device = "/GPU:0" if self.device == "gpu" else "/CPU:0"
        width = self.directions * self.hidden_size
        with tf.device(self._device):
            policy = self.policy()
            self.layers = [_LAYERS[self.cell](self.hidden_size, policy) for _ in range(self.num_layers)]
            if self.bidirectional:  # concatenated outputs; its backward layer runs go_backwards
                self.layers = [keras.layers.Bidirectional(layer, dtype=policy) for layer in self.layers]
            for k, layer in enumerate(self.layers):
                layer.build((None, None, self.input_size if k == 0 else width))
        # one Keras RNN layer per layer and direction, in the canonical order (l0, l0_reverse, l1, ...)
        self.direction_layers = [
            d
            for layer in self.layers
            for d in ((layer.forward_layer, layer.backward_layer) if self.bidirectional else (layer,))
        ]
        self._params: dict[str, np.ndarray] = {}
        self._fwd = self.function(self._stack, reduce_retracing=True)
        self._grads = self.function(self._stack_grads, reduce_retracing=True)
        self._cell_step = self.function(self._cells_step)

    def policy(self) -> str:
        """The layers' Keras dtype policy: the model's dtype, or a mixed policy (``mixed_bfloat16``)."""
        return f"mixed_{self.computes_in}" if self.computes_in else self.dtype

    def function(self, fn: Callable, **kwargs) -> Callable:
        """``fn`` as a tf.function, compiled by XLA when the class says so."""
        return tf.function(fn, jit_compile=self.jit_compile, **kwargs)

    def _stack(self, x: tf.Tensor, states: list[list[tf.Tensor]], mask: tf.Tensor | None = None):
        """The whole stack: (y, [final state of each layer as a list]). ``mask`` (batch, time), Keras's own
        mechanism for lengths: a masked step keeps the state (so the final one is each sequence's own) and
        repeats the last output, which is set to zero here."""
        finals = []
        per_direction = 2 if self.cell == "lstm" else 1
        for layer, state in zip(self.layers, states, strict=True):
            x, *final = layer(x, initial_state=state, mask=mask)
            if mask is not None:
                x = tf.where(mask[:, :, None], x, tf.zeros_like(x))
            finals += [final[i : i + per_direction] for i in range(0, len(final), per_direction)]
        return self._in_dtype(x), [[self._in_dtype(s) for s in final] for final in finals]

    def _in_dtype(self, t: tf.Tensor) -> tf.Tensor:
        """A mixed policy's output (in its compute dtype) back in the model's dtype."""
        return tf.cast(t, self.dtype) if self.computes_in else t

    def _cells_step(self, x: tf.Tensor, states: list[list[tf.Tensor]]):
        """One time step through each layer's Keras cell, as streaming code steps a Keras model: (y, the
        new state of each layer as a list)."""
        finals = []
        for layer, state in zip(self.layers, states, strict=True):
            x, new = layer.cell(x, state)
            finals.append([self._in_dtype(s) for s in new])
        return self._in_dtype(x), finals

    def _one_step(self, x: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """The cells stepped once in one tf.function. Calling the layers on a one-step sequence runs their
        while loop over one step: about 10x slower here (8.2 against 0.8 ms, LSTM 2 x 256, batch 1, on a
        loaded CPU)."""
        y, finals = self._cell_step(self.put(x[:, 0]), self._states(state))
        h = np.stack([f[0].numpy() for f in finals])
        if self.cell == "lstm":
            return y.numpy(), (h, np.stack([f[1].numpy() for f in finals]))
        return y.numpy(), h

    def _stack_grads(
        self, x: tf.Tensor, states: list[list[tf.Tensor]], grad_y: tf.Tensor, mask: tf.Tensor | None = None
    ):
        with tf.GradientTape() as tape:
            tape.watch([x, states])
            y, _ = self._stack(x, states, mask)
        weights = [w.value for layer in self.direction_layers for w in layer.trainable_weights]
        return tape.gradient(y, [weights, x, states], output_gradients=grad_y)

    def put(self, a: np.ndarray) -> tf.Tensor:
        """A copy of ``a`` on the model's device."""
        with tf.device(self._device):
            return tf.identity(tf.constant(a))

    def _states(self, state: State) -> list[list[tf.Tensor]]:
        """Per layer, its initial states as Keras takes them: h (and c), of the forward direction then of
        the reverse one."""
        parts = state if self.cell == "lstm" else (state,)
        n = self.directions
        return [
            [self.put(s[j]) for j in range(k * n, (k + 1) * n) for s in parts] for k in range(self.num_layers)
        ]

    def _per_direction(self, states: list) -> list:
        """The per-layer lists of :meth:`_states` (or their gradients) as one [h (, c)] per direction."""
        per = 2 if self.cell == "lstm" else 1
        return [layer[i : i + per] for layer in states for i in range(0, len(layer), per)]

    def _get_params(self) -> dict[str, np.ndarray]:
        """Read back from the layers (training may have changed them). A merged bias that moved since
        set_params had its change split equally between b_ih and b_hh, which keeps the function."""
        params = {}
        for j, layer in enumerate(self.direction_layers):
            k, reverse = divmod(j, self.directions)
            kernel, recurrent, bias = layer.get_weights()
            if self.cell == "gru":
                w_ih, w_hh = _keras_gates(kernel.T), _keras_gates(recurrent.T)
                b_ih, b_hh = _keras_gates(bias[0]), _keras_gates(bias[1])
            else:
                w_ih, w_hh = kernel.T.copy(), recurrent.T.copy()
                old_ih = self._params[param_name("bias_ih", k, reverse)]
                old_hh = self._params[param_name("bias_hh", k, reverse)]
                half = (bias - (old_ih + old_hh)) / 2
                b_ih, b_hh = old_ih + half, old_hh + half
            for kind, value in zip(PARAM_KINDS, (w_ih, w_hh, b_ih, b_hh), strict=True):
                params[param_name(kind, k, reverse)] = value
        return params

    def _set_params(self, params: dict[str, np.ndarray]) -> None:
        for j, layer in enumerate(self.direction_layers):
            k, reverse = divmod(j, self.directions)
            layer.set_weights(to_keras(self.cell, layer_params(params, k, reverse)))
        self._params = params

    takes_lengths = True

    def _mask(self, x: np.ndarray, lengths: np.ndarray | None) -> tf.Tensor | None:
        return None if lengths is None else self.put(np.arange(x.shape[1])[None, :] < lengths[:, None])

    def _forward(self, x: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        return self._forward_lengths(x, state, None)

    def _backward(self, x: np.ndarray, grad_y: np.ndarray, state: State) -> dict[str, np.ndarray]:
        return self._backward_lengths(x, grad_y, state, None)

    def _forward_lengths(
        self, x: np.ndarray, state: State, lengths: np.ndarray | None
    ) -> tuple[np.ndarray, State]:
        y, finals = self._fwd(self.put(x), self._states(state), self._mask(x, lengths))
        h = np.stack([f[0].numpy() for f in finals])
        if self.cell == "lstm":
            return y.numpy(), (h, np.stack([f[1].numpy() for f in finals]))
        return y.numpy(), h

    def _backward_lengths(
        self, x: np.ndarray, grad_y: np.ndarray, state: State, lengths: np.ndarray | None
    ) -> dict[str, np.ndarray]:
        mask = self._mask(x, lengths)
        dw, dx, dstates = self._grads(self.put(x), self._states(state), self.put(grad_y), mask)
        grads: dict[str, np.ndarray] = {}
        for j in range(len(self.direction_layers)):
            k, reverse = divmod(j, self.directions)
            layer_grads = from_keras_grads(self.cell, [g.numpy() for g in dw[3 * j : 3 * j + 3]])
            for kind, g in zip(PARAM_KINDS, layer_grads, strict=True):
                grads[param_name(kind, k, reverse)] = g
        dstates = self._per_direction(dstates)
        grads["x"] = dx.numpy()
        grads["h_0"] = np.stack([s[0].numpy() for s in dstates])
        if self.cell == "lstm":
            grads["c_0"] = np.stack([s[1].numpy() for s in dstates])
        return grads

    def _prepare_forward_lengths(
        self, x: np.ndarray, state: State, lengths: np.ndarray
    ) -> Callable[[], None]:
        args = (self.put(x), self._states(state), self._mask(x, lengths))
        return lambda: self._fwd(*args)[0][0, 0, 0].numpy()

    def _prepare_forward(self, x: np.ndarray, state: State) -> Callable[[], None]:
        args = (self.put(x), self._states(state))
        # .numpy() on one element of the output waits for the whole computation
        return lambda: self._fwd(*args)[0][0, 0, 0].numpy()

    def _prepare_backward(self, x: np.ndarray, grad_y: np.ndarray, state: State) -> Callable[[], None]:
        args = (self.put(x), self._states(state), self.put(grad_y))
        return lambda: [g[0].numpy() for g in self._grads(*args)[0]]

    def _prepare_train_step(
        self, x: np.ndarray, grad_y: np.ndarray, state: State, lr: float
    ) -> Callable[[], None]:
        args = (self.put(x), self._states(state), self.put(grad_y))
        variables = [w for layer in self.direction_layers for w in layer.trainable_weights]
        # SGD on the canonical b_ih and b_hh moves their merged sum by twice the step: match it exactly
        merged = 2.0 if self.cell != "gru" else 1.0
        scale = [merged if i % 3 == 2 else 1.0 for i in range(len(variables))]
        with tf.device(self._device):
            optimizer = keras.optimizers.SGD(learning_rate=lr)
            optimizer.build(variables)

        @self.function
        def step(x, states, grad_y):
            with tf.GradientTape() as tape:
                y, _ = self._stack(x, states)
            grads = tape.gradient(y, [v.value for v in variables], output_gradients=grad_y)
            optimizer.apply([g * s for g, s in zip(grads, scale, strict=True)], variables)
            return y[0, 0, 0]

        return lambda: step(*args).numpy()

    def reset_device_peak(self) -> None:
        if self.device != "gpu":
            super().reset_device_peak()
        tf.config.experimental.reset_memory_stats("GPU:0")

    def device_peak_bytes(self) -> int:
        if self.device != "gpu":
            super().device_peak_bytes()
        return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])

    def _trainer(self, config: TrainConfig, seed: int) -> Trainer:
        return TensorflowTrainer(self, config, seed)

    def _path(self) -> str:
        """Read off the traced graph whether Keras chose the cuDNN kernel or its generic loop."""
        x = np.zeros((1, 2, self.input_size), dtype=self.dtype)
        return self._graph_path(x, None)

    def _path_lengths(self, x: np.ndarray, lengths: np.ndarray) -> str:
        """The traced graph's kernel with the Keras mask (cuDNN takes right-padded masks only)."""
        return f"{self._graph_path(x, lengths)}, masked"

    def _graph_path(self, x: np.ndarray, lengths: np.ndarray | None) -> str:
        if self.jit_compile:
            return f"xla:{self.device}"
        if self.computes_in:
            return f"while_loop, Keras policy {self.policy()}"
        _, state = self._check_inputs(x, None)
        graph = self._fwd.get_concrete_function(
            self.put(x), self._states(state), self._mask(x, lengths)
        ).graph
        if any(op.type.startswith("CudnnRNN") for op in graph.get_operations()):
            return "cudnn"
        # TensorFlow's oneDNN ops cover float32 on the CPU; float64 stays on Eigen
        onednn = (
            os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") != "0"
            and self.device == "cpu"
            and self.dtype == "float32"
        )
        return "while_loop+onednn" if onednn else "while_loop"


class TensorflowMixedModel(TensorflowModel):
    """The same Keras layers under a mixed dtype policy: float32 variables, inputs and outputs, bfloat16
    arithmetic (Keras casts the weights and inputs at each call)."""

    computes_in = "bfloat16"


class TensorflowXlaModel(TensorflowModel):
    """The same Keras layers inside ``tf.function(jit_compile=True)``: XLA compiles the loop."""

    jit_compile = True


def _tensor(v):
    """The tensor behind a Keras variable (what the tape records), or a tf.Variable itself."""
    return v.value if isinstance(v, keras.Variable) else v


class TensorflowTrainer(Trainer):
    """One tf.function step on the Keras layers' own variables. A merged Keras bias stands for the
    canonical b_ih and b_hh: both get its gradient, so it counts twice in the clipping norm and,
    their optimizer states being equal, it moves by twice their common step."""

    model: TensorflowModel

    def _build(self) -> None:
        m, config = self.model, self.config
        with tf.device(m._device):
            self.w = tf.Variable(self.readout_init["readout.weight"])
            self.b = tf.Variable(self.readout_init["readout.bias"])
            self.t = tf.Variable(tf.zeros((), m.dtype))
            self.variables = [
                *(w for layer in m.direction_layers for w in layer.trainable_weights),
                self.w,
                self.b,
            ]
            self.slots = [
                [tf.Variable(s) for s in training.init_slots(config, tf.zeros_like, _tensor(v))]
                for v in self.variables
            ]
        merged = 2.0 if m.cell != "gru" else 1.0
        n_stack = 3 * len(m.direction_layers)
        self.mult = [merged if i < n_stack and i % 3 == 2 else 1.0 for i in range(len(self.variables))]
        self._tf_step = self.model.function(self._graph_step)
        self._tf_output = self.model.function(self._output)

    def _output(self, x, lengths=None):
        mask = None if lengths is None else tf.sequence_mask(lengths, tf.shape(x)[1])  # a Keras mask
        y, _ = self.model._stack(x, [None] * self.model.num_layers, mask)
        if not training.at_last_step(self.config):
            h = y
        elif lengths is None:
            h = y[:, -1]
        else:
            h = tf.gather(y, lengths - 1, axis=1, batch_dims=1)
        return tf.matmul(h, self.w, transpose_b=True) + self.b

    def _graph_step(self, x, target, lengths=None):
        config = self.config
        with tf.GradientTape() as tape:
            out = self._output(x, lengths)
            if config.loss == "mse_last":
                loss = tf.reduce_mean((out - target) ** 2)
            else:
                loss = tf.reduce_mean(
                    tf.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=out)
                )
        grads = tape.gradient(loss, [_tensor(v) for v in self.variables])
        sq = [k * tf.reduce_sum(g * g) for k, g in zip(self.mult, grads, strict=True)]
        scale = training.clip_scale(tf.math, sq, config.clip)
        self.t.assign_add(1.0)
        for v, g, k, slots in zip(self.variables, grads, self.mult, self.slots, strict=True):
            delta, new = training.update(tf.math, config, g * scale, [tf.identity(s) for s in slots], self.t)
            v.assign_sub(k * delta)
            for slot, value in zip(slots, new, strict=True):
                slot.assign(value)
        return loss

    def _step(self, x: np.ndarray, target: np.ndarray, lengths: np.ndarray | None) -> float:
        extra = () if lengths is None else (self.model.put(lengths),)
        return self._tf_step(self.model.put(x), self.model.put(target), *extra).numpy()

    def _predict(self, x: np.ndarray, lengths: np.ndarray | None) -> np.ndarray:
        extra = () if lengths is None else (self.model.put(lengths),)
        return self._tf_output(self.model.put(x), *extra).numpy()

    def _readout(self) -> dict[str, np.ndarray]:
        return {"readout.weight": self.w.numpy().copy(), "readout.bias": self.b.numpy().copy()}


def set_threads(n: int) -> None:
    """Intra- and inter-op pools; TensorFlow accepts this only before its first op."""
    tf.config.threading.set_intra_op_parallelism_threads(n)
    tf.config.threading.set_inter_op_parallelism_threads(n)


def thread_info() -> dict[str, object]:
    return {
        "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
    }


def flush_denormals() -> str:
    """TensorFlow's CPU kernels already run with subnormals flushed (its thread pools set FTZ and DAZ);
    there is no switch: what the probe of a compiled multiply says."""
    multiply = tf.function(lambda a, b: a * b)
    return denormal_mode(lambda a, b: multiply(tf.constant(a), tf.constant(b)).numpy())


def allow_tf32() -> str:
    """TensorFlow's TF32 execution (on by default in TensorFlow; this adapter turns it off at import)."""
    tf.config.experimental.enable_tensor_float_32_execution(True)
    return "tf.config.experimental.enable_tensor_float_32_execution(True)"


def device_times(fn: Callable[[], object], rounds: int) -> dict[str, object]:
    """Not measured: TensorFlow exposes no CUDA events to Python (its profiler writes a trace)."""
    return {"device_timing": "not available in TensorFlow (no CUDA events; the profiler writes a trace)"}


def deterministic() -> str:
    """TensorFlow's op determinism (an error where an op has no deterministic kernel)."""
    tf.config.experimental.enable_op_determinism()
    return "tf.config.experimental.enable_op_determinism()"


def matmul(n: int, dtype: str, device: str) -> Callable[[], None]:
    """A synchronised n x n GEMM, for the calibration of the machine's peak."""
    with tf.device("/GPU:0" if device == "gpu" else "/CPU:0"):
        a = tf.constant(np.random.default_rng(0).random((n, n)).astype(dtype))
    f = tf.function(lambda a: tf.matmul(a, a)[0, 0])
    return lambda: f(a).numpy()
