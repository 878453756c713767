"""Equivalence check: every implementation x cell x dtype against the NumPy reference on weights the check
draws itself, get_params against what was set, and the reference's own backward against finite differences.
Which rows run, and their tolerances, are defined here once: the ``check`` command and the tests both use
them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

import impls
from impls.layout import PARAM_KINDS
from suite.studies.equivalence import weights as check_weights

TOLERANCE: dict[str, float] = {"float64": 1e-10, "float32": 1e-5, "bfloat16": 0.2, "float16": 0.03}
# The low-precision tolerances are measured, not derived: at the check's shape (2 layers, 7 steps) the
# largest error of PyTorch's nn layers and JAX's scan (outputs, states and gradients, one and two directions)
# was 0.093 in bfloat16 (8 significant bits, unit roundoff 2**-8 ~ 3.9e-3) and 0.013 in float16 (11 bits,
# 2**-11 ~ 4.9e-4), on an AMD EPYC (2026-12-02); each tolerance is about twice that. Each row also records
# ``rounding_floor``: the float64 reference's own outputs rounded once to the dtype (what rounding alone
# costs). Mixed precision (float32 in and out, arithmetic in bfloat16: torch.autocast, a Keras mixed policy,
# flax's dtype) is held to the tolerance and floor of the dtype its arithmetic runs in.
# TF32 rows (float32 with TF32 on): a 10-bit mantissa, unit roundoff 2**-11 ~ 4.9e-4, so errors of 1e-3
# are TF32 working as designed; the rows report the error, this only flags one far beyond it
TF32_TOLERANCE = 1e-2
GROWTH_LENGTHS: tuple[int, ...] = (7, 30, 100, 300, 1000)  # the error against T: how it accumulates
FD_TOLERANCE = 1e-6  # the reference's backward against central differences
REFERENCE = ("numpy", "float64")  # what every row is checked against, so not a row itself
# what each implementation x cell x dtype is checked for (the reference's backward has finite differences):
# the function it computes from the weights it was
# given, and get_params returning those weights exactly; then the function with sequences of different
# lengths, and bidirectional (without and with lengths) where the implementation declares them
TESTS: tuple[str, ...] = ("function", "round_trip", "lengths", "bidirectional", "bidirectional_lengths")


def check_lengths(shape: Shape) -> np.ndarray:
    """The lengths the ``lengths`` test gives the check's batch: the whole sequence, about half of it and
    one step (right-padded), cycled over the batch."""
    pattern = [shape.time, max(shape.time // 2, 1), 1]
    return np.array([pattern[b % 3] for b in range(shape.batch)], dtype=np.int64)


REPEATS = 2  # forward and backward run again on the same model, to see whether they give the same bits


def which_test(record: dict) -> str:
    """Which test a check record is: ``function``, ``round_trip`` or ``finite_differences`` (records written
    before the check drew its own weights name none: function rows and finite-difference rows)."""
    if "test" in record:
        return record["test"]
    return "finite_differences" if record.get("path") == "finite differences" else "function"


def rows(
    implementations: Iterable[str], cells: Iterable[str], dtypes: Iterable[str]
) -> list[tuple[str, str, str]]:
    """(implementation, cell, dtype) of every row the check runs, in order: all but the reference itself."""
    cells, dtypes = list(cells), list(dtypes)
    return [(i, c, d) for i in implementations for c in cells for d in dtypes if (i, d) != REFERENCE]


@dataclass(frozen=True)
class Shape:
    batch: int = 3
    time: int = 7
    input_size: int = 5
    hidden_size: int = 6
    num_layers: int = 2


def rel_error(got: np.ndarray, ref: np.ndarray) -> float:
    """max |got - ref| / max |ref|: the error relative to the reference's scale."""
    scale = float(np.abs(ref).max())
    diff = float(np.abs(got.astype(np.float64) - ref).max())
    return diff / scale if scale > 0 else diff


