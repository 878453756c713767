"""The canonical parameter layout (PyTorch's names, shapes and gate order) and its initialisation."""

from __future__ import annotations

import numpy as np

CELLS: tuple[str, ...] = ("rnn", "lstm", "gru")
DTYPES: tuple[str, ...] = ("float32", "float64")
GATES: dict[str, int] = {"rnn": 1, "lstm": 4, "gru": 3}

PARAM_KINDS: tuple[str, ...] = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def param_name(kind: str, layer: int) -> str:
    """Canonical name of one parameter, e.g. ``weight_ih_l0``."""
    return f"{kind}_l{layer}"


def param_shapes(cell: str, input_size: int, hidden_size: int, num_layers: int) -> dict[str, tuple[int, ...]]:
    """Names and shapes of every parameter of a stack, in canonical order."""
    g = GATES[cell] * hidden_size
    shapes: dict[str, tuple[int, ...]] = {}
    for k in range(num_layers):
        layer_in = input_size if k == 0 else hidden_size
        shapes[param_name("weight_ih", k)] = (g, layer_in)
        shapes[param_name("weight_hh", k)] = (g, hidden_size)
        shapes[param_name("bias_ih", k)] = (g,)
        shapes[param_name("bias_hh", k)] = (g,)
    return shapes


def init_params(
    cell: str, input_size: int, hidden_size: int, num_layers: int, dtype: str, seed: int
) -> dict[str, np.ndarray]:
    """PyTorch's default initialisation, U(-1/sqrt(H), 1/sqrt(H)), drawn from a seeded NumPy generator."""
    rng = np.random.default_rng(seed)
    bound = 1.0 / np.sqrt(hidden_size)
    return {
        name: rng.uniform(-bound, bound, size=shape).astype(dtype)
        for name, shape in param_shapes(cell, input_size, hidden_size, num_layers).items()
    }


def layer_params(params: dict[str, np.ndarray], layer: int) -> tuple[np.ndarray, ...]:
    """(weight_ih, weight_hh, bias_ih, bias_hh) of one layer."""
    return tuple(params[param_name(kind, layer)] for kind in PARAM_KINDS)


def gate_permute(w: np.ndarray, order: list[int]) -> np.ndarray:
    """Reorder the gate blocks along the first axis of a canonical weight or bias."""
    gates = len(order)
    return w.reshape(gates, w.shape[0] // gates, *w.shape[1:])[order].reshape(w.shape)
