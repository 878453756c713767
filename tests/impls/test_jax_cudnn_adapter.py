"""jax-cudnn's plumbing (packing the canonical weights into cuDNN's flat vector, states, gradients through
its custom backward, training) on the CPU, with JAX's own pure-JAX reference of the same primitive
(``jax.experimental.rnn.lstm_ref``, reading the weights through ``unpack_lstm_weights``) standing in for
the cuDNN kernel, which has no CPU lowering. The real kernel runs in the GPU check (``rnnbench gpu``)."""

import numpy as np
import pytest

pytest.importorskip("jax")

import impls  # noqa: E402
from impls import jax_adapter  # noqa: E402
from impls.training import TrainConfig  # noqa: E402
from suite.studies.equivalence import check  # noqa: E402


@pytest.fixture
def stand_in(monkeypatch):
    from jax.experimental import rnn

    from impls import jax_cudnn_adapter

    calls = []

    def lstm(
        x, h0, c0, weights, lengths, input_size, hidden_size, num_layers, dropout, bidirectional, precision
    ):
        calls.append(precision)
        w_ih, w_hh, b_ih, b_hh = rnn.unpack_lstm_weights(
            weights, input_size, hidden_size, num_layers, bidirectional
        )
        return rnn.lstm_ref(
            x,
            h0,
            c0,
            w_ih,
            w_hh,
            b_ih,
            b_hh,
            lengths,
            input_size,
            hidden_size,
            num_layers,
            dropout,
            bidirectional,
        )

    monkeypatch.setattr(jax_cudnn_adapter.rnn, "lstm", lstm)
    jax_adapter.compiled.cache_clear()  # compiled with the stand-in, and not kept for the real one
    yield jax_cudnn_adapter, calls
    jax_adapter.compiled.cache_clear()


def test_jax_cudnn_declares_the_gpu_lstm_in_float32_only():
    declared = impls.get("jax-cudnn")
    assert (declared.cells, declared.dtypes, declared.devices) == (("lstm",), ("float32",), ("gpu",))
    assert not declared.trains_together
    with pytest.raises(impls.UnsupportedError, match="does not support cell 'gru'"):
        impls.create("jax-cudnn", "gru", 2, 3, device="gpu")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_packed_weights_compute_the_canonical_lstm_with_tf32_off(stand_in, dtype):
    """The check's own rows (weights it draws, a non-zero initial state, 2 layers) against the NumPy
    reference: float64 through the reference kernel proves the packing exact."""
    adapter, calls = stand_in
    model = adapter.JaxCudnnModel("lstm", 5, 6, 2, dtype, "cpu")
    loaded = check.check_weights.rounded(check.check_weights.draw("lstm", 5, 6, 2, 0), dtype)
    model.set_params(loaded)
    row = check.function_row(model, loaded, check.Shape(), 0)
    assert row["status"] == "pass", (row["worst"], row["max_error"])
    assert row["repeatable"] and "cudnn via jax.experimental.rnn" in row["path"]
    import jax

    assert set(calls) == {None} and jax.config.jax_default_matmul_precision == "highest"  # TF32 off


def test_it_trains_like_the_scan(stand_in):
    adapter, _ = stand_in
    config = TrainConfig(loss="mse_last", optimizer="rmsprop", lr=1e-2, clip=1.0)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 9, 2)), rng.standard_normal((4, 1))
    losses = []
    for model in (
        adapter.JaxCudnnModel("lstm", 2, 5, 1, "float64", "cpu"),
        impls.create("jax", "lstm", 2, 5, 1, "float64"),
    ):
        trainer = model.trainer(config, 0)
        losses.append([trainer.step(x, y) for _ in range(5)])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-10)
