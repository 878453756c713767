import pytest

import impls
import impls.registry


def full_precision_names():
    """Every registered implementation but the mixed-precision ones (float32 in and out, bfloat16 inside:
    they are held to bfloat16's tolerance, in tests/impls/test_mixed_precision.py)."""
    return [n for n in impls.registry.names() if not impls.get(n).computes_in]


def framework_params(names=None, device="cpu", gradients=False):
    """pytest params, one per implementation (default: every registered full-precision one), skipped where
    it is not installed or does not declare ``device`` (or, with ``gradients``, computes none: an inference
    runtime)."""
    installed = impls.available()

    def skip(name):
        if name not in installed:
            return pytest.mark.skip(reason=f"{name} not installed")
        if device not in impls.get(name).devices:
            return pytest.mark.skip(reason=f"{name} does not run on the {device}")
        if gradients and not impls.get(name).differentiable:
            return pytest.mark.skip(reason=f"{name} computes no gradients (an inference runtime)")
        return ()

    return [pytest.param(f, marks=skip(f)) for f in (names if names is not None else full_precision_names())]


def widest_dtype(name: str) -> str:
    """float64 where the implementation declares it (the 1e-12 tests), else float32."""
    return "float64" if "float64" in impls.get(name).dtypes else "float32"


def pytest_addoption(parser):
    parser.addoption(
        "--threads", type=int, default=None, help="threads for every framework (default: all cores)"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    # Plain `pytest` runs each benchmark once, untimed, as a smoke test; --benchmark-only times them.
    if not config.getoption("benchmark_only") and not config.getoption("benchmark_enable"):
        config.option.benchmark_disable = True


@pytest.fixture(scope="session")
def thread_settings(request):
    """One thread count for every framework, applied once to each framework's own pools; keyed by
    implementation (the variants of a framework share its pools)."""
    import os

    threads = request.config.getoption("--threads") or len(os.sched_getaffinity(0))
    per_framework = {}
    for framework in (f for f in impls.FRAMEWORKS if f in impls.available()):
        try:
            per_framework[framework] = impls.configure_threads(framework, threads)
        except RuntimeError as e:  # TensorFlow refuses once it has run an op (earlier tests did)
            per_framework[framework] = {"error": str(e), **impls.backend(framework).thread_info()}
    applied = {name: per_framework.get(impls.get(name).framework) for name in impls.available()}
    return {"threads": threads, "frameworks": applied}


def run_cli(capsys, *argv):
    """Run ``python -m suite ARGV`` in-process: (exit code, captured output)."""
    from suite.cli import main

    try:
        code = main(list(argv))
    except SystemExit as e:
        code = e.code
    return code, capsys.readouterr()
