"""Low precision: the mixed-precision implementations (torch.autocast, Keras's mixed_bfloat16 policy, flax's
dtype apart from param_dtype: float32 in and out, bfloat16 inside) held to bfloat16's tolerance by the check's
own rows; training in pure bfloat16 and under a mixed policy."""

import numpy as np
import pytest

import impls
import tasks
from impls.training import TrainConfig
from suite.studies.equivalence import check
from tests.conftest import framework_params

MIXED = [n for n in impls.registry.names() if impls.get(n).computes_in]


def _skips(name):
    """What a row may not be: "skip" for a framework policy; a runtime skips its round trip and lengths."""
    return {"skip"} if impls.get(name).differentiable else set()


def _created(name, *args, **kwargs):
    """A model, or a skip where this CPU cannot run the policy (OpenVINO's bf16 without bf16 units, PyTorch's
    bfloat16 LSTM without AVX-512)."""
    try:
        return impls.create(name, *args, **kwargs)
    except impls.UnsupportedError as e:
        pytest.skip(str(e))


def test_the_built_in_mixed_policies_are_registered_as_float32_implementations():
    assert set(MIXED) >= {"torch-autocast", "tensorflow-mixed", "jax-flax-mixed", "openvino-bf16"}
    for name in MIXED:
        impl = impls.get(name)
        assert impl.dtypes == ("float32",) and impl.computes_in == "bfloat16"


# every cell of torch's (autocast treats them differently), the GRU of the others (the most ops of the three);
# every row of every cell is in results/check-cpu.json
CHECKED = [("torch-autocast", c) for c in impls.CELLS] + [(n, "gru") for n in MIXED if n != "torch-autocast"]


@pytest.mark.parametrize(
    "name, cell", [pytest.param(n, c, marks=framework_params([n])[0].marks) for n, c in CHECKED]
)
def test_a_mixed_policy_passes_the_check_at_bfloat16s_tolerance_and_really_computes_in_it(name, cell):
    """Every row (the function, lengths, both directions) passes bfloat16's tolerance; the function's error
    is far above float32's, so the arithmetic did run in bfloat16."""
    rows = check.check_rows(name, cell, "float32")
    if rows[0]["status"] == "skip":  # OpenVINO's bf16 hint on a CPU without bf16 units
        pytest.skip(rows[0]["message"])
    assert {r["status"] for r in rows} == {"pass", "skip"} - _skips(name), [r.get("message") for r in rows]
    function = next(r for r in rows if r["test"] == "function")
    assert function["tolerance"] == check.TOLERANCE["bfloat16"]
    assert function["computes_in"] == "bfloat16"
    assert function["max_error"] > 100 * check.TOLERANCE["float32"]
    assert function["rounding_floor"] > 1e-3  # rounding to bfloat16, not to float32


@pytest.mark.parametrize("name", framework_params(MIXED))
def test_a_mixed_policy_keeps_float32_weights_inputs_outputs_and_gradients(name):
    model = _created(name, "lstm", 3, 4, 2)
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype("float32")
    y, (h, c) = model.forward(x)
    grads = model.backward(x, np.ones_like(y)) if model.differentiable else {}
    arrays = (y, h, c, *grads.values(), *model.get_params().values())
    assert {a.dtype for a in arrays} == {np.dtype("float32")}
    assert "bfloat16" in model.path() or "bf16" in model.path()
    with pytest.raises(impls.UnsupportedError, match="does not support dtype 'bfloat16'"):
        impls.create(name, "lstm", 3, 4, dtype="bfloat16")


@pytest.mark.parametrize("name", framework_params(MIXED))
def test_stepping_a_mixed_policy_through_a_sequence_equals_its_forward(name):
    """The same arithmetic one step at a time: equal to the whole sequence's up to bfloat16 rounding."""
    model = _created(name, "gru", 3, 4, 2)
    x = np.random.default_rng(1).standard_normal((2, 6, 3)).astype("float32")
    y, final = model.forward(x)
    state, steps = None, []
    for t in range(x.shape[1]):
        y_t, state = model.step(np.ascontiguousarray(x[:, t]), state)
        steps.append(y_t)
    assert check.rel_error(np.stack(steps, axis=1), y.astype(np.float64)) < 2**-7
    assert check.rel_error(state, final.astype(np.float64)) < 2**-7


def test_torch_autocast_says_what_it_ran_in_bfloat16():
    """autocast lowers nn.LSTM whole; nn.GRU is not on its list, yet ATen's GRU runs its gate GEMMs in
    bfloat16 and returns float32: the path says so, read off the ops that ran."""
    pytest.importorskip("torch")
    lstm = _created("torch-autocast", "lstm", 3, 4).path()
    gru = impls.create("torch-autocast", "gru", 3, 4).path()
    assert "GEMMs in bfloat16, output bfloat16" in lstm
    assert "GEMMs in bfloat16, output float32" in gru


TRAINED = [("torch", "bfloat16"), ("jax", "bfloat16")]
TRAINED += [(n, "float32") for n in MIXED if impls.get(n).differentiable]


@pytest.mark.parametrize(
    "name, dtype",
    [pytest.param(n, d, marks=framework_params([n])[0].marks, id=f"{n}-{d}") for n, d in TRAINED],
)
def test_training_in_low_precision_learns_and_keeps_its_dtypes(name, dtype):
    """Pure bfloat16 (weights, optimizer and arithmetic) and mixed policies (float32 weights) both learn the
    adding problem's first steps; Adam's step count stays in float32 (in bfloat16 0.999 rounds to 1 and its
    bias correction to 0, which made the loss grow)."""
    task = tasks.get("adding")
    model = _created(name, "lstm", task.input_size, 16, 1, dtype, seed=0)
    trainer = model.trainer(TrainConfig(lr=1e-2), seed=0)
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(40):
        x, target, _ = task.sample(rng, 16, 10)
        losses.append(trainer.step(x.astype(dtype), target.astype(dtype)))
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:5])
    assert {p.dtype for p in trainer.params().values()} == {np.dtype(dtype)}
    assert trainer.predict(x.astype(dtype)).dtype == np.dtype(dtype)
