"""JAX: ``lax.scan`` under ``jit``, the input projection in the step or hoisted out of the scan as measured
fastest per device (also with the scan unrolled, and hoisted everywhere), and flax's own cells driven by
``flax.linen.RNN``; gradients by ``jax.vjp``. Parameters stay in
the canonical layout; a variant maps them to its own inside the jitted function, so autodiff maps the
gradients back."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache, partial

import jax
import jax.numpy as jnp
import numpy as np

from impls import training
from impls.base import DeviceUnavailableError, RecurrentModel, State, denormal_mode
from impls.layout import GATES, directions, layer_params, param_name
from impls.training import TrainConfig, Trainer

# float64 needs x64 before any array exists; full float32 matmuls (no TF32) for equivalence on GPU.
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_default_matmul_precision", "highest")


def _update(cell: str, xs: list, hs: list, h, c):
    """One step from each gate's input and recurrent pre-activations (biases included): (h, c)."""
    if cell == "rnn":
        return jnp.tanh(xs[0] + hs[0]), c
    if cell == "lstm":
        i, f, g, o = (x + r for x, r in zip(xs, hs, strict=True))
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        return jax.nn.sigmoid(o) * jnp.tanh(c), c
    r, z = jax.nn.sigmoid(xs[0] + hs[0]), jax.nn.sigmoid(xs[1] + hs[1])
    n = jnp.tanh(xs[2] + r * hs[2])
    return (1 - z) * n + z * h, c


def _layer(
    cell: str, x, weights, h0, c0, projection: str = "in step", unroll: int = 1, mask=None, reverse=False
):
    """One layer, batch-first in and out: (y, h_n, c_n or None); ``unroll`` steps per scan iteration.
    ``projection``: ``in step``, the input's and the state's matmuls inside the step, one per gate, as
    flax's cells do (on XLA's CPU backend the fastest); ``hoisted``, every step's input projection in one
    matmul before the scan and one fused recurrent matmul per step, as cuDNN does (on XLA's CPU backend the
    hoisted tensor is materialised and transposed, (T, B, G*H): slower). ``mask`` (time, batch, 1): where
    False, the step keeps the state and outputs zero (a sequence past its own end). ``reverse``: the scan
    runs from the last step to the first (a reverse direction: with ``mask``, each sequence's steps after
    its end come first and keep the initial state, so it starts at its own end)."""
    w_ih, w_hh, b_ih, b_hh = weights
    gates = GATES[cell]
    if projection == "hoisted":  # and one fused recurrent matmul per step, as cuDNN
        xs = jnp.swapaxes(x @ w_ih.T + b_ih, 0, 1)  # (time, batch, gates*hidden)
        w_hh_t = w_hh.T

        def pre_activations(xw_t, h):
            return jnp.split(xw_t, gates, axis=-1), jnp.split(h @ w_hh_t + b_hh, gates, axis=-1)

    else:
        xs = jnp.swapaxes(x, 0, 1)
        w_i, w_h = [w.T for w in jnp.split(w_ih, gates)], [w.T for w in jnp.split(w_hh, gates)]
        b_i, b_h = jnp.split(b_ih, gates), jnp.split(b_hh, gates)

        def pre_activations(x_t, h):
            from_input = [x_t @ w + b for w, b in zip(w_i, b_i, strict=True)]
            return from_input, [h @ w + b for w, b in zip(w_h, b_h, strict=True)]

    def step(carry, x_t):
        h, c = carry
        h, c = _update(cell, *pre_activations(x_t, h), h, c)
        return (h, c), h

    def masked_step(carry, inputs):
        (h, c), (x_t, m_t) = carry, inputs
        h_new, c_new = _update(cell, *pre_activations(x_t, h), h, c)
        c = None if c is None else jnp.where(m_t, c_new, c)
        return (jnp.where(m_t, h_new, h), c), jnp.where(m_t, h_new, 0)

    if mask is None:
        (h, c), ys = jax.lax.scan(step, (h0, c0), xs, unroll=unroll, reverse=reverse)
    else:
        (h, c), ys = jax.lax.scan(masked_step, (h0, c0), (xs, mask), unroll=unroll, reverse=reverse)
    return jnp.swapaxes(ys, 0, 1), h, c


