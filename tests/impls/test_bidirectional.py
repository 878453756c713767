"""Both directions (``bidirectional=True``): PyTorch's layout and conventions, who builds them, bad input."""

import numpy as np
import pytest

import impls
from impls.layout import init_params, layer_params
from impls.training import TrainConfig
from tests.conftest import framework_params, widest_dtype

X = np.random.default_rng(0).standard_normal((3, 6, 2))
LENGTHS = np.array([6, 2, 4])


def _reverse_alone(params, cell, x):
    """One layer's reverse direction as a unidirectional reference layer on ``x`` reversed in time."""
    model = impls.create("numpy", cell, x.shape[-1], 3, 1, "float64")
    w_ih, w_hh, b_ih, b_hh = layer_params(params, 0, reverse=True)
    model.set_params({"weight_ih_l0": w_ih, "weight_hh_l0": w_hh, "bias_ih_l0": b_ih, "bias_hh_l0": b_hh})
    y, h = model.forward(np.ascontiguousarray(x[:, ::-1]))
    return y[:, ::-1], h


@pytest.mark.parametrize("name", framework_params())
def test_an_implementation_builds_both_directions_or_says_it_does_not(name):
    if not impls.get(name).takes_bidirectional:
        with pytest.raises(impls.UnsupportedError, match="is not bidirectional"):
            impls.create(name, "gru", 2, 3, 1, "float64", bidirectional=True)
        return
    dtype = widest_dtype(name)
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == "float64" else {"rtol": 1e-5, "atol": 1e-6}
    model = impls.create(name, "gru", 2, 3, 1, dtype, bidirectional=True)
    params = init_params("gru", 2, 3, 1, dtype, seed=5, bidirectional=True)
    model.set_params(params)
    assert sorted(model.get_params()) == sorted(params) and "weight_ih_l0_reverse" in params
    y, h = model.forward(X.astype(dtype))
    assert y.shape == (3, 6, 6) and h.shape == (2, 3, 3)
    # the second half of each output is the reverse direction, in input order; its final state at index 1
    expected_y, expected_h = _reverse_alone({n: p.astype("float64") for n, p in params.items()}, "gru", X)
    np.testing.assert_allclose(y[:, :, 3:], expected_y, **tol)
    np.testing.assert_allclose(h[1], expected_h[0], **tol)
    if model.takes_lengths:  # the reverse direction starts at each sequence's own end
        y, h = model.forward(X, lengths=LENGTHS)
        for b, n in enumerate(LENGTHS):
            alone_y, alone_h = _reverse_alone(params, "gru", X[b : b + 1, :n])
            np.testing.assert_allclose(y[b, :n, 3:], alone_y[0], rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(h[1, b], alone_h[0, 0], rtol=1e-10, atol=1e-12)
            assert np.all(y[b, n:] == 0)


def test_a_bidirectional_stack_takes_twice_the_width_above_its_first_layer():
    shapes = impls.param_shapes("lstm", 5, 4, 2)
    both = impls.create("numpy", "lstm", 5, 4, 2, bidirectional=True).shapes
    assert both["weight_ih_l1"] == both["weight_ih_l1_reverse"] == (16, 8) and shapes["weight_ih_l1"] == (
        16,
        4,
    )
    assert list(both)[:8] == [
        f"{kind}_l0{suffix}"
        for suffix in ("", "_reverse")
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]


def test_bad_directions_are_clear_errors():
    with pytest.raises(TypeError, match="bidirectional must be True or False"):
        impls.create("numpy", "gru", 2, 3, bidirectional="yes")
    with pytest.raises(impls.UnsupportedError, match="torch-cells is not bidirectional; bidirectional"):
        impls.create("torch-cells", "gru", 2, 3, bidirectional=True)
    model = impls.create("numpy", "gru", 2, 3, 1, "float64", bidirectional=True)
    with pytest.raises(ValueError, match=r"grad_y has shape \(3, 6, 3\), expected \(3, 6, 6\)"):
        model.backward(X, np.ones((3, 6, 3)))
    with pytest.raises(ValueError, match=r"state h has shape \(1, 3, 3\), expected \(2, 3, 3\)"):
        model.forward(X, np.zeros((1, 3, 3)))
    with pytest.raises(impls.UnsupportedError, match="train a unidirectional stack"):
        model.trainer(TrainConfig())
