"""Sequences of different lengths in one batch (``lengths``): what they mean, who takes them, bad input."""

import numpy as np
import pytest

import impls
from tests.conftest import framework_params

X = np.random.default_rng(0).standard_normal((3, 6, 2)).astype("float32")
LENGTHS = np.array([6, 2, 4])


@pytest.mark.parametrize("name", framework_params())
def test_an_implementation_takes_lengths_or_says_it_does_not(name):
    model = impls.create(name, "lstm", 2, 3)
    if not model.takes_lengths:
        with pytest.raises(impls.UnsupportedError, match="does not take sequence lengths"):
            model.forward(X, lengths=LENGTHS)
        return
    y, (h, c) = model.forward(X, lengths=LENGTHS)
    assert np.all(y[1, 2:] == 0) and np.all(y[2, 4:] == 0) and np.all(y[1, :2] != 0)
    # each final state is the one at the sequence's own last step: the same sequence alone, cut there
    alone, (h_alone, _) = model.forward(np.ascontiguousarray(X[1:2, :2]))
    np.testing.assert_allclose(h[:, 1], h_alone[:, 0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y[1, :2], alone[0], rtol=1e-5, atol=1e-6)
    grads = model.backward(X, np.ones_like(y), lengths=LENGTHS)
    assert np.all(grads["x"][1, 2:] == 0)  # steps past the end change nothing


@pytest.mark.parametrize(
    "lengths, error, message",
    [
        (np.array([6, 0, 4]), ValueError, "between 1 and the time dimension 6"),
        (np.array([6, 7, 4]), ValueError, "between 1 and the time dimension 6"),
        (np.array([6, 2]), ValueError, r"expected \(3,\)"),
        (np.array([6.0, 2.0, 4.0]), TypeError, "must be integers"),
        ([6, 2, 4], TypeError, "must be a numpy.ndarray"),
    ],
)
def test_bad_lengths_are_clear_errors(lengths, error, message):
    model = impls.create("numpy", "gru", 2, 3)
    with pytest.raises(error, match=message):
        model.forward(X, lengths=lengths)
    with pytest.raises(error, match=message):
        model.backward(X, np.ones((3, 6, 3), "float32"), lengths=lengths)


@pytest.mark.parametrize("flag", ["takes_lengths", "takes_bidirectional"])
@pytest.mark.parametrize("name", [n for n in impls.registry.names() if not impls.get(n).plugin])
def test_the_registry_declares_what_each_class_does_with_lengths_and_directions(name, flag):
    declared = impls.get(name)
    if not declared.installed():
        pytest.skip(f"{name} is not installed")
    try:
        cls = impls.model_class(name)
    except ImportError as e:  # e.g. CuPy without a CUDA driver
        pytest.skip(str(e))
    takes = getattr(cls, flag)
    if isinstance(
        takes, property
    ):  # decided per model (a JAX plugin's own stack takes neither): built-ins do
        takes = True
    assert getattr(declared, flag) == takes
