"""The NumPy reference's hand-written backward against finite differences."""

import numpy as np
import pytest

import impls
from impls.numpy_adapter import _sigmoid
from suite.studies.equivalence.check import finite_difference_check


@pytest.mark.parametrize("cell", impls.CELLS)
def test_backward_matches_finite_differences(cell):
    assert finite_difference_check(cell) < 1e-6


def test_sigmoid_is_stable_for_large_inputs():
    a = np.array([-1000.0, -20.0, 0.0, 20.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = _sigmoid(a)
    np.testing.assert_allclose(s, 1 / (1 + np.exp(-np.clip(a, -700, 700))), rtol=1e-12, atol=1e-15)


def test_a_state_changes_the_output():
    model = impls.create("numpy", "lstm", 2, 3, dtype="float64")
    x = np.ones((1, 2, 2))
    state = (np.ones((1, 1, 3)), np.ones((1, 1, 3)))
    assert not np.allclose(model.forward(x)[0], model.forward(x, state)[0])
