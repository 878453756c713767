"""The weights the equivalence check draws: seeded, canonical, float64 rounded once, and far from tame, so
that the mapping bugs the check exists for show far above its tolerance."""

import numpy as np
import pytest

import impls
from suite.studies.equivalence import check
from suite.studies.equivalence import weights as check_weights
from tests.suite.studies.equivalence import check_bugs

SHAPE = check.Shape()  # the check's


def _draw(cell, seed=0):
    return check_weights.draw(cell, SHAPE.input_size, SHAPE.hidden_size, SHAPE.num_layers, seed)


@pytest.mark.parametrize("cell", impls.CELLS)
def test_drawn_from_the_seed_alone_in_the_canonical_layout(cell):
    a, b = _draw(cell), _draw(cell)
    shapes = impls.param_shapes(cell, SHAPE.input_size, SHAPE.hidden_size, SHAPE.num_layers)
    assert list(a) == list(shapes) and all(
        a[n].shape == s and a[n].dtype == np.float64 for n, s in shapes.items()
    )
    assert all(np.array_equal(a[n], b[n]) for n in a)
    assert not np.array_equal(a["weight_hh_l0"], _draw(cell, seed=1)["weight_hh_l0"])
    for k in range(SHAPE.num_layers):  # both biases matter, and differ
        b_ih, b_hh = a[f"bias_ih_l{k}"], a[f"bias_hh_l{k}"]
        assert np.all(b_hh != 0) and not np.allclose(b_ih, b_hh)


def test_rounded_once_to_the_dtype():
    drawn = _draw("gru")
    loaded = check_weights.rounded(drawn, "float32")
    assert all(p.dtype == np.float32 for p in loaded.values())
    assert all(np.array_equal(loaded[n], drawn[n].astype(np.float32)) for n in drawn)


@pytest.mark.parametrize("cell", impls.CELLS)
def test_every_gate_saturates_somewhere_and_sits_mid_range_elsewhere(cell):
    x, state, _ = check.make_inputs(cell, SHAPE, seed=0)
    activity = check_weights.gate_activity(cell, _draw(cell), x, state)
    assert len(activity) == SHAPE.num_layers * impls.layout.GATES[cell]
    for gate, (saturated, mid) in activity.items():
        assert saturated >= 0.1 and mid >= 0.1, (gate, saturated, mid)


def test_tame_weights_would_not_saturate():
    """What the drawn weights are for: PyTorch's initialisation at the check's shape keeps gates mid-range."""
    tame = impls.layout.init_params(
        "lstm", SHAPE.input_size, SHAPE.hidden_size, SHAPE.num_layers, "float64", 0
    )
    x, state, _ = check.make_inputs("lstm", SHAPE, seed=0)
    activity = check_weights.gate_activity("lstm", tame, x, state)
    assert min(s for s, _ in activity.values()) < 0.01


MARGIN = 1000  # times the float32 tolerance; measured margins are 1e5 and more (README)


@pytest.mark.parametrize(
    "cell, bug", [(cell, bug) for cell in impls.CELLS for bug in check_bugs.mutations(cell)]
)
def test_each_mapping_bug_fails_far_above_the_tolerance(cell, bug):
    loaded = check_weights.rounded(_draw(cell), "float32")
    model = check_bugs.mutated(check_bugs.mutations(cell)[bug], cell, SHAPE, "float32")
    model.set_params(loaded)
    row = check.function_row(model, loaded, SHAPE, 0)
    assert row["status"] == "fail" and row["max_error"] >= MARGIN * check.TOLERANCE["float32"], row[
        "max_error"
    ]


def test_the_textbook_reset_gate_fails_far_above_the_tolerance():
    loaded = check_weights.rounded(_draw("gru"), "float32")
    model = check_bugs.textbook_gru(SHAPE, "float32")
    model.set_params(loaded)
    reference = impls.create("numpy", "gru", SHAPE.input_size, SHAPE.hidden_size, SHAPE.num_layers, "float64")
    reference.set_params({n: p.astype("float64") for n, p in loaded.items()})
    x, state, _ = check.make_inputs("gru", SHAPE, seed=0)
    y, _ = model.forward(x.astype("float32"), state.astype("float32"))
    assert check.rel_error(y, reference.forward(x, state)[0]) >= MARGIN * check.TOLERANCE["float32"]
