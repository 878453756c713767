"""NumPy reference: vectorised forward and a hand-written backward through time.

Written against an array module ``xp`` (numpy by default), so that the same code runs on a GPU through
CuPy (:mod:`impls.cupy_adapter`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import threadpoolctl

from impls import training
from impls.base import RecurrentModel, State, denormal_mode
from impls.layout import PARAM_KINDS, directions, layer_params, param_name
from impls.training import TrainConfig, Trainer


def _sigmoid(a: np.ndarray, out: np.ndarray | None = None, xp: Any = np) -> np.ndarray:
    """Logistic sigmoid as 0.5 * (1 + tanh(a / 2)): no overflow for any input, one transcendental pass."""
    out = xp.multiply(a, 0.5, out=out)
    xp.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def layer_forward(
    cell: str,
    x: np.ndarray,
    weights: tuple[np.ndarray, ...],
    h0: np.ndarray,
    c0: np.ndarray | None,
    xp: Any = np,
    projection: str = "hoisted",
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict[str, Any]]:
    """One layer over the whole sequence: (y, h_n, c_n or None, cache for the backward).
    Works time-major inside, so that every step reads and writes contiguous rows. ``projection``:
    ``hoisted``, every step's input projection in one GEMM before the loop (the reference); ``in step``,
    one GEMM per step inside it (and in the backward), as a plain loop over a cell does."""
    w_ih, w_hh, b_ih, b_hh = weights
    batch, time, _ = x.shape
    hid = w_hh.shape[1]
    # RNN and LSTM fold b_hh into the input projection's bias
    bias = b_ih + b_hh if cell != "gru" else b_ih
    hoisted = projection == "hoisted"
    if hoisted:
        # one 2-D GEMM over every (batch, step) row, then a time-major view: 1.7-2x faster here than NumPy's
        # batched matmul over the time-major view of x (a GEMM per step)
        flat = x.reshape(batch * time, -1) @ w_ih.T + bias
        xw = xp.swapaxes(flat.reshape(batch, time, -1), 0, 1)  # (time, batch, gates*hidden)
    else:
        x_steps, w_ih_t = xp.swapaxes(x, 0, 1), w_ih.T
    w_hh_t = w_hh.T
    ys = xp.empty((time, batch, hid), dtype=x.dtype)
    acts = xp.empty((time, batch, w_hh.shape[0]), dtype=x.dtype)
    cache: dict[str, Any] = {"x": x, "h0": h0, "ys": ys, "acts": acts, "projection": projection}
    h, c = h0, c0
    if cell == "lstm":
        cs = cache["cs"] = xp.empty_like(ys)
    if cell == "gru":
        hns = cache["hns"] = xp.empty_like(ys)
    for t in range(time):
        a = acts[t]
        xw_t = xw[t] if hoisted else x_steps[t] @ w_ih_t + bias
        if cell == "rnn":
            xp.matmul(h, w_hh_t, out=a)
            a += xw_t
            h = xp.tanh(a, out=a)
        elif cell == "lstm":
            xp.matmul(h, w_hh_t, out=a)
            a += xw_t
            i_f, g, o = a[:, : 2 * hid], a[:, 2 * hid : 3 * hid], a[:, 3 * hid :]
            _sigmoid(i_f, out=i_f, xp=xp)
            xp.tanh(g, out=g)
            _sigmoid(o, out=o, xp=xp)
            c = cs[t] = a[:, hid : 2 * hid] * c + a[:, :hid] * g
            h = o * xp.tanh(c)
        else:
            hw = h @ w_hh_t + b_hh
            rz = _sigmoid(xw_t[:, : 2 * hid] + hw[:, : 2 * hid], out=a[:, : 2 * hid], xp=xp)
            r, z = rz[:, :hid], rz[:, hid:]
            n = xp.tanh(xw_t[:, 2 * hid :] + r * hw[:, 2 * hid :], out=a[:, 2 * hid :])
            h = n + z * (h - n)
            hns[t] = hw[:, 2 * hid :]
        ys[t] = h
    return xp.swapaxes(ys, 0, 1), h, c, cache


def layer_backward(
    cell: str,
    dy: np.ndarray,
    weights: tuple[np.ndarray, ...],
    cache: dict[str, Any],
    xp: Any = np,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, tuple[np.ndarray, ...]]:
    """Backward through time of one layer: (dx, dh0, dc0 or None, (dW_ih, dW_hh, db_ih, db_hh))."""
    w_ih, w_hh, _, _ = weights
    x, h0, ys, acts = cache["x"], cache["h0"], cache["ys"], cache["acts"]
    time, batch, hid = ys.shape
    dy = xp.swapaxes(dy, 0, 1)
    h_prev = xp.concatenate([h0[None], ys[:-1]], axis=0)
    d_in = xp.empty_like(acts)  # gradient of the input-side pre-activations, time-major
    d_hid = d_in if cell != "gru" else xp.empty_like(acts)  # of the hidden-side ones
    dh = xp.zeros((batch, hid), dtype=ys.dtype)
    dc = xp.zeros_like(dh) if cell == "lstm" else None
    in_step = cache["projection"] == "in step"
    if in_step:  # the weights' gradients and dx a GEMM per step, as the forward's projection
        x_steps = xp.swapaxes(x, 0, 1)
        dx = xp.empty_like(x_steps)
        dw_ih, dw_hh = xp.zeros_like(w_ih), xp.zeros_like(w_hh)
    for t in reversed(range(time)):
        dh = dh + dy[t]
        if cell == "rnn":
            d_in[t] = dh * (1.0 - acts[t] ** 2)
        elif cell == "lstm":
            a = acts[t]
            i, f, g, o = a[:, :hid], a[:, hid : 2 * hid], a[:, 2 * hid : 3 * hid], a[:, 3 * hid :]
            c = cache["cs"][t]
            c_prev = cache["cs"][t - 1] if t > 0 else cache["c0"]
            tc = xp.tanh(c)
            dc = dc + dh * o * (1.0 - tc**2)
            d = d_in[t]
            d[:, :hid] = dc * g * i * (1.0 - i)
            d[:, hid : 2 * hid] = dc * c_prev * f * (1.0 - f)
            d[:, 2 * hid : 3 * hid] = dc * i * (1.0 - g**2)
            d[:, 3 * hid :] = dh * tc * o * (1.0 - o)
            dc = dc * f
        else:
            a = acts[t]
            r, z, n = a[:, :hid], a[:, hid : 2 * hid], a[:, 2 * hid :]
            dn = dh * (1.0 - z) * (1.0 - n**2)
            dr = dn * cache["hns"][t] * r * (1.0 - r)
            dz = dh * (h_prev[t] - n) * z * (1.0 - z)
            d_in[t, :, :hid] = d_hid[t, :, :hid] = dr
            d_in[t, :, hid : 2 * hid] = d_hid[t, :, hid : 2 * hid] = dz
            d_in[t, :, 2 * hid :] = dn
            d_hid[t, :, 2 * hid :] = dn * r
            dh = dh * z
        dh = (dh if cell == "gru" else 0.0) + d_hid[t] @ w_hh
        if in_step:
            dx[t] = d_in[t] @ w_ih
            dw_ih += d_in[t].T @ x_steps[t]
            dw_hh += d_hid[t].T @ h_prev[t]
    flat_in = d_in.reshape(time * batch, -1)
    flat_hid = d_hid.reshape(time * batch, -1)
    if not in_step:  # one 2-D GEMM each, as in the forward
        dw_ih = flat_in.T @ xp.swapaxes(x, 0, 1).reshape(time * batch, -1)
        dw_hh = flat_hid.T @ h_prev.reshape(time * batch, hid)
        dx = (flat_in @ w_ih).reshape(time, batch, -1)
    grads = (dw_ih, dw_hh, flat_in.sum(axis=0), flat_hid.sum(axis=0))
    return xp.swapaxes(dx, 0, 1), dh, dc, grads


class NumpyModel(RecurrentModel):
    """The reference implementation every other framework is checked against."""

    framework = "numpy"
    takes_bidirectional = True
    lengths_mechanism = "sequence by sequence"
    xp: Any = np  # the array module it computes with
    projection = "hoisted"  # where the input projection goes (layer_forward)

    def _build(self) -> None:
        if self.device != "cpu":
            from impls.base import DeviceUnavailableError

            raise DeviceUnavailableError("the NumPy reference runs on the CPU only")
        self._params: dict[str, np.ndarray] = {}

    # moving arrays between the host and the array module's device: nothing to do for NumPy

    def _to_device(self, a: Any) -> Any:
        return a

    def _to_host(self, a: Any) -> np.ndarray:
        return a

    def _sync(self) -> None:
        """Wait for the device's queued work (NumPy has none)."""

    def _state_to_device(self, state: State) -> Any:
        return tuple(map(self._to_device, state)) if isinstance(state, tuple) else self._to_device(state)

    def _get_params(self) -> dict[str, np.ndarray]:
        return {n: np.array(self._to_host(p), copy=True) for n, p in self._params.items()}

    def _set_params(self, params: dict[str, np.ndarray]) -> None:
        self._params = {n: self._to_device(p) for n, p in params.items()}

    def _run(self, x: Any, state: Any) -> tuple[Any, Any, list]:
        """The stack on device arrays: (y, final state, the caches of each layer's directions). A reverse
        direction runs the layer's input reversed in time and reverses its output back."""
        xp = self.xp
        h0, c0 = state if self.cell == "lstm" else (state, None)
        hs, cs, caches = [], [], []
        y = x
        for k in range(self.num_layers):
            outputs = []
            for reverse in directions(self.bidirectional):
                j = k * self.directions + reverse  # this direction's state, PyTorch's order
                ck = c0[j] if c0 is not None else None
                weights = layer_params(self._params, k, reverse)
                inputs = y[:, ::-1] if reverse else y
                out, h, c, cache = layer_forward(self.cell, inputs, weights, h0[j], ck, xp, self.projection)
                outputs.append(out[:, ::-1] if reverse else out)
                cache["c0"] = ck
                hs.append(h)
                cs.append(c)
                caches.append(cache)
            y = outputs[0] if len(outputs) == 1 else xp.concatenate(outputs, axis=-1)
        h_n = xp.stack(hs)
        return y, ((h_n, xp.stack(cs)) if self.cell == "lstm" else h_n), caches

    def _backward_from(self, caches: list, grad_y: Any) -> dict[str, Any]:
        """Every gradient, on the device, from the forward's caches."""
        grads: dict[str, Any] = {}
        dh0: list = [None] * len(caches)
        dc0: list = [None] * len(caches)
        dy, hid = grad_y, self.hidden_size
        for k in reversed(range(self.num_layers)):
            dxs = []
            for reverse in directions(self.bidirectional):
                j = k * self.directions + reverse
                weights = layer_params(self._params, k, reverse)
                d_out = dy[:, :, reverse * hid : (reverse + 1) * hid]
                d_in, dh0[j], dc0[j], layer_grads = layer_backward(
                    self.cell, d_out[:, ::-1] if reverse else d_out, weights, caches[j], self.xp
                )
                dxs.append(d_in[:, ::-1] if reverse else d_in)
                for kind, g in zip(PARAM_KINDS, layer_grads, strict=True):
                    grads[param_name(kind, k, reverse)] = g
            dy = dxs[0] if len(dxs) == 1 else dxs[0] + dxs[1]
        grads["x"] = dy
        grads["h_0"] = self.xp.stack(dh0)
        if self.cell == "lstm":
            grads["c_0"] = self.xp.stack(dc0)
        return grads

    def _forward(self, x: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        y, final, _ = self._run(self._to_device(x), self._state_to_device(state))
        host = tuple(map(self._to_host, final)) if isinstance(final, tuple) else self._to_host(final)
        return self._to_host(y), host

    def _backward(self, x: np.ndarray, grad_y: np.ndarray, state: State) -> dict[str, np.ndarray]:
        caches = self._run(self._to_device(x), self._state_to_device(state))[2]
        grads = self._backward_from(caches, self._to_device(grad_y))
        return {n: self._to_host(g) for n, g in grads.items()}

    # the reference's own mechanism for lengths: every sequence on its own, to its own end
    takes_lengths = True

    def _forward_lengths(self, x: np.ndarray, state: State, lengths: np.ndarray) -> tuple[np.ndarray, State]:
        y = np.zeros((*x.shape[:2], self.directions * self.hidden_size), dtype=x.dtype)
        finals = []
        for b, n in enumerate(lengths):
            y[b, :n], final = self._forward(x[b : b + 1, :n], _sequence(state, b))
            finals.append(final)
        return y, _batch_of(finals)

    def _backward_lengths(
        self, x: np.ndarray, grad_y: np.ndarray, state: State, lengths: np.ndarray
    ) -> dict[str, np.ndarray]:
        total: dict[str, np.ndarray] = {}
        grads_x = np.zeros_like(x)
        per_sequence = []
        for b, n in enumerate(lengths):
            g = self._backward(x[b : b + 1, :n], grad_y[b : b + 1, :n], _sequence(state, b))
            grads_x[b, :n] = g.pop("x")[0]
            per_sequence.append((g.pop("h_0"), g.pop("c_0", None)))
            for name, value in g.items():
                total[name] = total[name] + value if name in total else value
        total["x"], total["h_0"] = grads_x, np.concatenate([h for h, _ in per_sequence], axis=1)
        if self.cell == "lstm":
            total["c_0"] = np.concatenate([c for _, c in per_sequence], axis=1)
        return total

    def _path(self) -> str:
        return "numpy" if self.projection == "hoisted" else "numpy, projection in step"

    def _trainer(self, config: TrainConfig, seed: int) -> Trainer:
        return NumpyTrainer(self, config, seed)

    def _prepare_forward(self, x: np.ndarray, state: State) -> Callable[[], None]:
        x, state = self._to_device(x), self._state_to_device(state)

        def run() -> None:
            self._run(x, state)
            self._sync()

        return run

    def _prepare_backward(self, x: np.ndarray, grad_y: np.ndarray, state: State) -> Callable[[], None]:
        x, grad_y, state = self._to_device(x), self._to_device(grad_y), self._state_to_device(state)

        def run() -> None:
            self._backward_from(self._run(x, state)[2], grad_y)
            self._sync()

        return run

    def _prepare_train_step(
        self, x: np.ndarray, grad_y: np.ndarray, state: State, lr: float
    ) -> Callable[[], None]:
        x, grad_y, state = self._to_device(x), self._to_device(grad_y), self._state_to_device(state)

        def run() -> None:
            grads = self._backward_from(self._run(x, state)[2], grad_y)
            for name, p in self._params.items():
                p -= lr * grads[name]
            self._sync()

        return run


def _sequence(state: State, b: int) -> State:
    """Sequence ``b``'s initial state, kept (layers, 1, hidden)."""
    if isinstance(state, tuple):
        return tuple(s[:, b : b + 1] for s in state)
    return state[:, b : b + 1]


def _batch_of(finals: list) -> State:
    """The per-sequence final states joined along the batch."""
    if isinstance(finals[0], tuple):
        return tuple(np.concatenate(parts, axis=1) for parts in zip(*finals, strict=True))
    return np.concatenate(finals, axis=1)


class NumpyInStepModel(NumpyModel):
    """The reference with the input projection in the loop: a GEMM per step, forward and backward, as a
    plain loop over a cell does; against the reference, what hoisting buys NumPy."""

    projection = "in step"


class NumpyTrainer(Trainer):
    """Hand-written backward and optimizer, on the model's array module."""

    model: NumpyModel

    def _build(self) -> None:
        self._readout_params = {n: self.model._to_device(p.copy()) for n, p in self.readout_init.items()}
        self._slots: dict[str, list] = {}

    def _all(self) -> dict[str, Any]:
        return {**self.model._params, **self._readout_params}

    def _step(self, x: np.ndarray, target: np.ndarray, lengths: np.ndarray | None) -> float:
        m, xp = self.model, self.model.xp
        state = m._check_inputs(x, None)[1]
        readout, target = self._readout_params, m._to_device(target)
        if lengths is None:
            y, _, caches = m._run(m._to_device(x), m._state_to_device(state))
            loss, dy, grads = training.loss_and_grad_numpy(self.config, y, target, readout)
            grads.update(m._backward_from(caches, dy))
        else:  # the reference's own way: sequence by sequence, on the host
            y = m._to_device(m._forward_lengths(x, state, lengths)[0])
            lengths_on = m._to_device(lengths)
            loss, dy, grads = training.loss_and_grad_numpy(self.config, y, target, readout, lengths_on)
            stack = m._backward_lengths(x, m._to_host(dy), state, lengths)
            grads.update({n: m._to_device(g) for n, g in stack.items()})
        params = self._all()
        scale = training.clip_scale(xp, [xp.sum(grads[n] ** 2) for n in params], self.config.clip)
        for name, p in params.items():
            slots = self._slots.get(name) or training.init_slots(self.config, xp.zeros_like, p)
            grad = grads[name] * scale
            delta, self._slots[name] = training.update(xp, self.config, grad, slots, self.steps)
            p -= delta
        return loss

    def _predict(self, x: np.ndarray, lengths: np.ndarray | None) -> np.ndarray:
        state = self.model._check_inputs(x, None)[1]
        if lengths is None:
            y, _ = self.model._forward(x, state)
        else:
            y, _ = self.model._forward_lengths(x, state, lengths)
        readout = {n: self.model._to_host(p) for n, p in self._readout_params.items()}
        return training.predict_numpy(self.config, y, readout, lengths)

    def _readout(self) -> dict[str, np.ndarray]:
        return {n: np.array(self.model._to_host(p), copy=True) for n, p in self._readout_params.items()}


def set_threads(n: int) -> None:
    """BLAS threads for NumPy's matmuls."""
    threadpoolctl.threadpool_limits(n)


def thread_info() -> dict[str, object]:
    """The thread counts NumPy's BLAS reports."""
    return {"blas": [p.get("num_threads") for p in threadpoolctl.threadpool_info()]}


def flush_denormals() -> str:
    """NumPy offers no switch for subnormals: its arithmetic keeps them (what the probe says)."""
    return denormal_mode(np.multiply)


def allow_tf32() -> str:
    """NumPy has no TF32; CuPy (numpy-cupy) would need CUPY_TF32=1 before it starts: not set."""
    return "nothing: no TF32 in NumPy, CuPy left at float32"


def device_times(fn: Callable[[], object], rounds: int) -> dict[str, object]:
    """On a GPU (numpy-cupy): CuPy's CUDA events and the wall time with the L2 flushed."""
    from impls import cupy_adapter

    return cupy_adapter.device_times(fn, rounds)


def deterministic() -> str:
    """Nothing to set: NumPy's reference runs the same operations in the same order every time."""
    return "nothing to set"


def matmul(n: int, dtype: str, device: str) -> Callable[[], None]:
    """A synchronised n x n GEMM, for the calibration of the machine's peak (through CuPy on a GPU)."""
    if device == "gpu":
        from impls import cupy_adapter

        return cupy_adapter.matmul(n, dtype)
    a = np.random.default_rng(0).random((n, n)).astype(dtype)
    return lambda: a @ a
