"""The JAX variants compile once per variant, cell, shape and device, models sharing the compiled functions
still compute each with its own weights, and a subclass's own ``stack`` (a plugin's) is what runs."""

import numpy as np
import pytest

import impls

pytest.importorskip("jax")
pytest.importorskip("flax")


def _model(name: str, cell: str = "lstm", seed: int = 0, init: str = "default"):
    return impls.create(name, cell, 3, 8, dtype="float64", seed=seed, init=init, t_max=20)


def test_models_of_one_variant_and_cell_share_the_compiled_functions():
    a, b = _model("jax"), _model("jax", seed=1, init="chrono")
    assert a._fwd is b._fwd and a._grads is b._grads
    for other in (_model("jax", "gru"), _model("jax-hoisted"), _model("jax-flax")):
        assert other._grads is not a._grads


def test_a_shared_compile_uses_each_models_own_weights():
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    grad_y = np.ones((2, 5, 8))
    for seed in (0, 1):
        model, reference = _model("jax", seed=seed), _model("numpy", seed=seed)
        got, want = model.backward(x, grad_y), reference.backward(x, grad_y)
        np.testing.assert_allclose(model.forward(x)[0], reference.forward(x)[0], rtol=1e-12)
        for name in want:
            np.testing.assert_allclose(got[name], want[name], rtol=1e-12, atol=1e-14)


def test_a_subclass_with_its_own_stack_is_compiled_per_model_and_runs_its_stack():
    from impls.jax_adapter import JaxModel

    class Doubled(JaxModel):
        def stack(self, params, x, h0, c0):
            y, h, c = super().stack(params, x, h0, c0)
            return 2 * y, h, c

    def create(cls):
        model = cls("rnn", 3, 8, dtype="float64")
        model.set_params(_model("jax", "rnn").get_params())
        return model

    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    plain, doubled = create(JaxModel), create(Doubled)
    assert doubled._fwd is not create(Doubled)._fwd
    np.testing.assert_allclose(doubled.forward(x)[0], 2 * plain.forward(x)[0], rtol=1e-15)
