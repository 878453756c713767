"""The canonical parameter layout (PyTorch's names, shapes and gate order) and its initialisation."""

from __future__ import annotations

import ml_dtypes  # noqa: F401  (registers NumPy's "bfloat16" dtype: NumPy in and out at every precision)
import numpy as np

CELLS: tuple[str, ...] = ("rnn", "lstm", "gru")
FULL_PRECISION: tuple[str, ...] = ("float32", "float64")  # what an implementation declares by default
# pure low precision: weights, inputs, states and arithmetic in that dtype, as the framework runs it
LOW_PRECISION: tuple[str, ...] = ("bfloat16", "float16")
DTYPES: tuple[str, ...] = FULL_PRECISION + LOW_PRECISION
GATES: dict[str, int] = {"rnn": 1, "lstm": 4, "gru": 3}

PARAM_KINDS: tuple[str, ...] = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def param_name(kind: str, layer: int, reverse: bool = False) -> str:
    """Canonical name of one parameter, e.g. ``weight_ih_l0`` (``weight_ih_l0_reverse`` for the reverse
    direction of a bidirectional layer)."""
    return f"{kind}_l{layer}{'_reverse' if reverse else ''}"


def directions(bidirectional: bool) -> tuple[bool, ...]:
    """The directions of a layer, as the ``reverse`` flag of each: (False,) or (False, True)."""
    return (False, True) if bidirectional else (False,)


def param_shapes(
    cell: str, input_size: int, hidden_size: int, num_layers: int, bidirectional: bool = False
) -> dict[str, tuple[int, ...]]:
    """Names and shapes of every parameter of a stack, in canonical order (PyTorch's: each layer's forward
    direction, then its reverse one; a bidirectional layer above the first reads both directions' outputs,
    2 x hidden)."""
    g = GATES[cell] * hidden_size
    shapes: dict[str, tuple[int, ...]] = {}
    for k in range(num_layers):
        layer_in = input_size if k == 0 else hidden_size * len(directions(bidirectional))
        for reverse in directions(bidirectional):
            shapes[param_name("weight_ih", k, reverse)] = (g, layer_in)
            shapes[param_name("weight_hh", k, reverse)] = (g, hidden_size)
            shapes[param_name("bias_ih", k, reverse)] = (g,)
            shapes[param_name("bias_hh", k, reverse)] = (g,)
    return shapes


INITS: tuple[str, ...] = ("default", "forget1", "chrono", "glorot")
# the gate that keeps the state, by its block in the canonical order: LSTM (i, f, g, o) its forget gate f,
# GRU (r, z, n) its update gate z (h' = (1 - z) n + z h)
KEEP_GATE: dict[str, int] = {"lstm": 1, "gru": 1}
KEEP_GATE_INITS: tuple[str, ...] = (
    "forget1",
    "chrono",
)  # the inits that set that gate's bias: gated cells only


def check_init(cell: str, init: str, t_max: int | None) -> None:
    """ValueError unless ``init`` (with ``t_max``) applies to ``cell``."""
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
    if init in KEEP_GATE_INITS and cell not in KEEP_GATE:
        raise ValueError(f"init {init!r} sets a gate's bias: it needs a gated cell (lstm, gru), not {cell!r}")
    whole = isinstance(t_max, (int, np.integer)) and not isinstance(t_max, bool)
    if init == "chrono" and not (whole and t_max >= 3):
        raise ValueError(f"init 'chrono' needs t_max, an integer >= 3 (the longest dependency): {t_max!r}")


def init_params(
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int,
    dtype: str,
    seed: int,
    init: str = "default",
    t_max: int | None = None,
    bidirectional: bool = False,
) -> dict[str, np.ndarray]:
    """PyTorch's default initialisation, U(-1/sqrt(H), 1/sqrt(H)), drawn from a seeded NumPy generator;
    then, for a gated cell, ``init`` sets the bias of the gate that keeps the state (the sum of
    ``bias_ih`` and ``bias_hh`` there): ``forget1`` to 1 (Gers et al. 2000); ``chrono`` to
    log(U[1, t_max - 1]) per unit, and the LSTM's input gate to its negative (Tallec & Ollivier 2018),
    ``t_max`` being the longest dependency expected. ``glorot`` is the init of Arjovsky et al.'s code
    (amarshah/complex_RNN, models.py), any cell: each gate's weights Glorot-uniform,
    U(-sqrt(6 / (fan_in + H)), +sqrt(...)), the biases 0 and the LSTM's forget bias 1."""
    check_init(cell, init, t_max)
    rng = np.random.default_rng(seed)
    shapes = param_shapes(cell, input_size, hidden_size, num_layers, bidirectional)
    if init == "glorot":
        return _glorot(shapes, rng, cell, hidden_size, dtype)
    bound = 1.0 / np.sqrt(hidden_size)
    params = {name: rng.uniform(-bound, bound, size=shape).astype(dtype) for name, shape in shapes.items()}
    if init == "default":
        return params
    gates = np.random.default_rng([seed, 2])
    keep = slice(KEEP_GATE[cell] * hidden_size, (KEEP_GATE[cell] + 1) * hidden_size)
    for k, reverse in ((k, r) for k in range(num_layers) for r in directions(bidirectional)):
        b_ih, b_hh = params[param_name("bias_ih", k, reverse)], params[param_name("bias_hh", k, reverse)]
        value = 1.0 if init == "forget1" else np.log(gates.uniform(1, t_max - 1, hidden_size))
        b_ih[keep], b_hh[keep] = value, 0
        if init == "chrono" and cell == "lstm":
            b_ih[:hidden_size], b_hh[:hidden_size] = -value, 0
    return params


def _glorot(
    shapes: dict[str, tuple[int, ...]], rng: np.random.Generator, cell: str, hidden_size: int, dtype: str
) -> dict[str, np.ndarray]:
    params = {}
    for name, shape in shapes.items():
        if len(shape) == 1:
            params[name] = np.zeros(shape, dtype=dtype)
            if cell == "lstm" and name.startswith("bias_ih"):  # the forget gate's bias: 1
                params[name][hidden_size : 2 * hidden_size] = 1.0
        else:  # each gate's block is (H, fan_in)
            bound = np.sqrt(6.0 / (shape[1] + hidden_size))
            params[name] = rng.uniform(-bound, bound, size=shape).astype(dtype)
    return params


def layer_params(params: dict[str, np.ndarray], layer: int, reverse: bool = False) -> tuple[np.ndarray, ...]:
    """(weight_ih, weight_hh, bias_ih, bias_hh) of one layer (of its reverse direction with ``reverse``)."""
    return tuple(params[param_name(kind, layer, reverse)] for kind in PARAM_KINDS)


def gate_permute(w: np.ndarray, order: list[int]) -> np.ndarray:
    """Reorder the gate blocks along the first axis of a canonical weight or bias."""
    gates = len(order)
    return w.reshape(gates, w.shape[0] // gates, *w.shape[1:])[order].reshape(w.shape)