def make_inputs(
    cell: str, shape: Shape, seed: int = 0, directions: int = 1
) -> tuple[np.ndarray, object, np.ndarray]:
    """float64 input, a non-zero initial state and an output cotangent for one check (of a stack with
    ``directions`` directions)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((shape.batch, shape.time, shape.input_size))
    state_shape = (shape.num_layers * directions, shape.batch, shape.hidden_size)
    h0 = 0.5 * rng.standard_normal(state_shape)
    state = (h0, 0.5 * rng.standard_normal(state_shape)) if cell == "lstm" else h0
    grad_y = rng.standard_normal((shape.batch, shape.time, directions * shape.hidden_size))
    return x, state, grad_y


def _cast(value, dtype: str):
    if isinstance(value, tuple):
        return tuple(v.astype(dtype) for v in value)
    return value.astype(dtype)


def _errors(y, state, grads, ref_y, ref_state, ref_grads) -> dict[str, float]:
    err = {"y": rel_error(y, ref_y)}
    if isinstance(ref_state, tuple):
        err["h_n"] = rel_error(state[0], ref_state[0])
        err["c_n"] = rel_error(state[1], ref_state[1])
    else:
        err["h_n"] = rel_error(state, ref_state)
    for name, ref in ref_grads.items():
        err[f"d_{name}"] = rel_error(grads[name], ref)
    return err


def check_rows(
    implementation: str, cell: str, dtype: str, device: str = "cpu", shape: Shape = Shape(), seed: int = 0
) -> list[dict]:
    """The rows of one implementation x cell x dtype (``TESTS``): ``function``, its outputs, final states
    and gradients in ``dtype`` against the NumPy reference in float64, both computing from the weights this
    check draws (:mod:`suite.check_weights`), loaded into the implementation through ``set_params``;
    ``round_trip``, whether ``get_params`` then returns exactly what was loaded; ``lengths``, the function
    with sequences of different lengths; ``bidirectional`` and ``bidirectional_lengths``, a bidirectional
    stack's function without and with them. A device the implementation cannot see, or a cell, dtype,
    lengths or direction it does not declare, gives ``skip`` rows with the reason; an exception ``error``
    rows (one broken implementation must not hide the others)."""
    both = _rows(implementation, cell, dtype, device, TESTS)
    try:
        model, loaded = _loaded(implementation, cell, dtype, device, shape, seed)
    except Exception as e:
        return _failed(both, e)
    function = _guarded(both[0], lambda: function_row(model, loaded, shape, seed))
    if model.params_readable:
        round_trip = _guarded(both[1], lambda: round_trip_row(model, loaded))  # after the function ran
    else:
        round_trip = {"status": "skip", "message": f"{implementation} cannot read its weights back"}
    if model.takes_lengths:
        lengths = check_lengths(shape)
        varied = _guarded(both[2], lambda: function_row(model, loaded, shape, seed, lengths))
    else:
        varied = {"status": "skip", "message": f"{implementation} does not take sequence lengths"}
    rows_ = [{**both[0], **function}, {**both[1], **round_trip}, {**both[2], **varied}]
    return rows_ + bidirectional_rows(implementation, cell, dtype, device, shape, seed, model.takes_lengths)


def bidirectional_rows(
    implementation: str, cell: str, dtype: str, device: str, shape: Shape, seed: int, takes_lengths: bool
) -> list[dict]:
    """The ``bidirectional`` and ``bidirectional_lengths`` rows: a bidirectional stack on weights the check
    draws for both directions, against the reference's (a reverse direction runs each sequence backwards
    from its own end)."""
    rows_ = _rows(implementation, cell, dtype, device, TESTS[3:])
    if not impls.get(implementation).takes_bidirectional:
        return [{**r, "status": "skip", "message": f"{implementation} is not bidirectional"} for r in rows_]
    try:
        model, loaded = _loaded(implementation, cell, dtype, device, shape, seed, bidirectional=True)
    except Exception as e:
        return _failed(rows_, e)
    out = [{**rows_[0], **_guarded(rows_[0], lambda: function_row(model, loaded, shape, seed))}]
    if takes_lengths:
        lengths = check_lengths(shape)
        out.append(
            {**rows_[1], **_guarded(rows_[1], lambda: function_row(model, loaded, shape, seed, lengths))}
        )
    else:
        out.append(
            {**rows_[1], "status": "skip", "message": f"{implementation} does not take sequence lengths"}
        )
    return out


def _rows(implementation: str, cell: str, dtype: str, device: str, tests: Iterable[str]) -> list[dict]:
    framework = impls.get(implementation).framework
    base = dict(implementation=implementation, framework=framework, cell=cell, dtype=dtype, device=device)
    return [{**base, "test": test} for test in tests]


def _loaded(
    implementation: str,
    cell: str,
    dtype: str,
    device: str,
    shape: Shape,
    seed: int,
    bidirectional: bool = False,
) -> tuple[impls.RecurrentModel, dict[str, np.ndarray]]:
    """A stack of the check's shape holding the weights the check draws (rounded to ``dtype``), and those."""
    model = impls.create(
        implementation,
        cell,
        shape.input_size,
        shape.hidden_size,
        shape.num_layers,
        dtype,
        device,
        bidirectional=bidirectional,
    )
    drawn = check_weights.draw(
        cell, shape.input_size, shape.hidden_size, shape.num_layers, seed, bidirectional
    )
    loaded = check_weights.rounded(drawn, dtype)
    model.set_params(loaded)
    return model, loaded


