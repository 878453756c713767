"""numpy-cupy's plumbing (device transfers, synchronisation, memory pool, training) with a NumPy stand-in for
CuPy, so that it is tested on machines without a GPU. The real CuPy runs in test_equivalence's GPU test and in
``rnnbench gpu``, where a GPU is present."""

import importlib.machinery
import importlib.util
import sys
import types

import numpy as np
import pytest

import impls
from impls.training import TrainConfig
from suite.studies.equivalence.check import TOLERANCE
from tests.impls.test_equivalence import SHAPES, assert_close, run_pair


class DeviceArray(np.ndarray):
    """An array 'on the device': arithmetic keeps the type, so a result not copied back to the host shows."""


DeviceArray.__module__ = "cupy"  # what impls.training.array_module looks at


class FakeCupy(types.ModuleType):
    """numpy's functions, returning DeviceArrays; counts synchronisations."""

    def __init__(self, devices: int) -> None:
        super().__init__("cupy")
        self.__spec__ = importlib.machinery.ModuleSpec("cupy", None)
        self.syncs = 0
        self.pool_bytes = 0
        fake = self

        class RuntimeErr(RuntimeError):
            pass

        def count() -> int:
            return devices

        class Device:
            def synchronize(self) -> None:
                fake.syncs += 1

        class Pool:
            def free_all_blocks(self) -> None:
                fake.pool_bytes = 0

            def total_bytes(self) -> int:
                return fake.pool_bytes

        runtime = types.SimpleNamespace(getDeviceCount=count, CUDARuntimeError=RuntimeErr)
        self.cuda = types.SimpleNamespace(runtime=runtime, Device=Device)
        self._pool = Pool()

    def __getattr__(self, name):
        f = getattr(np, name)
        if not callable(f):
            return f
        return lambda *a, **k: _device(f(*a, **k))

    def asarray(self, a):
        self.pool_bytes += np.asarray(a).nbytes
        return np.array(a).view(DeviceArray)

    def asnumpy(self, a):
        return np.array(a).view(np.ndarray)

    def get_default_memory_pool(self):
        return self._pool


def _device(value):
    return value.view(DeviceArray) if isinstance(value, np.ndarray) else value


@pytest.fixture
def fake_cupy(monkeypatch):
    def install(devices: int = 1) -> FakeCupy:
        fake = FakeCupy(devices)
        monkeypatch.setitem(sys.modules, "cupy", fake)
        monkeypatch.delitem(sys.modules, "impls.cupy_adapter", raising=False)
        return fake

    yield install
    sys.modules.pop("impls.cupy_adapter", None)


def _host(value):
    return all(type(v) is np.ndarray for v in (value if isinstance(value, tuple) else (value,)))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cell", impls.CELLS)
def test_matches_the_reference_and_returns_host_arrays(fake_cupy, cell, dtype):
    fake_cupy()
    shape, _ = SHAPES["two_layers_state"]
    got, expected = run_pair("numpy-cupy", cell, dtype, shape, True, device="gpu")
    assert_close(got, expected, TOLERANCE[dtype])
    y, final, grads = got
    assert _host(y) and _host(final) and all(_host(g) for g in grads.values())


def test_parameters_live_on_the_device_and_come_back_as_host_copies(fake_cupy):
    fake_cupy()
    model = impls.create("numpy-cupy", "lstm", 3, 4, device="gpu")
    assert all(type(p) is DeviceArray for p in model._params.values())
    params = model.get_params()
    assert all(type(p) is np.ndarray for p in params.values())
    params["weight_hh_l0"][:] = 0  # a copy: the model is unchanged
    assert np.abs(model.get_params()["weight_hh_l0"]).max() > 0


def test_prepared_functions_run_on_device_inputs_and_synchronise(fake_cupy):
    fake = fake_cupy()
    model = impls.create("numpy-cupy", "gru", 3, 4, device="gpu")
    x = np.ones((2, 5, 3), dtype="float32")
    grad_y = np.ones((2, 5, 4), dtype="float32")
    before = model.get_params()["weight_ih_l0"].copy()
    for fn in (
        model.prepare_forward(x),
        model.prepare_backward(x, grad_y),
        model.prepare_train_step(x, grad_y),
    ):
        syncs = fake.syncs
        fn()
        assert fake.syncs == syncs + 1
    assert not np.array_equal(model.get_params()["weight_ih_l0"], before)  # the train step updated it


def test_device_peak_is_what_the_pool_holds_after_a_reset(fake_cupy):
    fake = fake_cupy()
    model = impls.create("numpy-cupy", "rnn", 3, 4, device="gpu")
    model.reset_device_peak()
    assert model.device_peak_bytes() == 0
    model.prepare_forward(np.ones((2, 5, 3), dtype="float32"))
    assert model.device_peak_bytes() == fake.pool_bytes > 0


def test_trains_as_the_numpy_reference_does(fake_cupy):
    fake_cupy()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6, 2))
    target = rng.standard_normal((4, 1))
    config = TrainConfig(optimizer="adam", lr=1e-2)
    trainers = [
        impls.create(n, "lstm", 2, 3, dtype="float64", device=d).trainer(config, seed=1)
        for n, d in (("numpy", "cpu"), ("numpy-cupy", "gpu"))
    ]
    losses = [[t.step(x, target) for _ in range(3)] for t in trainers]
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-12)
    prediction = trainers[1].predict(x)
    assert type(prediction) is np.ndarray
    np.testing.assert_allclose(prediction, trainers[0].predict(x), rtol=1e-12)
    assert all(type(p) is np.ndarray for p in trainers[1].params().values())


def test_no_gpu_or_the_cpu_is_a_clear_error(fake_cupy):
    fake_cupy(devices=0)
    with pytest.raises(impls.DeviceUnavailableError, match="CuPy sees no CUDA GPU"):
        impls.create("numpy-cupy", "rnn", 2, 3, device="gpu")
    with pytest.raises(impls.DeviceUnavailableError, match="numpy-cupy does not support device 'cpu'"):
        impls.create("numpy-cupy", "rnn", 2, 3)


def test_without_cupy_it_says_how_to_install_it():
    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("CuPy is installed here")
    assert "numpy-cupy" not in impls.available()
    with pytest.raises(impls.ImplementationNotInstalledError, match=r"pip install -e '\.\[cupy\]'"):
        impls.create("numpy-cupy", "rnn", 2, 3, device="gpu")
