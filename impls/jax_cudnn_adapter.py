"""JAX's cuDNN RNN: ``jax.experimental.rnn.lstm``, the fused cuDNN LSTM that Keras's JAX backend calls on a
GPU. It takes every layer's weights packed in one flat vector (per layer ``W_ih``, ``W_hh``; then per layer
``b_ih``, ``b_hh``; gates i, f, g, o: PyTorch's layout, so the canonical parameters pack without a
transpose) and has a lowering for CUDA (and ROCm) only. The canonical parameters stay the model's; the
packing happens inside the jitted function, so autodiff (cuDNN's own backward) maps gradients back."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
from jax.experimental import rnn

from impls import training
from impls.jax_adapter import JaxModel
from impls.layout import layer_params
from impls.training import Trainer


def pack(params: dict, num_layers: int) -> jax.Array:
    """The canonical parameters as the flat weight vector ``jax.experimental.rnn.lstm`` reads."""
    layers = [layer_params(params, k) for k in range(num_layers)]
    matrices = [w.reshape(-1) for w_ih, w_hh, _, _ in layers for w in (w_ih, w_hh)]
    biases = [b for _, _, b_ih, b_hh in layers for b in (b_ih, b_hh)]
    return jnp.concatenate(matrices + biases)


def cudnn_stack(params: dict, x, h0, c0, precision: str | None = None):
    """The whole LSTM stack through cuDNN: (y, h_n, c_n). ``precision`` None follows
    ``jax_default_matmul_precision``: ``highest`` (TF32 off) as the JAX adapters set it."""
    num_layers, batch, hidden = h0.shape
    lengths = jnp.full((batch,), x.shape[1], dtype=jnp.int32)
    weights = pack(params, num_layers)
    return rnn.lstm(
        x, h0, c0, weights, lengths, x.shape[2], hidden, num_layers, 0.0, False, precision=precision
    )


class JaxCudnnModel(JaxModel):
    """``jax.experimental.rnn.lstm`` under ``jit``: cuDNN's fused LSTM, float32, TF32 as JAX's matmuls."""

    precision: str | None = None
    takes_bidirectional = False  # one direction here, as jax-cudnn packs its weights
    takes_lengths = False  # cuDNN takes seq_lengths, but JAX's reference kernel (the CPU stand-in) does not

    @classmethod
    def stack_of(cls, cell: str, device: str = "cpu") -> Callable:
        return partial(cudnn_stack, precision=cls.precision)

    def _path(self) -> str:
        return f"cudnn via jax.experimental.rnn (xla:{self._device.platform})"

    @classmethod
    def _train_together(cls, trainers: list[Trainer]) -> training.Runs:
        return training.Runs(trainers)  # cuDNN's RNN primitive has no batching rule for jax.vmap: in turn