def _failed(rows: list[dict], e: Exception) -> list[dict]:
    """Rows whose model could not be built: ``skip`` for a device, cell, dtype or direction it does not
    declare (with the reason), ``error`` for anything else."""
    if isinstance(e, (impls.DeviceUnavailableError, impls.UnsupportedError)):
        return [{**row, "status": "skip", "message": str(e)} for row in rows]
    return [{**row, "status": "error", "message": f"{type(e).__name__}: {e}"} for row in rows]


def _guarded(row: dict, compute: Callable[[], dict]) -> dict:
    try:
        return compute()
    except Exception as e:
        return {**row, "status": "error", "message": f"{type(e).__name__}: {e}"}


def function_row(
    model: impls.RecurrentModel,
    loaded: dict[str, np.ndarray],
    shape: Shape,
    seed: int,
    lengths: np.ndarray | None = None,
) -> dict:
    """``model`` (holding ``loaded``) against the float64 reference computing from the same values; with
    ``lengths``, both length-aware (the reference runs each sequence on its own, to its own end)."""
    cell, dtype = model.cell, model.dtype
    reference = impls.create(
        "numpy",
        cell,
        shape.input_size,
        shape.hidden_size,
        shape.num_layers,
        "float64",
        bidirectional=model.bidirectional,
    )
    reference.set_params({name: p.astype("float64") for name, p in loaded.items()})
    x, state, grad_y = (_cast(v, dtype) for v in make_inputs(cell, shape, seed, model.directions))
    ref_in = (_cast(x, "float64"), _cast(state, "float64"))
    ref_y, ref_state = reference.forward(*ref_in, lengths=lengths)
    ref_grads = {}  # an inference runtime is checked on its outputs and final states alone
    if model.differentiable:
        ref_grads = reference.backward(ref_in[0], grad_y.astype("float64"), ref_in[1], lengths=lengths)
    y, final = model.forward(x, state, lengths=lengths)
    grads = model.backward(x, grad_y, state, lengths=lengths) if model.differentiable else {}
    missing = set(ref_grads) - set(grads)
    if missing:
        raise RuntimeError(f"{model.implementation} returned no gradient for {sorted(missing)}")
    errors = _errors(y, final, grads, ref_y, ref_state, ref_grads)
    worst = max(errors, key=errors.get)
    refs = [ref_y, *(ref_state if isinstance(ref_state, tuple) else (ref_state,))]
    precision = model.computes_in or dtype  # mixed precision is held to the dtype its arithmetic runs in
    floor = max(rel_error(ref.astype(precision), ref) for ref in refs)
    differs = repeat_differences(model, x, state, grad_y, _flat(y, final, grads), lengths)
    activity = check_weights.gate_activity(cell, loaded, *ref_in)
    return {
        "path": model.path(),
        "shape": vars(shape),
        "weights": {
            "drawn_by": "suite.studies.equivalence.weights.draw",
            "seed": seed,
            # the least saturated and the least mid-range gate: both far from 0 (tame weights give ~0, 1)
            "min_saturated_share": min(s for s, _ in activity.values()),
            "min_mid_range_share": min(m for _, m in activity.values()),
        },
        "errors": errors,
        "max_error": errors[worst],
        "worst": worst,
        "tolerance": TOLERANCE[precision],
        "rounding_floor": floor,
        "status": "pass" if errors[worst] <= TOLERANCE[precision] else "fail",
        **({"computes_in": model.computes_in} if model.computes_in else {}),
        "repeatable": not differs,
        **({"repeat_differs": differs} if differs else {}),
        **({"lengths": lengths.tolist()} if lengths is not None else {}),
        **({} if model.differentiable else {"gradients": "none: an inference runtime"}),
    }


