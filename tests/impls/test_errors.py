"""Bad input raises an exception that names the problem, in every framework."""

import importlib.util

import numpy as np
import pytest

import impls
from tests.conftest import framework_params


@pytest.fixture(params=framework_params())
def lstm(request):
    return impls.create(request.param, "lstm", input_size=3, hidden_size=4, num_layers=2)


@pytest.fixture(params=framework_params())
def gru(request):
    return impls.create(request.param, "gru", input_size=3, hidden_size=4)


def x32(*shape):
    return np.zeros(shape, dtype="float32")


@pytest.mark.parametrize(
    "x, error, match",
    [
        (x32(2, 3), ValueError, "batch, time, input"),
        (x32(1, 2, 3, 3), ValueError, "batch, time, input"),
        (x32(2, 5, 7), ValueError, r"shape \(2, 5, 7\), expected \(2, 5, 3\)"),
        (x32(0, 5, 3), ValueError, "batch >= 1 and time >= 1"),
        (x32(2, 0, 3), ValueError, "batch >= 1 and time >= 1"),
        (np.zeros((2, 5, 3)), TypeError, "dtype float64, the model is float32"),
        (np.zeros((2, 5, 3), dtype=int), TypeError, "dtype int64"),
        ([[[0.0] * 3]], TypeError, "numpy.ndarray"),
    ],
)
def test_bad_x(lstm, x, error, match):
    with pytest.raises(error, match=match):
        lstm.forward(x)
    with pytest.raises(error, match=match):
        lstm.backward(x, x32(2, 5, 4))


def test_bad_grad_y(lstm):
    with pytest.raises(ValueError, match="grad_y has shape"):
        lstm.backward(x32(2, 5, 3), x32(2, 5, 3))
    with pytest.raises(TypeError, match="grad_y has dtype"):
        lstm.backward(x32(2, 5, 3), np.zeros((2, 5, 4)))


def test_bad_state(lstm, gru):
    x = x32(2, 5, 3)
    with pytest.raises(TypeError, match=r"tuple \(h, c\)"):
        lstm.forward(x, x32(2, 2, 4))
    with pytest.raises(ValueError, match="state c has shape"):
        lstm.forward(x, (x32(2, 2, 4), x32(1, 2, 4)))
    with pytest.raises(ValueError, match="state h has shape"):
        gru.forward(x, x32(1, 3, 4))
    with pytest.raises(TypeError, match="not a tuple"):
        gru.forward(x, (x32(1, 2, 4), x32(1, 2, 4)))


@pytest.mark.parametrize("where", ["x", "state", "grad_y", "param"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_is_rejected(gru, where, bad):
    x, state, gy = x32(2, 5, 3), x32(1, 2, 4), x32(2, 5, 4)
    {"x": x, "state": state, "grad_y": gy}.get(where, np.zeros((1, 1, 1)))[0, 0, 0] = bad
    if where == "param":
        params = gru.get_params()
        params["weight_hh_l0"][1, 2] = bad
        with pytest.raises(ValueError, match="weight_hh_l0 contains NaN or inf"):
            gru.set_params(params)
        return
    with pytest.raises(ValueError, match="contains NaN or inf"):
        gru.backward(x, gy, state)


def test_set_params_checks_names_shapes_dtypes(lstm):
    params = lstm.get_params()
    with pytest.raises(KeyError, match="missing \\['bias_hh_l1'\\]"):
        lstm.set_params({k: v for k, v in params.items() if k != "bias_hh_l1"})
    with pytest.raises(KeyError, match="unknown \\['weight_ih_l2'\\]"):
        lstm.set_params({**params, "weight_ih_l2": params["weight_ih_l1"]})
    with pytest.raises(ValueError, match=r"weight_ih_l0 has shape \(16, 4\), expected \(16, 3\)"):
        lstm.set_params({**params, "weight_ih_l0": np.zeros((16, 4), "float32")})
    with pytest.raises(TypeError, match="bias_ih_l0 has dtype float64"):
        lstm.set_params({**params, "bias_ih_l0": params["bias_ih_l0"].astype("float64")})
    with pytest.raises(TypeError, match="dict"):
        lstm.set_params(list(params.values()))


def test_failed_set_params_changes_nothing(gru):
    before = gru.get_params()
    broken = {**before, "bias_hh_l0": np.zeros(5, "float32")}
    with pytest.raises(ValueError):
        gru.set_params(broken)
    for name, p in gru.get_params().items():
        np.testing.assert_array_equal(p, before[name])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"name": "mxnet"}, "unknown implementation 'mxnet'"),
        ({"cell": "transformer"}, "unknown cell 'transformer'"),
        ({"dtype": "float8"}, "unknown dtype 'float8'"),
        ({"device": "tpu"}, "unknown device 'tpu'"),
        ({"input_size": 0}, "input_size must be an integer >= 1"),
        ({"hidden_size": -2}, "hidden_size must be an integer >= 1"),
        ({"num_layers": 0}, "num_layers must be an integer >= 1"),
        ({"hidden_size": 2.5}, "hidden_size must be an integer >= 1"),
    ],
)
def test_bad_create_arguments(kwargs, match):
    args = {"name": "numpy", "cell": "rnn", "input_size": 2, "hidden_size": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        impls.create(**args)


def test_numpy_has_no_gpu():
    with pytest.raises(impls.DeviceUnavailableError, match="numpy does not support device .gpu."):
        impls.create("numpy", "rnn", 2, 3, device="gpu")


def test_missing_framework_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real(name, *a)
    )
    assert "jax" not in impls.available()
    with pytest.raises(impls.FrameworkNotInstalledError, match=r"pip install -e '\.\[jax\]'"):
        impls.create("jax", "rnn", 2, 3)


