"""The equivalence check's rows, tolerances and its two tests: the function computed from the weights the
check loads, and get_params returning them (the command and the tests share them)."""

import numpy as np
import pytest

import impls
from impls.numpy_adapter import NumpyModel
from suite.studies.equivalence import check
from suite.studies.equivalence import weights as check_weights


def test_rows_are_every_combination_but_the_reference_itself():
    rows = check.rows(["numpy", "jax"], ["rnn", "gru"], ["float32", "float64"])
    assert ("numpy", "rnn", "float64") not in rows and ("numpy", "rnn", "float32") in rows
    assert len(rows) == 2 * 2 * 2 - 2
    assert rows[0] == ("numpy", "rnn", "float32") and rows[-1] == ("jax", "gru", "float64")


def test_tolerances():
    assert check.TOLERANCE == {"float64": 1e-10, "float32": 1e-5, "bfloat16": 0.2, "float16": 0.03}


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", ["torch", "jax"])
def test_low_precision_rows_pass_their_measured_tolerance_above_what_rounding_alone_costs(name, dtype):
    pytest.importorskip(name)
    function, _, _, both, _ = check.check_rows(name, "lstm", dtype)
    for row in (function, both):
        assert row["status"] == "pass", (row.get("worst"), row.get("message"))
        # rounding the exact result once costs up to the unit roundoff; running in the dtype costs more
        assert 0 < row["rounding_floor"] <= {"bfloat16": 2**-8, "float16": 2**-11}[dtype]
        assert row["rounding_floor"] < row["errors"]["y"] <= row["max_error"] <= check.TOLERANCE[dtype]


def test_an_implementation_without_a_low_precision_dtype_is_skipped_and_says_so():
    rows = check.check_rows("numpy", "gru", "bfloat16")
    assert {r["status"] for r in rows} == {"skip"}
    assert "numpy does not support dtype 'bfloat16'" in rows[0]["message"]


def test_each_combination_gives_a_function_round_trip_lengths_and_two_bidirectional_rows():
    function, round_trip, varied, both, both_varied = check.check_rows("numpy", "gru", "float32")
    assert (function["test"], round_trip["test"], varied["test"]) == ("function", "round_trip", "lengths")
    assert (both["test"], both_varied["test"]) == ("bidirectional", "bidirectional_lengths")
    assert {r["status"] for r in (function, round_trip, varied, both, both_varied)} == {"pass"}
    assert both_varied["lengths"] == [7, 3, 1] and "lengths" not in both
    assert "d_weight_hh_l1_reverse" in both["errors"] and "l1_reverse.z" not in both["errors"]
    assert varied["lengths"] == [7, 3, 1] and "lengths" not in function
    assert function["weights"]["drawn_by"] == "suite.studies.equivalence.weights.draw"
    assert (
        function["weights"]["min_saturated_share"] >= 0.1
        and function["weights"]["min_mid_range_share"] >= 0.1
    )
    assert round_trip["tolerance"] == 0.0 and round_trip["worst"] is None
    assert set(round_trip["errors"]) == set(impls.param_shapes("gru", 5, 6, 2))


