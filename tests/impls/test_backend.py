"""The backend protocol: what the harness calls on every adapter module."""

import inspect

import pytest

import impls
from tests.conftest import framework_params

# the backend is the framework's (impls.backend): each framework once, not each of its variants again
FRAMEWORK_PARAMS = framework_params(list(impls.FRAMEWORKS))


@pytest.mark.parametrize("framework", FRAMEWORK_PARAMS)
def test_every_adapter_module_implements_the_backend_protocol(framework):
    module = impls.backend(framework)
    assert isinstance(module, impls.Backend)
    for name in (
        "set_threads",
        "thread_info",
        "matmul",
        "flush_denormals",
        "deterministic",
        "allow_tf32",
        "device_times",
    ):
        expected = list(inspect.signature(getattr(impls.Backend, name)).parameters)[1:]  # without self
        assert list(inspect.signature(getattr(module, name)).parameters) == expected, name
    info = module.thread_info()
    assert isinstance(info, dict) and info
    fn = module.matmul(8, "float32", "cpu")
    fn()


def test_a_module_without_the_hooks_is_not_a_backend():
    import types

    assert not isinstance(types.ModuleType("empty"), impls.Backend)


def test_backend_names_unknown_and_missing_frameworks():
    with pytest.raises(ValueError, match="unknown implementation .mxnet."):
        impls.backend("mxnet")


def test_the_denormal_probe_tells_flushing_from_keeping():
    import numpy as np

    from impls.base import denormal_mode

    assert denormal_mode(np.multiply) == "kept"  # NumPy keeps subnormals
    assert denormal_mode(lambda a, b: np.where(np.abs(a * b) < 1.2e-38, 0, a * b)) == "flushed"  # FTZ
    assert denormal_mode(lambda a, b: np.where(np.abs(a) < 1.2e-38, 0, a) * b) == "flushed"  # DAZ


@pytest.mark.parametrize("framework", FRAMEWORK_PARAMS)
def test_each_framework_says_what_its_arithmetic_does_with_subnormals_in_a_fresh_process(framework):
    import subprocess
    import sys

    code = f"import impls; print(impls.backend({framework!r}).flush_denormals())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    mode = out.stdout.strip().splitlines()[-1]
    # torch flushes once asked; XLA and TensorFlow's CPU runtimes always do; NumPy cannot be asked
    assert mode == {"numpy": "kept"}.get(impls.get(framework).framework, "flushed"), out.stderr[-500:]


DETERMINISTIC_PROBE = {
    "torch": "import torch; print(torch.are_deterministic_algorithms_enabled())",
    "tensorflow": "from tensorflow.python.framework import config; print(config.is_op_determinism_enabled())",
    "jax": "import os; print('--xla_gpu_deterministic_ops=true' in os.environ['XLA_FLAGS'])",
    "numpy": "print(True)",
    # the runtimes' CPU kernels run in one order: nothing to switch (the check's repeats test the bits)
    "onnxruntime": "print(True)",
    "openvino": "print(True)",
}


@pytest.mark.parametrize("framework", FRAMEWORK_PARAMS)
def test_each_framework_switches_to_its_deterministic_mode_and_says_what_it_set(framework):
    import subprocess
    import sys

    family = impls.get(framework).framework
    code = f"import impls; print(impls.backend({framework!r}).deterministic()); {DETERMINISTIC_PROBE[family]}"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    said, probe = out.stdout.strip().splitlines()[-2:]
    assert said and probe == "True", out.stderr[-500:]


def test_the_kernel_time_is_the_profiles_own_device_time_per_call():
    pytest.importorskip("torch")
    import types

    from impls import torch_adapter

    entries = [types.SimpleNamespace(self_device_time_total=us) for us in (1500.0, 500.0)]
    assert torch_adapter.kernel_seconds(entries, rounds=4) == pytest.approx(0.0005)
    older = [types.SimpleNamespace(self_cuda_time_total=2000.0)]  # the name before torch 2.4
    assert torch_adapter.kernel_seconds(older, rounds=2) == pytest.approx(0.001)


@pytest.mark.parametrize("framework", ["jax", "tensorflow", "onnxruntime", "openvino"])
def test_frameworks_without_cuda_events_say_so(framework):
    pytest.importorskip(framework)
    said = impls.backend(framework).device_times(lambda: None, 3)
    assert said["device_timing"].startswith("not available")
