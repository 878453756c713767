"""Initialisation as a setting: default, forget-gate bias 1, chrono, Glorot (Arjovsky et al.'s code); the same
weights in every framework."""

import numpy as np
import pytest

import impls
from impls import training
from impls.layout import init_params

H = 6


def keep_bias(params, cell):
    """The sum of both biases over the gate that keeps the state (LSTM forget, GRU update)."""
    total = params["bias_ih_l0"] + params["bias_hh_l0"]
    return total[H : 2 * H]


def test_default_is_pytorchs_and_unchanged_by_the_setting():
    a = init_params("lstm", 3, H, 1, "float64", seed=4)
    b = init_params("lstm", 3, H, 1, "float64", seed=4, init="default")
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert max(np.abs(v).max() for v in a.values()) <= 1 / np.sqrt(H)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_forget1_sets_the_keep_gates_bias_to_one(cell):
    params = init_params(cell, 3, H, 2, "float64", seed=0, init="forget1")
    default = init_params(cell, 3, H, 2, "float64", seed=0)
    assert np.allclose(keep_bias(params, cell), 1.0)
    assert np.allclose(params["bias_ih_l1"][H : 2 * H] + params["bias_hh_l1"][H : 2 * H], 1.0)  # every layer
    assert np.array_equal(params["weight_hh_l0"], default["weight_hh_l0"])  # nothing else changes


def test_chrono_draws_log_uniform_forget_biases_and_the_negative_input_bias():
    t_max = 300
    params = init_params("lstm", 3, 64, 1, "float64", seed=0, init="chrono", t_max=t_max)
    forget = (params["bias_ih_l0"] + params["bias_hh_l0"])[64:128]
    assert forget.min() >= 0 and forget.max() <= np.log(t_max - 1) and forget.std() > 0.5
    total = params["bias_ih_l0"] + params["bias_hh_l0"]
    assert np.allclose(total[:64], -forget)  # input gate = -forget gate


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_glorot_is_arjovskys_init_glorot_uniform_gates_zero_biases_and_the_lstm_forget_bias_one(cell):
    hidden, inputs = 64, 2
    params = init_params(cell, inputs, hidden, 2, "float64", seed=0, init="glorot")
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    for layer, fan_in in [(0, inputs), (1, hidden)]:
        for kind, fan in [("weight_ih", fan_in), ("weight_hh", hidden)]:
            w = params[f"{kind}_l{layer}"]
            bound = np.sqrt(6 / (fan + hidden))
            assert w.shape == (gates * hidden, fan) and np.abs(w).max() <= bound
            assert np.abs(w).max() > 0.95 * bound  # uniform over the whole range, not PyTorch's narrower one
        total = params[f"bias_ih_l{layer}"] + params[f"bias_hh_l{layer}"]
        expected = np.zeros(gates * hidden)
        if cell == "lstm":
            expected[hidden : 2 * hidden] = 1.0
        assert np.array_equal(total, expected)
    readout = training.init_readout(hidden, 1, "float64", 0, "glorot")
    assert np.abs(readout["readout.weight"]).max() <= np.sqrt(6 / (hidden + 1))
    assert np.abs(readout["readout.weight"]).max() > 1 / np.sqrt(hidden)  # wider than nn.Linear's
    assert not readout["readout.bias"].any()


@pytest.mark.parametrize(
    "cell, init, t_max, message",
    [
        ("rnn", "forget1", None, "gated cell"),
        ("lstm", "chrono", None, "t_max"),
        ("lstm", "chrono", 2, "t_max"),
        ("lstm", "orthogonal", None, "unknown init"),
    ],
)
def test_bad_init_settings_are_clear_errors(cell, init, t_max, message):
    with pytest.raises(ValueError, match=message):
        init_params(cell, 3, H, 1, "float64", 0, init, t_max)
    with pytest.raises(ValueError, match=message):
        impls.create("numpy", cell, 3, H, dtype="float64", init=init, t_max=t_max)


@pytest.mark.parametrize(
    "cell, init",
    [("lstm", "chrono"), ("gru", "chrono"), ("lstm", "forget1"), ("lstm", "glorot"), ("rnn", "glorot")],
)
def test_every_implementation_gets_the_same_weights_and_gradients(cell, init):
    reference = impls.create("numpy", cell, 3, H, dtype="float64", seed=2, init=init, t_max=50)
    x = np.random.default_rng(0).standard_normal((2, 7, 3))
    grad_y = np.random.default_rng(1).standard_normal((2, 7, H))
    expected = reference.backward(x, grad_y)
    for name in impls.available():
        impl = impls.get(name)
        if "cpu" not in impl.devices or not impl.differentiable or "float64" not in impl.dtypes:
            continue
        model = impls.create(name, cell, 3, H, dtype="float64", seed=2, init=init, t_max=50)
        assert (model.init, model.t_max) == (init, 50)
        params = model.get_params()
        assert all(np.array_equal(params[k], v) for k, v in reference.get_params().items()), name
        got = model.backward(x, grad_y)
        for key, value in expected.items():
            np.testing.assert_allclose(got[key], value, rtol=1e-10, atol=1e-12, err_msg=f"{name} {key}")
