"""Every framework computes the NumPy reference's outputs, final states and gradients."""

import numpy as np
import pytest

import impls
from suite.studies.equivalence import weights as check_weights
from suite.studies.equivalence.check import TOLERANCE, Shape, make_inputs, rel_error
from tests.conftest import framework_params, widest_dtype

SHAPES = {
    "batch1": (Shape(batch=1, time=4, input_size=3, hidden_size=5, num_layers=1), False),
    "time1": (Shape(batch=2, time=1, input_size=4, hidden_size=4, num_layers=1), True),
    "two_layers_state": (Shape(batch=3, time=6, input_size=5, hidden_size=3, num_layers=2), True),
    "wide_input": (Shape(batch=2, time=5, input_size=9, hidden_size=2, num_layers=1), True),
}


def cast(value, dtype):
    return tuple(v.astype(dtype) for v in value) if isinstance(value, tuple) else value.astype(dtype)


def run_pair(framework, cell, dtype, shape, with_state, device="cpu"):
    """(the implementation's outputs, the reference's), both computing from weights the test draws."""
    sizes = (shape.input_size, shape.hidden_size, shape.num_layers)
    try:
        model = impls.create(framework, cell, *sizes, dtype=dtype, device=device)
    except impls.DeviceUnavailableError as e:
        pytest.skip(str(e))
    loaded = check_weights.rounded(check_weights.draw(cell, *sizes, seed=3), dtype)
    model.set_params(loaded)
    reference = impls.create("numpy", cell, *sizes, dtype="float64")
    reference.set_params({n: p.astype("float64") for n, p in loaded.items()})
    x, state, grad_y = (cast(v, dtype) for v in make_inputs(cell, shape, seed=5))
    state = state if with_state else None
    ref_state = None if state is None else cast(state, "float64")
    if not model.differentiable:  # an inference runtime: outputs and final states alone
        return (*model.forward(x, state), {}), (*reference.forward(x.astype("float64"), ref_state), {})
    expected = (
        *reference.forward(x.astype("float64"), ref_state),
        reference.backward(x.astype("float64"), grad_y.astype("float64"), ref_state),
    )
    got = (*model.forward(x, state), model.backward(x, grad_y, state))
    return got, expected


def assert_close(got, expected, tol):
    (y, final, grads), (ref_y, ref_final, ref_grads) = got, expected
    assert all(g.dtype == y.dtype for g in grads.values())
    assert rel_error(y, ref_y) <= tol
    finals = zip(final, ref_final, strict=True) if isinstance(ref_final, tuple) else [(final, ref_final)]
    for a, b in finals:
        assert a.shape == b.shape
        assert rel_error(a, b) <= tol
    assert set(grads) == set(ref_grads)
    for name, ref in ref_grads.items():
        assert grads[name].shape == ref.shape, name
        assert rel_error(grads[name], ref) <= tol, name


@pytest.mark.parametrize("shape_name", SHAPES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cell", impls.CELLS)
@pytest.mark.parametrize("framework", framework_params())
def test_matches_reference_on_cpu(framework, cell, dtype, shape_name):
    if framework not in impls.FRAMEWORKS and shape_name != "two_layers_state":
        pytest.skip("variants: the two-layer case with a state only (suite check covers the rest)")
    if dtype not in impls.get(framework).dtypes:
        pytest.skip(f"{framework} does not declare {dtype}")
    shape, with_state = SHAPES[shape_name]
    got, expected = run_pair(framework, cell, dtype, shape, with_state)
    assert got[0].dtype == np.dtype(dtype)
    assert_close(got, expected, TOLERANCE[dtype])


@pytest.mark.parametrize("cell", impls.CELLS)
@pytest.mark.parametrize(
    "framework", framework_params([n for n in impls.registry.names() if "gpu" in impls.get(n).devices], "gpu")
)
def test_matches_reference_on_gpu(framework, cell):
    """Every implementation with a GPU path; skips cleanly where it is not installed or sees no GPU."""
    shape, _ = SHAPES["two_layers_state"]
    declared = impls.get(framework)
    if cell not in declared.cells:
        pytest.skip(f"{framework} does not declare the {cell} cell")
    for dtype in declared.dtypes:
        got, expected = run_pair(framework, cell, dtype, shape, True, device="gpu")
        assert_close(got, expected, TOLERANCE[dtype])


@pytest.mark.parametrize("framework", framework_params())
def test_same_seed_gives_same_params_everywhere(framework):
    a = impls.create(framework, "lstm", 3, 4, num_layers=2, seed=11).get_params()
    b = impls.create("numpy", "lstm", 3, 4, num_layers=2, seed=11).get_params()
    assert list(a) == list(b) == list(impls.param_shapes("lstm", 3, 4, 2))
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


@pytest.mark.parametrize("framework", framework_params())
def test_set_params_round_trips(framework):
    model = impls.create(framework, "gru", 2, 3, dtype=widest_dtype(framework))
    new = {n: np.full(p.shape, 0.25, p.dtype) for n, p in model.get_params().items()}
    model.set_params(new)
    for name, p in model.get_params().items():
        np.testing.assert_array_equal(p, new[name])


@pytest.mark.parametrize("framework", framework_params())
def test_path_is_reported(framework):
    path = impls.create(framework, "lstm", 2, 3).path()
    assert isinstance(path, str) and path


@pytest.mark.parametrize("framework", framework_params())
def test_native_fast_path_runs(framework):
    model = impls.create(framework, "rnn", 2, 3)
    x = np.ones((2, 4, 2), dtype="float32")
    model.prepare_forward(x)()
    if not model.differentiable:
        with pytest.raises(impls.UnsupportedError, match="inference runtime"):
            model.prepare_backward(x, np.ones((2, 4, 3), dtype="float32"))
        return
    model.prepare_backward(x, np.ones((2, 4, 3), dtype="float32"))()


@pytest.mark.parametrize("cell", impls.CELLS)
@pytest.mark.parametrize("framework", framework_params(gradients=True))
def test_train_step_is_one_sgd_step(framework, cell):
    model = impls.create(framework, cell, 3, 4, num_layers=2, dtype="float64", seed=2)
    reference = impls.create("numpy", cell, 3, 4, num_layers=2, dtype="float64", seed=2)
    rng = np.random.default_rng(0)
    x, gy = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 4))
    grads = reference.backward(x, gy)
    lr = 0.125  # exact in float32: Keras keeps its learning rate in a float32 variable
    reference.set_params({n: p - lr * grads[n] for n, p in reference.get_params().items()})
    model.prepare_train_step(x, gy, lr=lr)()
    # the same function afterwards (Keras keeps b_ih + b_hh merged, so compare outputs, not biases)
    np.testing.assert_allclose(model.forward(x)[0], reference.forward(x)[0], rtol=1e-12, atol=1e-12)
    after = impls.create("numpy", cell, 3, 4, num_layers=2, dtype="float64")
    after.set_params(model.get_params())
    np.testing.assert_allclose(after.forward(x)[0], reference.forward(x)[0], rtol=1e-12, atol=1e-12)