def test_a_row_that_raises_is_an_error_and_a_missing_device_a_skip(monkeypatch):
    def create(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(impls, "create", create)
    rows = check.check_rows("numpy", "rnn", "float32")
    assert [(r["test"], r["status"]) for r in rows] == [
        ("function", "error"),
        ("round_trip", "error"),
        ("lengths", "error"),
        ("bidirectional", "error"),
        ("bidirectional_lengths", "error"),
    ]
    assert all("RuntimeError: boom" in r["message"] for r in rows)
    monkeypatch.undo()
    assert [r["status"] for r in check.check_rows("numpy", "rnn", "float32", device="gpu")] == ["skip"] * 5


class _Model(NumpyModel):
    """The reference, with get_params altered by ``read``."""

    framework = "numpy"
    read = staticmethod(lambda params: params)

    def _get_params(self):
        return self.read(super()._get_params())


def _with_get_params(read):
    model = type("Reads", (_Model,), {"read": staticmethod(read)})("lstm", 5, 6, 2, "float32")
    model.implementation = "reads"
    return model


def _loaded(cell="lstm", dtype="float32"):
    return check.check_weights.rounded(check.check_weights.draw(cell, 5, 6, 2, 0), dtype)


def test_the_round_trip_is_bitwise():
    loaded = _loaded()

    def nudge(params):
        params["bias_hh_l1"][3] = np.nextafter(params["bias_hh_l1"][3], np.float32(np.inf))
        return params

    model = _with_get_params(nudge)
    model.set_params(loaded)
    row = check.round_trip_row(model, loaded)
    assert row["status"] == "fail" and row["worst"] == "bias_hh_l1" and 0 < row["max_error"] < 1e-6
    assert check.function_row(model, loaded, check.Shape(), 0)["status"] == "pass"  # the function is right


@pytest.mark.parametrize(
    "read, message",
    [
        (
            lambda p: {n: v.astype("float64") for n, v in p.items()},
            "weight_ih_l0 is float64 (24, 5), was set as float32",
        ),
        (lambda p: {n: v for n, v in p.items() if n != "bias_ih_l1"}, "bias_ih_l1 is missing"),
        (lambda p: {**p, "proj_l0": np.zeros(2)}, "proj_l0 is not a parameter"),
    ],
)
def test_a_round_trip_that_changes_names_shapes_or_dtypes_fails_and_says_so(read, message):
    loaded = _loaded()
    model = _with_get_params(read)
    model.set_params(loaded)
    row = check.round_trip_row(model, loaded)
    assert row["status"] == "fail" and message in row["message"]


def test_the_reference_computes_from_the_loaded_weights_not_from_get_params():
    """An implementation whose get_params reports other weights than it computes with still passes the
    function (it computes the canonical function of what it was given) and fails only the round trip."""
    loaded = _loaded()
    model = _with_get_params(lambda p: {n: v * np.float32(2) for n, v in p.items()})
    model.set_params(loaded)
    assert check.function_row(model, loaded, check.Shape(), 0)["status"] == "pass"
    assert check.round_trip_row(model, loaded)["status"] == "fail"


def test_which_test_reads_records_of_before_the_round_trip():
    assert check.which_test({"path": "finite differences"}) == "finite_differences"
    assert check.which_test({"path": "aten"}) == "function"
    assert check.which_test({"test": "round_trip"}) == "round_trip"


def test_run_adds_the_finite_difference_rows_only_for_float64():
    rows, fd = check.run(["numpy"], ["rnn"], ["float32"])
    assert [(r["test"], r["status"]) for r in rows] == [
        ("function", "pass"),
        ("round_trip", "pass"),
        ("lengths", "pass"),
        ("bidirectional", "pass"),
        ("bidirectional_lengths", "pass"),
    ] and fd == []
    rows, fd = check.run(["numpy"], ["rnn"], ["float64"])
    assert rows == [] and [(r["test"], r["path"]) for r in fd] == [
        ("finite_differences", "finite differences")
    ]
    assert check.counts(rows + fd) == {"passed": 1, "failed": 0, "skipped": 0}


@pytest.mark.parametrize("status, counted", [("fail", "failed"), ("error", "failed"), ("skip", "skipped")])
def test_counts(status, counted):
    assert check.counts([{"status": status}])[counted] == 1


def test_forward_and_backward_are_repeated_and_any_bit_that_changes_is_named():
    loaded = _loaded()
    model = impls.create("numpy", "lstm", 5, 6, 2, "float32")
    model.set_params(loaded)
    row = check.function_row(model, loaded, check.Shape(), 0)
    assert row["repeatable"] is True and "repeat_differs" not in row

    class Drifting(NumpyModel):  # a stand-in for atomics on a GPU: each backward sums in another order
        calls = 0

        def backward(self, *args, **kwargs):
            grads = super().backward(*args, **kwargs)
            Drifting.calls += 1
            grads["bias_ih_l0"] = grads["bias_ih_l0"] * np.float32(1 + 1e-7 * Drifting.calls)
            return grads

    drifting = Drifting("lstm", 5, 6, 2, "float32")
    drifting.set_params(loaded)
    row = check.function_row(drifting, loaded, check.Shape(), 0)
    assert row["status"] == "pass" and row["repeatable"] is False
    assert (
        list(row["repeat_differs"]) == ["d_bias_ih_l0"] and 0 < row["repeat_differs"]["d_bias_ih_l0"] < 1e-6
    )
    assert Drifting.calls == 1 + check.REPEATS


# the two cells whose state handling differs most from the tanh RNN's: the GRU (its reset gate) in float64,
# the LSTM (two states) in float32 (results/check-cpu.json holds every combination for every implementation)
CASES = [("gru", "float64"), ("lstm", "float32")]


# each framework's default and the torch loops' masking; the other variants' rows are in check-cpu.json
@pytest.mark.parametrize("name", ["torch", "torch-cells", "torch-hoisted-loop", "tensorflow", "jax"])
def test_lengths_are_checked_against_the_reference_run_sequence_by_sequence(name, monkeypatch):
    pytest.importorskip(impls.get(name).requires[-1])
    monkeypatch.setattr(check, "bidirectional_rows", lambda *args: [])  # their own test, below
    for cell, dtype in CASES:
        varied = check.check_rows(name, cell, dtype)[2]
        assert varied["status"] == "pass", (cell, dtype, varied.get("worst"), varied.get("max_error"))
        assert varied["max_error"] <= check.TOLERANCE[dtype] and varied["lengths"] == [7, 3, 1]


def test_an_implementation_that_does_not_take_lengths_is_skipped_and_says_so(monkeypatch):
    monkeypatch.setattr(NumpyModel, "takes_lengths", False)
    *_, varied, _, both_varied = check.check_rows("numpy", "gru", "float32")
    assert varied["status"] == "skip" and varied["message"] == "numpy does not take sequence lengths"
    assert both_varied["status"] == "skip" and both_varied["message"] == varied["message"]


# each framework's own mechanism (tests/impls/test_bidirectional.py builds every implementation's both ways)
@pytest.mark.parametrize("name", ["torch", "tensorflow", "jax", "numpy-in-step"])
def test_bidirectional_stacks_are_checked_with_and_without_lengths(name):
    pytest.importorskip(impls.get(name).requires[-1])
    for cell, dtype in CASES:
        for row in check.bidirectional_rows(name, cell, dtype, "cpu", check.Shape(), 0, True):
            assert row["status"] == "pass", (
                cell,
                dtype,
                row["test"],
                row.get("worst"),
                row.get("message"),
            )
            assert row["max_error"] <= check.TOLERANCE[dtype]


def test_an_implementation_that_is_not_bidirectional_is_skipped_and_says_so():
    both, both_varied = check.check_rows("torch-cells", "gru", "float64")[3:]
    assert both["status"] == both_varied["status"] == "skip"
    assert both["message"] == "torch-cells is not bidirectional"


def test_a_reverse_direction_left_in_its_own_time_order_fails_the_bidirectional_row():
    class Unflipped(NumpyModel):  # the reverse direction's outputs not turned back into input order
        def _forward(self, x, state):
            y, final = super()._forward(x, state)
            y[:, :, self.hidden_size :] = y[:, ::-1, self.hidden_size :].copy()
            return y, final

    shape = check.Shape()
    for bidirectional in (False, True):
        model = Unflipped("gru", 5, 6, 2, "float64", bidirectional=bidirectional)
        loaded = check_weights.draw("gru", 5, 6, 2, 0, bidirectional)
        model.set_params(loaded)
        row = check.function_row(model, loaded, shape, 0)
        assert row["status"] == ("fail" if bidirectional else "pass")
    assert row["worst"] == "y"


def test_a_wrong_length_path_fails_the_lengths_row_only():
    class Ignores(NumpyModel):  # runs every sequence to the padded end
        def _forward_lengths(self, x, state, lengths):
            return self._forward(x, state)

    model = Ignores("lstm", 5, 6, 2, "float32")
    loaded = _loaded()
    model.set_params(loaded)
    assert check.function_row(model, loaded, check.Shape(), 0)["status"] == "pass"
    row = check.function_row(model, loaded, check.Shape(), 0, check.check_lengths(check.Shape()))
    assert row["status"] == "fail" and row["worst"] in ("y", "h_n", "c_n")
