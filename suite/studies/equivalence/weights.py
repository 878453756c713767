"""The weights the equivalence check loads into every implementation: the canonical layout, drawn from a
seed by NumPy alone (never read from an implementation), in float64, rounded once to the row's dtype.

They are not an initialisation: biases and weights are scaled so that every gate of every layer saturates
for some units and steps and sits mid-range for others. With tame weights (PyTorch's U(-1/sqrt(H), 1/sqrt(H)))
every sigmoid sits near 0.5, so a swapped gate, a dropped or merged bias or a misplaced reset gate moves the
outputs little more than rounding does; here each moves them far above the check's tolerance."""

from __future__ import annotations

import numpy as np

from impls.layout import GATES, directions, param_name, param_shapes
from impls.numpy_adapter import NumpyModel

# the units' total biases of each gate lie evenly spread within (-span, span) (at hidden size 6: +-3, +-1.8,
# +-0.6 for a sigmoid): a sigmoid saturates beyond |a| = 2.9, a tanh beyond 1.8. The ends are left out, so
# that even two units are not both pinned at every step: with both pinned, float32 rounding alone took the
# tanh RNN's d_h_0 to 9e-6 in the reference and 3.5e-5 in TensorFlow (hidden 2, 5 steps)
BIAS_SPAN = {"sigmoid": 3.6, "tanh": 1.8}
# W_ih x has about this standard deviation for the first layer's unit-variance inputs, W_hh h this times h's;
# the deeper layers' inputs are states in (-1, 1), of smaller variance, so their W_ih is scaled up
GAIN = {"input": 1.5, "deeper input": 2.5, "recurrent": 1.0}
# the tanh blocks of each cell, by their index in the canonical gate order; the others are sigmoids
TANH_GATES: dict[str, tuple[int, ...]] = {"rnn": (0,), "lstm": (2,), "gru": (2,)}
GATE_NAMES: dict[str, str] = {"rnn": "h", "lstm": "ifgo", "gru": "rzn"}


def draw(
    cell: str, input_size: int, hidden_size: int, num_layers: int, seed: int, bidirectional: bool = False
) -> dict[str, np.ndarray]:
    """Every parameter of a stack in float64, from ``seed`` alone: weights normal, scaled by ``GAIN``; each
    gate's units get total biases spread evenly within its ``BIAS_SPAN`` (shuffled), split at random between
    ``bias_ih`` and ``bias_hh``, so both are non-zero and differ. Each direction of a bidirectional layer
    gets its own."""
    rng = np.random.default_rng([seed, 22])
    shapes = param_shapes(cell, input_size, hidden_size, num_layers, bidirectional)
    midpoints = (2 * np.arange(hidden_size) + 1) / hidden_size - 1  # evenly in (-1, 1), the ends left out
    params: dict[str, np.ndarray] = {}
    for k, reverse in ((k, r) for k in range(num_layers) for r in directions(bidirectional)):
        gains = {"weight_ih": GAIN["input" if k == 0 else "deeper input"], "weight_hh": GAIN["recurrent"]}
        for kind, gain in gains.items():
            shape = shapes[param_name(kind, k, reverse)]
            params[param_name(kind, k, reverse)] = rng.standard_normal(shape) * gain / np.sqrt(shape[1])
        spans = [BIAS_SPAN["tanh" if j in TANH_GATES[cell] else "sigmoid"] for j in range(GATES[cell])]
        total = np.concatenate([rng.permutation(s * midpoints) for s in spans])
        b_hh = rng.uniform(-1, 1, total.shape)
        params[param_name("bias_ih", k, reverse)] = total - b_hh
        params[param_name("bias_hh", k, reverse)] = b_hh
    return {name: params[name] for name in shapes}


def rounded(params: dict[str, np.ndarray], dtype: str) -> dict[str, np.ndarray]:
    """``params`` rounded once to ``dtype``: what the implementation under test loads. Their float64
    values (exact) are what the reference computes from."""
    return {name: p.astype(dtype) for name, p in params.items()}


def gate_activity(
    cell: str, params: dict[str, np.ndarray], x: np.ndarray, state: np.ndarray | tuple | None = None
) -> dict[str, tuple[float, float]]:
    """Per layer, direction and gate (e.g. ``l0.f``, ``l0_reverse.f``): the shares of its values over batch,
    time and units that are saturated (a sigmoid outside [0.05, 0.95], a tanh beyond +-0.95) and mid-range
    (a sigmoid within [0.25, 0.75], a tanh within +-0.5), running the NumPy reference in float64."""
    bidirectional = param_name("weight_ih", 0, True) in params
    input_size, hid = params[param_name("weight_ih", 0)].shape[1], params[param_name("weight_hh", 0)].shape[1]
    num_layers = sum(name.startswith("weight_ih_l") for name in params) // len(directions(bidirectional))
    model = NumpyModel(cell, input_size, hid, num_layers, "float64", bidirectional=bidirectional)
    model.set_params({n: p.astype(np.float64) for n, p in params.items()})
    x, state = model._check_inputs(x.astype(np.float64), _float64(state))
    caches = model._run(x, state)[2]  # one per layer and direction, in the canonical order
    names = [f"l{k}{'_reverse' if r else ''}" for k in range(num_layers) for r in directions(bidirectional)]
    activity = {}
    for name, cache in zip(names, caches, strict=True):
        acts = cache["acts"]  # (time, batch, gates * hidden), each gate after its nonlinearity
        for j, gate in enumerate(GATE_NAMES[cell]):
            v = acts[..., j * hid : (j + 1) * hid]
            if j in TANH_GATES[cell]:
                saturated, mid = np.abs(v) > 0.95, np.abs(v) < 0.5
            else:
                saturated, mid = (v < 0.05) | (v > 0.95), (v > 0.25) & (v < 0.75)
            activity[f"{name}.{gate}"] = (float(saturated.mean()), float(mid.mean()))
    return activity


def _float64(state):
    if state is None:
        return None
    return (
        tuple(s.astype(np.float64) for s in state) if isinstance(state, tuple) else state.astype(np.float64)
    )