def stack_forward(
    cell: str, params: dict, x, h0, c0, lengths=None, projection: str = "in step", unroll: int = 1
):
    """The whole stack: (y, h_n, c_n or None), states (layers x directions, batch, hidden); with
    ``lengths`` (batch,), a masked scan: each sequence stops at its own end (outputs zero after it, its
    state kept). Bidirectional where ``params`` hold the reverse directions: a reversed scan beside each
    layer's forward one, their outputs concatenated."""
    mask = None
    if lengths is not None:
        mask = (jnp.arange(x.shape[1])[:, None] < lengths[None, :])[:, :, None]  # (time, batch, 1)
    both = directions(param_name("weight_ih", 0, True) in params)
    hs, cs = [], []
    for k in range(h0.shape[0] // len(both)):
        outputs = []
        for reverse in both:
            j = k * len(both) + reverse
            c0_j = None if c0 is None else c0[j]
            weights = layer_params(params, k, reverse)
            y, h, c = _layer(cell, x, weights, h0[j], c0_j, projection, unroll, mask, reverse)
            outputs.append(y)
            hs.append(h)
            cs.append(c)
        x = outputs[0] if len(outputs) == 1 else jnp.concatenate(outputs, axis=-1)
    return x, jnp.stack(hs), None if c0 is None else jnp.stack(cs)


def stack_grads(forward: Callable, params: dict, x, h0, c0, grad_y, lengths=None):
    """Cotangents of (params, x, h0, c0) of ``forward``'s output for the output cotangent ``grad_y`` (with
    ``lengths``, of the length-aware forward)."""
    extra = () if lengths is None else (lengths,)
    _, vjp = jax.vjp(lambda p, x, h, c: forward(p, x, h, c, *extra)[0], params, x, h0, c0)
    return vjp(grad_y)


UNROLL = 8  # jax-unroll's steps per scan iteration, chosen by measurement (README)


class JaxModel(RecurrentModel):
    framework = "jax"
    lengths_mechanism = "masked scan"
    unroll = 1  # scan steps per loop iteration
    # where the input projection goes, per device, chosen by measurement: in the step on the CPU (as fast as
    # flax's own cells; hoisted was 1.2-2.4x slower forward there); hoisted on the GPU, the only formulation
    # measured there (the fastest JAX LSTM on an H200); see the README's "which implementation to use"
    projection: dict[str, str] = {"cpu": "in step", "gpu": "hoisted"}

    def _build(self) -> None:
        platform = "gpu" if self.device == "gpu" else "cpu"
        try:
            self._device = jax.devices(platform)[0]
        except RuntimeError as e:
            raise DeviceUnavailableError(f"jax sees no {platform} device: {e}") from None
        if type(self).stack is JaxModel.stack:  # the class's stack_of: compiled once per class, cell, device
            self._fwd, self._grads = compiled(type(self), self.cell, self.device)
        else:  # a plugin's own stack, which may read anything of its model: compiled per model
            self._fwd = jax.jit(self.stack)
            self._grads = jax.jit(partial(stack_grads, self.stack))
        self._params: dict = {}

    @classmethod
    def stack_of(cls, cell: str, device: str = "cpu") -> Callable:
        """The whole stack for ``cell`` on ``device``, a pure function: (params, x, h0, c0) -> (y, h_n,
        c_n or None)."""
        return partial(stack_forward, cell, projection=cls.projection[device], unroll=cls.unroll)

    def stack(self, params: dict, x, h0, c0):
        """The whole stack, a pure function of canonical params: (y, h_n, c_n or None). A plugin may
        override it; the built-in variants define :meth:`stack_of` instead."""
        return self.stack_of(self.cell, self.device)(params, x, h0, c0)

    def put(self, a: np.ndarray) -> jax.Array:
        """A copy of ``a`` on the model's device."""
        return jax.device_put(a, self._device)

    def _get_params(self) -> dict[str, np.ndarray]:
        return {n: np.array(p) for n, p in self._params.items()}

    def _set_params(self, params: dict[str, np.ndarray]) -> None:
        self._params = {n: self.put(p) for n, p in params.items()}

    def _state(self, state: State):
        h, c = state if self.cell == "lstm" else (state, None)
        return self.put(h), None if c is None else self.put(c)

    def _forward(self, x: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        return self._forward_lengths(x, state, None)

    def _backward(self, x: np.ndarray, grad_y: np.ndarray, state: State) -> dict[str, np.ndarray]:
        return self._backward_lengths(x, grad_y, state, None)

    @property
    def takes_bidirectional(self) -> bool:
        """A reversed scan beside each layer's forward one (a plugin's own ``stack`` runs one direction)."""
        return type(self).stack is JaxModel.stack

    @property
    def takes_lengths(self) -> bool:
        """A masked scan: where a sequence has ended, the step keeps its state and outputs zero (a plugin's
        own ``stack`` takes no lengths)."""
        return type(self).stack is JaxModel.stack

    def _forward_lengths(
        self, x: np.ndarray, state: State, lengths: np.ndarray | None
    ) -> tuple[np.ndarray, State]:
        extra = () if lengths is None else (self.put(lengths),)
        y, h, c = self._fwd(self._params, self.put(x), *self._state(state), *extra)
        if self.cell == "lstm":
            return np.asarray(y), (np.asarray(h), np.asarray(c))
        return np.asarray(y), np.asarray(h)

    def _backward_lengths(
        self, x: np.ndarray, grad_y: np.ndarray, state: State, lengths: np.ndarray | None
    ) -> dict[str, np.ndarray]:
        extra = () if lengths is None else (self.put(lengths),)
        dp, dx, dh, dc = self._grads(self._params, self.put(x), *self._state(state), self.put(grad_y), *extra)
        grads = {n: np.asarray(g) for n, g in dp.items()}
        grads["x"], grads["h_0"] = np.asarray(dx), np.asarray(dh)
        if self.cell == "lstm":
            grads["c_0"] = np.asarray(dc)
        return grads

    def _prepare_forward_lengths(
        self, x: np.ndarray, state: State, lengths: np.ndarray
    ) -> Callable[[], None]:
        args = (self._params, self.put(x), *self._state(state), self.put(lengths))
        return lambda: jax.block_until_ready(self._fwd(*args))

    def _prepare_forward(self, x: np.ndarray, state: State) -> Callable[[], None]:
        args = (self._params, self.put(x), *self._state(state))
        return lambda: jax.block_until_ready(self._fwd(*args))

    def _prepare_backward(self, x: np.ndarray, grad_y: np.ndarray, state: State) -> Callable[[], None]:
        args = (self._params, self.put(x), *self._state(state), self.put(grad_y))
        return lambda: jax.block_until_ready(self._grads(*args))

    def _prepare_train_step(
        self, x: np.ndarray, grad_y: np.ndarray, state: State, lr: float
    ) -> Callable[[], None]:
        args = (self.put(x), *self._state(state), self.put(grad_y))
        forward = self.stack

        @jax.jit
        def step(params, x, h0, c0, gy):
            grads = stack_grads(forward, params, x, h0, c0, gy)[0]
            return jax.tree.map(lambda p, g: p - lr * g, params, grads)

        def run() -> None:
            self._params = jax.block_until_ready(step(self._params, *args))

        return run

    def reset_device_peak(self) -> None:
        if self.device != "gpu":
            super().reset_device_peak()
        # XLA cannot reset its peak: the harness measures in a fresh process and subtracts this
        self._peak_base = self._device.memory_stats().get("bytes_in_use", 0)

    def device_peak_bytes(self) -> int:
        if self.device != "gpu":
            super().device_peak_bytes()
        return int(self._device.memory_stats()["peak_bytes_in_use"]) - getattr(self, "_peak_base", 0)

    def _path(self) -> str:
        return f"xla:{self._device.platform}, projection {self.projection[self.device]}"

    def _trainer(self, config: TrainConfig, seed: int) -> Trainer:
        return JaxTrainer(self, config, seed)

    @classmethod
    def _train_together(cls, trainers: list[Trainer]) -> training.Runs:
        if type(trainers[0].model).stack is not JaxModel.stack:  # a plugin's stack may read its model
            return training.Runs(trainers)
        return JaxRuns(trainers)


@cache
def compiled(model_type: type[JaxModel], cell: str, device: str) -> tuple[Callable, Callable]:
    """The jitted forward and gradients of a variant's stack, shared by its models: XLA compiles once per
    variant, cell, shape and device, not again for every model (the gradient diagnostic builds dozens)."""
    forward = model_type.stack_of(cell, device)
    return jax.jit(forward), jax.jit(partial(stack_grads, forward))


class JaxUnrolledModel(JaxModel):
    """The same scan with ``unroll`` steps per iteration: fewer loop iterations, more fusion."""

    unroll = UNROLL

    def _path(self) -> str:
        return f"xla:{self._device.platform} unroll={self.unroll}, projection {self.projection[self.device]}"


class JaxHoistedModel(JaxModel):
    """The scan with the input projection hoisted out of it on every device (cuDNN's formulation, and
    ``jax``'s until it was measured slower on the CPU): with ``jax-in-step``, keeps the choice measurable
    on any device."""

    projection = {"cpu": "hoisted", "gpu": "hoisted"}


class JaxInStepModel(JaxModel):
    """The scan with the input projection in the step, a matmul per gate, on every device."""

    projection = {"cpu": "in step", "gpu": "in step"}


class JaxTrainer(Trainer):
    """One jitted step: value_and_grad, clipping and the optimizer update."""

    model: JaxModel

    def _build(self) -> None:
        m, config = self.model, self.config
        self._all = {**m._params, **{n: m.put(p) for n, p in self.readout_init.items()}}
        self._slots = {n: training.init_slots(config, jnp.zeros_like, p) for n, p in self._all.items()}
        self.output, self.pure_step = _training_functions(m, config)
        # an argument: runs trained together vmap over it
        self._lr = m.put(np.asarray(config.lr, dtype=counter_dtype(m)))
        self._jit_step = jax.jit(self.pure_step)
        self._jit_output = jax.jit(self.output)

    def _step(self, x: np.ndarray, target: np.ndarray, lengths: np.ndarray | None) -> float:
        m = self.model
        t = jnp.asarray(self.steps, dtype=counter_dtype(m))
        self._all, self._slots, loss = self._jit_step(
            self._all, self._slots, t, self._lr, m.put(x), m.put(target), _put(m, lengths)
        )
        m._params = {n: self._all[n] for n in m._params}
        return float(loss)

    def _predict(self, x: np.ndarray, lengths: np.ndarray | None) -> np.ndarray:
        return np.asarray(self._jit_output(self._all, self.model.put(x), _put(self.model, lengths)))

    def _readout(self) -> dict[str, np.ndarray]:
        return {n: np.array(self._all[n]) for n in training.READOUT}


def counter_dtype(m: JaxModel) -> np.dtype:
    """The dtype of the step count and learning rate: the model's, at least float32. In bfloat16, 0.999
    rounds to 1 and Adam's bias correction 1 - beta2**t to 0; torch.optim keeps them in Python floats."""
    return np.promote_types(m.dtype, np.float32)


def _put(m: JaxModel, a: np.ndarray | None):
    return None if a is None else m.put(a)


def _training_functions(m: JaxModel, config: TrainConfig) -> tuple[Callable, Callable]:
    """The pure readout output (params, x, lengths) and training step (params, slots, t, lr, x, target,
    lengths) -> (params, slots, loss) of a model trained by ``config``; ``lengths`` None or (batch,)."""
    layers, dtype = m.num_layers, m.dtype

    def output(params, x, lengths=None):
        zeros = jnp.zeros((layers, x.shape[0], m.hidden_size), dtype)
        c0 = zeros if m.cell == "lstm" else None
        if lengths is None:
            y, _, _ = m.stack(params, x, zeros, c0)
        else:  # the built-in stacks' own masked scan (takes_lengths: a plugin's stack has none)
            y, _, _ = type(m).stack_of(m.cell, m.device)(params, x, zeros, c0, lengths)
        h = training.last_outputs(jnp, y, lengths) if training.at_last_step(config) else y
        return h @ params["readout.weight"].T + params["readout.bias"]

    def loss_fn(params, x, target, lengths):
        out = output(params, x, lengths)
        if config.loss == "mse_last":
            return jnp.mean((out - target) ** 2)
        logp = jax.nn.log_softmax(out, axis=-1)
        return -jnp.mean(jnp.take_along_axis(logp, target[..., None], axis=-1))

    def step(params, slots, t, lr, x, target, lengths=None):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, target, lengths)
        scale = training.clip_scale(jnp, [jnp.sum(g * g) for g in grads.values()], config.clip)
        new_params, new_slots = {}, {}
        for name, p in params.items():
            delta, new_slots[name] = training.update(jnp, config, grads[name] * scale, slots[name], t, lr)
            new_params[name] = (p - delta).astype(p.dtype)  # a low-precision one stays so
        return new_params, new_slots, loss

    return output, step


class JaxRuns(training.Runs):
    """K runs in one compiled step: the single run's step under ``jax.vmap``, over the runs' parameters,
    optimizer slots, learning rates and batches."""

    fused = True

    def __init__(self, trainers: list[JaxTrainer]) -> None:
        super().__init__(trainers)
        first = trainers[0]
        self._model = first.model
        self._params = jax.tree.map(lambda *a: jnp.stack(a), *[t._all for t in trainers])
        self._slots = jax.tree.map(lambda *a: jnp.stack(a), *[t._slots for t in trainers])
        rates = np.array([t.config.lr for t in trainers], dtype=counter_dtype(first.model))
        self._lr = first.model.put(rates)
        self._steps = 0
        self._jit_step = jax.jit(jax.vmap(first.pure_step, in_axes=(0, 0, None, 0, 0, 0, 0)))
        self._jit_output = jax.jit(first.output)

    def step(
        self,
        xs: list[np.ndarray],
        targets: list[np.ndarray],
        active: list[bool] | None = None,
        lengths: list[np.ndarray] | None = None,
    ) -> list[float]:
        self._check_batches(xs, targets)
        checked = []  # the caller's list is left as it was given
        for trainer, x, target, n in zip(
            self.trainers, xs, targets, lengths or [None] * len(self), strict=True
        ):
            trainer.model._check_inputs(x, None)
            trainer._check_target(x, target)
            checked.append(trainer._lengths(x, n))
        lengths = checked
        if len({n is None for n in lengths}) > 1:
            raise ValueError("runs trained together either all have lengths or none has")
        stacked = None if lengths[0] is None else self._model.put(np.stack(lengths))
        self._steps += 1
        m = self._model
        t = jnp.asarray(self._steps, dtype=counter_dtype(m))
        self._params, self._slots, losses = self._jit_step(
            self._params, self._slots, t, self._lr, m.put(np.stack(xs)), m.put(np.stack(targets)), stacked
        )
        return [float(v) for v in np.asarray(losses)]

    def predict(self, run: int, x: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        x, _ = self._model._check_inputs(x, None)
        lengths = _put(self._model, self.trainers[run]._lengths(x, lengths))
        return np.asarray(self._jit_output(self._run_params(run), self._model.put(x), lengths))

    def params(self, run: int) -> dict[str, np.ndarray]:
        return {n: np.array(p) for n, p in self._run_params(run).items()}

    def _run_params(self, run: int) -> dict:
        return {n: p[run] for n, p in self._params.items()}


def set_threads(n: int) -> None:
    """XLA's CPU thread pool cannot be resized once started: the harness pins the process to ``n`` cores
    (os.sched_setaffinity) before JAX starts, which XLA follows."""


def thread_info() -> dict[str, object]:
    return {"cpu_affinity": len(os.sched_getaffinity(0))}


def flush_denormals() -> str:
    """XLA's CPU runtime already runs every computation with subnormals flushed (FTZ and DAZ); there is no
    switch: what the probe of a jitted multiply says."""
    multiply, cpu = jax.jit(lambda a, b: a * b), jax.devices("cpu")[0]
    return denormal_mode(lambda a, b: np.asarray(multiply(jax.device_put(a, cpu), jax.device_put(b, cpu))))


def allow_tf32() -> str:
    """XLA's default matmul precision at TF32 (this adapter sets it to ``highest`` at import); cuDNN's RNN
    (jax-cudnn) follows it too."""
    jax.config.update("jax_default_matmul_precision", "tensorfloat32")
    return "jax_default_matmul_precision = tensorfloat32"


def device_times(fn: Callable[[], object], rounds: int) -> dict[str, object]:
    """Not measured: JAX has no CUDA event API, and its profiler writes a trace rather than kernel times."""
    return {"device_timing": "not available in JAX (no CUDA events; the profiler writes a trace)"}


def deterministic() -> str:
    """XLA's deterministic GPU ops (its CPU backend is deterministic already); read when the backend starts,
    so set before any computation."""
    flag = "--xla_gpu_deterministic_ops=true"
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flag}".strip()
    return f"XLA_FLAGS={flag}"


def matmul(n: int, dtype: str, device: str) -> Callable[[], None]:
    """A synchronised n x n GEMM, for the calibration of the machine's peak."""
    dev = jax.devices("gpu" if device == "gpu" else "cpu")[0]
    a = jax.device_put(np.random.default_rng(0).random((n, n)).astype(dtype), dev)
    f = jax.jit(lambda a: a @ a)
    return lambda: f(a).block_until_ready()
