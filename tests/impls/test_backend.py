"""The backend protocol: what the harness calls on every adapter module."""

import inspect

import pytest

import impls
from tests.conftest import framework_params


@pytest.mark.parametrize("framework", framework_params())
def test_every_adapter_module_implements_the_backend_protocol(framework):
    module = impls.backend(framework)
    assert isinstance(module, impls.Backend)
    for name in ("set_threads", "thread_info", "matmul"):
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
