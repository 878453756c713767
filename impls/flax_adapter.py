"""JAX through flax: flax.linen's own cells (``SimpleCell``, ``OptimizedLSTMCell``, ``GRUCell``) driven by
``flax.linen.RNN``, the way flax users drive them. linen rather than nnx: linen's cells map exactly onto the
canonical layout, while nnx's GRUCell has no bias on the recurrent n-gate (b_hn), so it computes the
canonical GRU only when b_hn = 0. Parameters stay canonical; :func:`to_flax` maps them to flax's inside the
jitted function (a few transposes and sums per call), so autodiff maps the gradients back exactly."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import flax.linen as nn
import jax.numpy as jnp

from impls.jax_adapter import JaxModel
from impls.layout import layer_params, param_name

_CELLS = {"rnn": nn.SimpleCell, "lstm": nn.OptimizedLSTMCell, "gru": nn.GRUCell}
_GATES = {"lstm": "ifgo", "gru": "rzn"}
_RNNS = ("forward_rnn", "backward_rnn")  # nn.Bidirectional's two directions


def to_flax(cell: str, weights: tuple) -> dict:
    """Canonical (W_ih, W_hh, b_ih, b_hh) of one layer -> the flax cell's params. Biases flax keeps merged
    (the RNN's, the LSTM's, the GRU's r and z) are b_ih + b_hh; the GRU's n-gate keeps b_in and b_hn apart."""
    w_ih, w_hh, b_ih, b_hh = weights
    if cell == "rnn":
        return {"i": {"kernel": w_ih.T, "bias": b_ih + b_hh}, "h": {"kernel": w_hh.T}}
    hid = w_hh.shape[1]
    block = {g: slice(j * hid, (j + 1) * hid) for j, g in enumerate(_GATES[cell])}
    if cell == "lstm":
        out = {}
        for g, s in block.items():
            out[f"i{g}"] = {"kernel": w_ih[s].T}
            out[f"h{g}"] = {"kernel": w_hh[s].T, "bias": b_ih[s] + b_hh[s]}
        return out
    r, z, n = block["r"], block["z"], block["n"]
    return {
        "ir": {"kernel": w_ih[r].T, "bias": b_ih[r] + b_hh[r]},
        "iz": {"kernel": w_ih[z].T, "bias": b_ih[z] + b_hh[z]},
        "in": {"kernel": w_ih[n].T, "bias": b_ih[n]},
        "hr": {"kernel": w_hh[r].T},
        "hz": {"kernel": w_hh[z].T},
        "hn": {"kernel": w_hh[n].T, "bias": b_hh[n]},
    }


def flax_stack(cell: str, params: dict, x, h0, c0, lengths=None, compute: str = ""):
    """The whole stack through nn.RNN, layer after layer: (y, h_n, c_n or None); with ``lengths``, flax's
    own ``seq_lengths`` (the carry of each sequence's last step), the outputs past each end set to zero.
    Bidirectional where ``params`` hold the reverse directions: each layer an ``nn.Bidirectional``. With
    ``compute`` (a dtype), flax's mixed precision: the cells' ``dtype`` is it, their ``param_dtype`` the
    weights'; the carry goes in ``compute`` too (flax's cells return it so; ``nn.RNN``'s scan needs one
    dtype), and the outputs come back in ``x``'s dtype."""
    if not compute:
        return _flax_stack(cell, params, x, h0, c0, lengths, param_dtype=x.dtype)
    c0 = None if c0 is None else c0.astype(compute)
    y, hs, cs = _flax_stack(cell, params, x.astype(compute), h0.astype(compute), c0, lengths, x.dtype)
    return y.astype(x.dtype), hs.astype(x.dtype), None if cs is None else cs.astype(x.dtype)


def _flax_stack(cell: str, params: dict, x, h0, c0, lengths, param_dtype):
    hid = h0.shape[-1]
    hs, cs = [], []
    mask = None if lengths is None else (jnp.arange(x.shape[1])[None, :] < lengths[:, None])[:, :, None]
    both = param_name("weight_ih", 0, True) in params
    dtype = x.dtype

    def rnn():
        return nn.RNN(_CELLS[cell](features=hid, dtype=dtype, param_dtype=param_dtype), return_carry=True)

    def carry(j):
        return (c0[j], h0[j]) if cell == "lstm" else h0[j]  # flax's LSTM carry is (c, h)

    for k in range(h0.shape[0] // (2 if both else 1)):
        if both:
            layer = nn.Bidirectional(rnn(), rnn(), return_carry=True)
            cells = {d: {"cell": to_flax(cell, layer_params(params, k, d == "backward_rnn"))} for d in _RNNS}
            initial = (carry(2 * k), carry(2 * k + 1))
        else:
            layer, cells, initial = rnn(), {"cell": to_flax(cell, layer_params(params, k))}, carry(k)
        finals, x = layer.apply({"params": cells}, x, initial_carry=initial, seq_lengths=lengths)
        if mask is not None:
            x = jnp.where(mask, x, 0)
        for final in finals if both else (finals,):
            c, h = final if cell == "lstm" else (None, final)
            hs.append(h)
            cs.append(c)
    return x, jnp.stack(hs), None if c0 is None else jnp.stack(cs)


class FlaxModel(JaxModel):
    """flax.linen.RNN over flax's own cells."""

    lengths_mechanism = "seq_lengths"

    @classmethod
    def stack_of(cls, cell: str, device: str = "cpu") -> Callable:
        return partial(flax_stack, cell)

    def _path(self) -> str:
        return f"flax.linen.RNN, xla:{self._device.platform}"


class FlaxMixedModel(FlaxModel):
    """flax's cells with ``dtype=bfloat16, param_dtype=float32``: flax's mixed precision."""

    computes_in = "bfloat16"

    @classmethod
    def stack_of(cls, cell: str, device: str = "cpu") -> Callable:
        return partial(flax_stack, cell, compute=cls.computes_in)

    def _path(self) -> str:
        platform = self._device.platform
        return f"flax.linen.RNN, dtype {self.computes_in}, param_dtype {self.dtype}, xla:{platform}"
