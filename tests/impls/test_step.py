"""One step at a time (``step``): stepping through a sequence equals one forward over it, in every
implementation; bad input is a clear error."""

import numpy as np
import pytest

import impls
from impls.layout import init_params
from tests.conftest import framework_params, widest_dtype

X = np.random.default_rng(1).standard_normal((2, 9, 3))


@pytest.mark.parametrize("cell", impls.CELLS)
@pytest.mark.parametrize("name", framework_params())
def test_stepping_through_a_sequence_equals_one_forward(name, cell):
    """In float64 to 1e-12; the runtimes, float32 only, to float32's 1e-5."""
    dtype = widest_dtype(name)
    tol = {"rtol": 1e-12, "atol": 1e-14} if dtype == "float64" else {"rtol": 1e-5, "atol": 1e-6}
    model = impls.create(name, cell, 3, 4, 2, dtype)
    model.set_params(init_params(cell, 3, 4, 2, dtype, seed=3))  # drawn here, not read back
    rng = np.random.default_rng(2)
    h0 = rng.standard_normal((2, 2, 4)).astype(dtype)
    state = (h0, rng.standard_normal((2, 2, 4)).astype(dtype)) if cell == "lstm" else h0
    x = X.astype(dtype)
    y, final = model.forward(x, state)
    steps = []
    for t in range(x.shape[1]):
        y_t, state = model.step(np.ascontiguousarray(x[:, t]), state)
        steps.append(y_t)
    np.testing.assert_allclose(np.stack(steps, axis=1), y, **tol)
    for got, want in zip(
        state if cell == "lstm" else (state,), final if cell == "lstm" else (final,), strict=True
    ):
        np.testing.assert_allclose(got, want, **tol)


def test_bad_steps_are_clear_errors():
    model = impls.create("numpy", "gru", 3, 4)
    with pytest.raises(ValueError, match=r"x_t must be \(batch, input\), one time step"):
        model.step(np.zeros((2, 5, 3), "float32"))
    with pytest.raises(TypeError, match="x_t must be a numpy.ndarray"):
        model.step([[0.0, 0.0, 0.0]])
    with pytest.raises(TypeError, match="dtype float64, the model is float32"):
        model.step(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"state h has shape \(1, 3, 4\), expected \(1, 2, 4\)"):
        model.step(np.zeros((2, 3), "float32"), np.zeros((1, 3, 4), "float32"))
    both = impls.create("numpy", "gru", 3, 4, bidirectional=True)
    with pytest.raises(impls.UnsupportedError, match="cannot step"):
        both.step(np.zeros((2, 3), "float32"))
