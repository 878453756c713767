"""The deployment runtimes (ONNX Runtime, OpenVINO): what the export produced, the precision that ran, and
what they refuse."""

import numpy as np
import pytest

import impls
from impls.training import TrainConfig
from tests.conftest import framework_params

RUNTIMES = framework_params(["onnxruntime", "openvino"])


@pytest.mark.parametrize("cell", impls.CELLS)
@pytest.mark.parametrize("name", RUNTIMES)
def test_the_export_is_one_fused_onnx_node_per_layer_and_the_path_names_it(name, cell):
    model = impls.create(name, cell, 3, 4, num_layers=2)
    op = cell.upper()
    assert model.operators()[op] == 2
    assert not {"MatMul", "Gemm", "Loop", "Scan"} & set(model.operators())  # not unrolled
    assert f"ONNX 2 {op}" in model.path() and model.path().startswith(name)


@pytest.mark.parametrize("name", RUNTIMES)
def test_a_runtime_refuses_gradients_training_and_float64_by_name(name):
    model = impls.create(name, "lstm", 3, 4)
    x = np.zeros((2, 5, 3), "float32")
    with pytest.raises(impls.UnsupportedError, match="inference runtime"):
        model.backward(x, np.zeros((2, 5, 4), "float32"))
    with pytest.raises(impls.UnsupportedError, match="inference runtime"):
        model.trainer(TrainConfig(loss="mse_last", output_size=1))
    with pytest.raises(impls.UnsupportedError, match="does not support dtype 'float64'"):
        impls.create(name, "lstm", 3, 4, dtype="float64")
    assert not impls.get(name).differentiable and not model.differentiable


@pytest.mark.parametrize("name", RUNTIMES)
def test_new_weights_are_exported_again(name):
    model = impls.create(name, "gru", 3, 4, seed=0)
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype("float32")
    before = model.forward(x)[0]
    model.set_params(impls.create("numpy", "gru", 3, 4, seed=1).get_params())
    after = model.forward(x)[0]
    reference = impls.create("numpy", "gru", 3, 4, seed=1).forward(x)[0]
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, reference, rtol=1e-5, atol=1e-6)


def test_openvino_runs_float32_even_where_its_cpu_default_is_bfloat16():
    pytest.importorskip("openvino")
    model = impls.create("openvino", "lstm", 3, 4)
    precisions = {precision for kind, precision in model.runtime_layers() if kind == "RNNSeq"}
    assert precisions == {"f32"}


@pytest.mark.parametrize("name", RUNTIMES)
def test_the_thread_count_reaches_sessions_created_afterwards(name, monkeypatch):
    backend = impls.backend(name)
    module = __import__(impls.get(name).target.partition(":")[0], fromlist=["_SETTINGS"])
    monkeypatch.setattr(module, "_SETTINGS", dict(module._SETTINGS))
    backend.set_threads(1)
    model = impls.create(name, "rnn", 3, 4)
    if name == "onnxruntime":
        assert model.session.get_session_options().intra_op_num_threads == 1
    else:
        assert model.compiled.get_property("INFERENCE_NUM_THREADS") == 1
    assert 1 in backend.thread_info().values()
