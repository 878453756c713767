"""A GRU written by hand in JAX, as an rnnbench plugin; and the same with the textbook reset placement."""

import jax
import jax.numpy as jnp

from impls.jax_adapter import JaxModel
from impls.layout import layer_params


class DemoGRU(JaxModel):
    """A GRU in jax.numpy: the reset gate scales the recurrent projection (PyTorch, cuDNN)."""

    cells = ("gru",)
    devices = ("cpu", "gpu")

    def new_state(self, x_t, h, w_ih, w_hh, b_ih, b_hh):
        xr, xz, xn = jnp.split(x_t @ w_ih.T + b_ih, 3, axis=-1)
        hr, hz, hn = jnp.split(h @ w_hh.T + b_hh, 3, axis=-1)
        r, z = jax.nn.sigmoid(xr + hr), jax.nn.sigmoid(xz + hz)
        return (1 - z) * jnp.tanh(xn + r * hn) + z * h

    def stack(self, params, x, h0, c0):
        finals = []
        for k in range(h0.shape[0]):
            weights = layer_params(params, k)

            def step(h, x_t, weights=weights):
                h = self.new_state(x_t, h, *weights)
                return h, h

            h, ys = jax.lax.scan(step, h0[k], jnp.swapaxes(x, 0, 1))
            x = jnp.swapaxes(ys, 0, 1)
            finals.append(h)
        return x, jnp.stack(finals), None


class TextbookGRU(DemoGRU):
    """The textbook GRU (Cho et al. 2014): the reset gate scales h before the recurrent matmul."""

    def new_state(self, x_t, h, w_ih, w_hh, b_ih, b_hh):
        hid = h.shape[-1]
        xr, xz, xn = jnp.split(x_t @ w_ih.T + b_ih, 3, axis=-1)
        hr, hz = jnp.split(h @ w_hh[: 2 * hid].T + b_hh[: 2 * hid], 2, axis=-1)
        r, z = jax.nn.sigmoid(xr + hr), jax.nn.sigmoid(xz + hz)
        n = jnp.tanh(xn + (r * h) @ w_hh[2 * hid :].T + b_hh[2 * hid :])
        return (1 - z) * n + z * h


def not_a_model():
    """Registered by mistake: not a RecurrentModel."""