def entry_points(model):
    """Every public entry point that takes x (and grad_y), as (name, call(x, grad_y))."""
    return [
        ("forward", lambda x, gy: model.forward(x)),
        ("backward", lambda x, gy: model.backward(x, gy)),
        ("prepare_forward", lambda x, gy: model.prepare_forward(x)),
        ("prepare_backward", lambda x, gy: model.prepare_backward(x, gy)),
        ("prepare_train_step", lambda x, gy: model.prepare_train_step(x, gy)),
    ]


BAD_X = [
    (x32(2, 3), ValueError, "batch, time, input"),
    (x32(2, 5, 7), ValueError, r"x has shape \(2, 5, 7\), expected \(2, 5, 3\)"),
    (np.zeros((2, 5, 3)), TypeError, "x has dtype float64, the model is float32"),
    (np.full((2, 5, 3), np.nan, dtype="float32"), ValueError, "x contains NaN or inf"),
    ([[[0.0] * 3]], TypeError, "numpy.ndarray"),
]
BAD_GRAD_Y = [
    (x32(2, 5, 3), ValueError, r"grad_y has shape \(2, 5, 3\), expected \(2, 5, 4\)"),
    (np.zeros((2, 5, 4)), TypeError, "grad_y has dtype float64"),
    (np.full((2, 5, 4), np.inf, dtype="float32"), ValueError, "grad_y contains NaN or inf"),
    ("ones", TypeError, "grad_y must be a numpy.ndarray"),
]


@pytest.mark.parametrize("x, error, match", BAD_X)
def test_every_entry_point_rejects_a_bad_x_the_same_way(lstm, x, error, match):
    for name, call in entry_points(lstm):
        with pytest.raises(error, match=match):
            call(x, x32(2, 5, 4))
            pytest.fail(f"{name} accepted a bad x")


@pytest.mark.parametrize("grad_y, error, match", BAD_GRAD_Y)
def test_every_entry_point_that_takes_grad_y_rejects_a_bad_one(lstm, grad_y, error, match):
    for name, call in entry_points(lstm)[1::2] + entry_points(lstm)[4:]:
        with pytest.raises(error, match=match):
            call(x32(2, 5, 3), grad_y)
            pytest.fail(f"{name} accepted a bad grad_y")


@pytest.mark.parametrize("lr", [0.0, -1.0, float("nan"), "0.1", True])
def test_prepare_train_step_rejects_a_bad_learning_rate(gru, lr):
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        gru.prepare_train_step(x32(2, 5, 3), x32(2, 5, 4), lr=lr)


def test_trainer_checks_its_config_seed_and_batches(gru):
    from impls.training import TrainConfig

    with pytest.raises(TypeError, match="config must be a TrainConfig"):
        gru.trainer({"lr": 1e-3})
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        gru.trainer(TrainConfig(), seed=-1)
    if not gru.differentiable:
        with pytest.raises(impls.UnsupportedError, match="inference runtime: it computes no gradients"):
            gru.trainer(TrainConfig(loss="mse_last", output_size=1))
        return
    trainer = gru.trainer(TrainConfig(loss="mse_last", output_size=1))
    with pytest.raises(ValueError, match="x contains NaN or inf"):
        trainer.step(np.full((2, 5, 3), np.nan, dtype="float32"), x32(2, 1))
    with pytest.raises(ValueError, match=r"target has shape \(2, 2\), expected \(2, 1\)"):
        trainer.step(x32(2, 5, 3), x32(2, 2))
    with pytest.raises(TypeError, match="x has dtype float64"):
        trainer.predict(np.zeros((2, 5, 3)))


def test_find_gives_none_for_a_name_not_registered_here():
    """What the report uses for a record whose plugin is not installed; get raises for the command line."""
    assert impls.registry.find("torch").name == "torch"
    assert impls.registry.find("a-plugin-not-installed") is None
