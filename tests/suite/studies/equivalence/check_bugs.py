"""Test only: the mapping bugs the equivalence check must see, each as the NumPy reference computing from the
weights a wrong mapping would hold; and the textbook GRU (its reset gate before the recurrent matmul)."""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

import numpy as np

from impls.layout import GATES, gate_permute
from impls.numpy_adapter import NumpyModel

Mutation = Callable[[dict[str, np.ndarray], int], dict[str, np.ndarray]]


def swap(a: int, b: int) -> Mutation:
    """Gate blocks a and b exchanged in every weight and bias."""

    def mutate(params, hidden):
        gates = params["weight_ih_l0"].shape[0] // hidden
        order = list(range(gates))
        order[a], order[b] = b, a
        return {n: gate_permute(p, order) for n, p in params.items()}

    return mutate


def drop(kind: str, gate: int | None = None) -> Mutation:
    """Every layer's ``kind`` bias (only gate block ``gate`` of it, when given) set to zero."""

    def mutate(params, hidden):
        out = {n: p.copy() for n, p in params.items()}
        for n, p in out.items():
            if n.startswith(kind):
                p[slice(None) if gate is None else slice(gate * hidden, (gate + 1) * hidden)] = 0
        return out

    return mutate


def merge_gru_n_bias(params, hidden):
    """The GRU's b_hn added to b_in (outside the reset gate) instead of kept inside it."""
    out = {n: p.copy() for n, p in params.items()}
    n = slice(2 * hidden, 3 * hidden)
    for name in [k for k in out if k.startswith("bias_hh")]:
        out[name.replace("bias_hh", "bias_ih")][n] += out[name][n]
        out[name][n] = 0
    return out


def mutations(cell: str) -> dict[str, Mutation]:
    """Every bug of these kinds that applies to ``cell``, by name."""
    names = {"lstm": "ifgo", "gru": "rzn"}.get(cell, "")
    found: dict[str, Mutation] = {
        f"swapped gates {names[a]}, {names[b]}": swap(a, b) for a, b in combinations(range(GATES[cell]), 2)
    }
    found["dropped bias_ih"] = drop("bias_ih")
    found["dropped bias_hh"] = drop("bias_hh")
    if cell == "gru":
        found["dropped b_hn"] = drop("bias_hh", 2)
        found["merged b_hn into b_in"] = merge_gru_n_bias
    return found


class Mutated(NumpyModel):
    """The NumPy reference computing from ``mutation`` of the weights it is given."""

    mutation: Mutation

    def _set_params(self, params: dict[str, np.ndarray]) -> None:
        super()._set_params(self.mutation(params, self.hidden_size))


def mutated(mutation: Mutation, cell: str, shape, dtype: str) -> NumpyModel:
    cls = type("MutatedModel", (Mutated,), {"mutation": staticmethod(mutation)})
    model = cls(cell, shape.input_size, shape.hidden_size, shape.num_layers, dtype)
    model.implementation = "mutated"
    return model


def textbook_gru(shape, dtype: str) -> NumpyModel:
    """A GRU whose reset gate scales h before the recurrent matmul (Cho et al. 2014, Keras reset_after=False):
    n = tanh(W_in x + b_in + W_hn (r * h) + b_hn), where the canonical GRU has r * (W_hn h + b_hn). Forward
    only."""
    return _Textbook("gru", shape.input_size, shape.hidden_size, shape.num_layers, dtype)


class _Textbook(NumpyModel):
    implementation = "textbook-gru"

    def _forward(self, x, state):
        hid = self.hidden_size
        ys = x
        finals = []
        for k in range(self.num_layers):
            w_ih, w_hh = self._params[f"weight_ih_l{k}"], self._params[f"weight_hh_l{k}"]
            b_ih, b_hh = self._params[f"bias_ih_l{k}"], self._params[f"bias_hh_l{k}"]
            h, out = state[k], []
            for t in range(ys.shape[1]):
                xi = ys[:, t] @ w_ih.T + b_ih
                hh = h @ w_hh[: 2 * hid].T + b_hh[: 2 * hid]
                r = 1 / (1 + np.exp(-(xi[:, :hid] + hh[:, :hid])))
                z = 1 / (1 + np.exp(-(xi[:, hid : 2 * hid] + hh[:, hid:])))
                n = np.tanh(xi[:, 2 * hid :] + (r * h) @ w_hh[2 * hid :].T + b_hh[2 * hid :])
                h = (1 - z) * n + z * h
                out.append(h)
            ys = np.stack(out, axis=1)
            finals.append(h)
        return ys, np.stack(finals)