def _flat(y, state, grads: dict) -> dict[str, np.ndarray]:
    out = {"y": np.asarray(y)}
    for name, value in zip(("h_n", "c_n"), state if isinstance(state, tuple) else (state,), strict=False):
        out[name] = np.asarray(value)
    return {**out, **{f"d_{k}": np.asarray(v) for k, v in grads.items()}}


def repeat_differences(
    model: impls.RecurrentModel, x, state, grad_y, first: dict[str, np.ndarray], lengths=None
) -> dict:
    """Forward and backward run ``REPEATS`` more times on the same inputs: each output, final state and
    gradient that did not come out bitwise equal to ``first``, with its largest difference relative to its
    scale (empty when every run gave the same bits)."""
    differs: dict[str, float] = {}
    for _ in range(REPEATS):
        y, final = model.forward(x, state, lengths=lengths)
        grads = model.backward(x, grad_y, state, lengths=lengths) if model.differentiable else {}
        again = _flat(y, final, grads)
        for name, value in again.items():
            if not np.array_equal(value, first[name]):
                differs[name] = max(differs.get(name, 0.0), rel_error(value, first[name].astype(np.float64)))
    return differs


def round_trip_row(model: impls.RecurrentModel, loaded: dict[str, np.ndarray]) -> dict:
    """Whether ``get_params`` returns exactly (bitwise, in the model's dtype) the ``loaded`` values:
    each parameter's relative difference, and what else is wrong (a name, shape or dtype)."""
    got = model.get_params()
    problems = [f"{name} is missing" for name in loaded if name not in got]
    problems += [f"{name} is not a parameter" for name in got if name not in loaded]
    errors, differ = {}, []
    for name, want in loaded.items():
        if name not in got:
            continue
        have = np.asarray(got[name])
        if have.shape != want.shape or have.dtype != want.dtype:
            problems.append(f"{name} is {have.dtype} {have.shape}, was set as {want.dtype} {want.shape}")
            continue
        errors[name] = rel_error(have, want.astype("float64"))
        if not np.array_equal(have, want):
            differ.append(name)
    worst = max(differ, key=lambda n: errors[n], default=None)
    return {
        "errors": errors,
        "max_error": errors[worst] if worst else 0.0,
        "worst": worst,
        "tolerance": 0.0,
        "status": "fail" if problems or differ else "pass",
        **({"message": "; ".join(problems)} if problems else {}),
    }


def finite_difference_check(cell: str, shape: Shape = Shape(2, 4, 3, 4, 2), eps: float = 1e-6) -> float:
    """Max relative error of the NumPy reference's backward (float64) against central differences
    of sum(y * grad_y), over every parameter, the input and the initial state."""
    model = impls.create("numpy", cell, shape.input_size, shape.hidden_size, shape.num_layers, "float64")
    params = check_weights.draw(cell, shape.input_size, shape.hidden_size, shape.num_layers, seed=1)
    model.set_params(params)
    x, state, grad_y = make_inputs(cell, shape, seed=1)
    grads = model.backward(x, grad_y, state)

    def loss(p: dict, x: np.ndarray, state) -> float:
        model.set_params(p)
        return float((model.forward(x, state)[0] * grad_y).sum())

    def numeric(get, put) -> np.ndarray:
        base = get()
        out = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            values = []
            for step in (eps, -eps):
                a = base.copy()
                a[idx] += step
                values.append(put(a))
            out[idx] = (values[0] - values[1]) / (2 * eps)
        return out

    worst = 0.0
    for name in params:
        num = numeric(lambda n=name: params[n], lambda a, n=name: loss({**params, n: a}, x, state))
        worst = max(worst, rel_error(grads[name], num))
    num = numeric(lambda: x, lambda a: loss(params, a, state))
    worst = max(worst, rel_error(grads["x"], num))
    h0 = state[0] if cell == "lstm" else state
    rebuild = (lambda a: (a, state[1])) if cell == "lstm" else (lambda a: a)
    num = numeric(lambda: h0, lambda a: loss(params, x, rebuild(a)))
    worst = max(worst, rel_error(grads["h_0"], num))
    if cell == "lstm":
        num = numeric(lambda: state[1], lambda a: loss(params, x, (state[0], a)))
        worst = max(worst, rel_error(grads["c_0"], num))
    return worst


GRAD_COLUMNS: tuple[str, ...] = (*PARAM_KINDS, "x", "h_0", "c_0")


def summarise(errors: dict[str, float]) -> dict[str, float | None]:
    """Errors per column of the table: outputs, states, and each gradient kind (max over layers)."""
    row: dict[str, float | None] = {"y": errors["y"], "h_n": errors["h_n"], "c_n": errors.get("c_n")}
    for col in GRAD_COLUMNS:
        values = [v for k, v in errors.items() if k == f"d_{col}" or k.startswith(f"d_{col}_l")]
        row[f"d_{col}"] = max(values) if values else None
    return row


def finite_difference_row(cell: str) -> dict:
    """The reference's float64 backward against central finite differences, as a row."""
    err = finite_difference_check(cell)
    return {
        "implementation": "numpy",
        "framework": "numpy",
        "cell": cell,
        "dtype": "float64",
        "device": "cpu",
        "test": "finite_differences",
        "path": "finite differences",
        "max_error": err,
        "tolerance": FD_TOLERANCE,
        "status": "pass" if err <= FD_TOLERANCE else "fail",
    }


def tf32_rows(
    implementations: Iterable[str], cells: Iterable[str], device: str = "cpu", on_row=None
) -> list[dict]:
    """The float32 function rows with TF32 switched on in each framework (``impls.base.Backend.allow_tf32``;
    call it in a process of its own: the switch stays on): test ``tf32``, what was set, and the error against
    the float64 reference, flagged only beyond ``TF32_TOLERANCE``."""
    implementations, out = list(implementations), []
    switched = {}
    for name in implementations:
        backend = impls.backend(name)
        framework = impls.get(name).framework
        if framework not in switched:
            switched[framework] = backend.allow_tf32() if backend is not None else "unknown"
    for implementation, cell, dtype in rows(implementations, cells, ["float32"]):
        row = check_rows(implementation, cell, dtype, device)[0]
        tf32 = switched[impls.get(implementation).framework]
        row = {**row, "test": "tf32", "tf32": tf32}
        if "max_error" in row:
            row.update(
                tolerance=TF32_TOLERANCE, status="pass" if row["max_error"] <= TF32_TOLERANCE else "fail"
            )
        out.append(row)
        if on_row:
            on_row(row)
    return out


def growth_rows(
    implementations: Iterable[str],
    cells: Iterable[str],
    dtype: str = "float32",
    device: str = "cpu",
    lengths: Iterable[int] = GROWTH_LENGTHS,
    on_row=None,
) -> list[dict]:
    """The function rows again at each sequence length in ``lengths`` (test ``growth``): how each output's
    and gradient's error against the float64 reference grows with T. Measurements, not pass or fail
    (status ``ok``; ``within_tolerance`` says whether the check's tolerance still holds)."""
    out = []
    for implementation, cell, dt in rows(implementations, cells, [dtype]):
        for seq_len in lengths:
            row = check_rows(implementation, cell, dt, device, Shape(time=seq_len))[0]
            row = {**row, "test": "growth", "seq_len": seq_len}
            if row["status"] in ("pass", "fail"):
                row.update(within_tolerance=row["status"] == "pass", status="ok")
            out.append(row)
            if on_row:
                on_row(row)
    return out


def run(
    implementations: Iterable[str],
    cells: Iterable[str],
    dtypes: Iterable[str],
    device: str = "cpu",
    on_row: Callable[[dict], None] | None = None,
) -> tuple[list[dict], list[dict]]:
    """(the function and round-trip rows of every implementation x cell x dtype, the finite-difference rows,
    run when float64 is asked for)."""
    cells, dtypes = list(cells), list(dtypes)
    checked = []
    for implementation, cell, dtype in rows(implementations, cells, dtypes):
        for row in check_rows(implementation, cell, dtype, device):
            checked.append(row)
            if on_row:
                on_row(row)
    fd = [finite_difference_row(cell) for cell in cells] if "float64" in dtypes else []
    return checked, fd


def counts(rows_: Iterable[dict]) -> dict[str, int]:
    """How many rows passed (or were measured: growth rows), failed (fail or error) and were skipped."""
    statuses = [r["status"] for r in rows_]
    return {
        "passed": statuses.count("pass") + statuses.count("ok"),
        "failed": statuses.count("fail") + statuses.count("error"),
        "skipped": statuses.count("skip"),
    }
