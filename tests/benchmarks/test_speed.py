"""The pytest-benchmark grid: ``pytest --benchmark-only`` times it; plain ``pytest`` runs each once."""

import time

import pytest

import impls
from suite.measurement import measure
from suite.measurement.workloads import FASTRNNS, INFERENCE_MODES, MODES, Workload, flops
from suite.records import derived
from tests.conftest import framework_params

SIZES = {
    "small": dict(seq_len=50, batch=16, input_size=64, hidden_size=128),
    "fastrnns": FASTRNNS,
}
ROUNDS = {"small": 20, "fastrnns": 5}  # small runs in milliseconds: more rounds for the regression gate


@pytest.fixture(scope="session")
def gemm_peak(thread_settings):
    """The best float32 CPU GEMM rate of any installed framework, measured once per session."""
    return max(measure.gemm_gflops(f, "float32", "cpu") for f in impls.FRAMEWORKS if f in impls.available())


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cell", impls.CELLS)
@pytest.mark.parametrize("framework", framework_params())
def test_speed(benchmark, framework, cell, mode, size, thread_settings, gemm_peak):
    if benchmark.disabled and size == "fastrnns" and framework not in impls.FRAMEWORKS:
        pytest.skip("smoke run (plain pytest): variants at the small size only")
    impl = impls.get(framework)
    if not impl.differentiable and mode not in INFERENCE_MODES:
        pytest.skip(f"{framework} computes no gradients (an inference runtime)")
    w = Workload(
        framework=impl.framework, implementation=framework, cell=cell, mode=mode, group=size, **SIZES[size]
    )
    model, fn = measure.prepare(w)
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    benchmark.group = f"{cell}-{mode}-{size}"
    benchmark.pedantic(fn, rounds=ROUNDS[size], warmup_rounds=1, iterations=1)
    stats = getattr(benchmark, "stats", None)
    median = stats.stats.median if stats else first  # disabled: one untimed run
    (figures,) = derived(
        [
            {
                "kind": "speed",
                "status": "ok",
                **w.as_dict(),
                "flops": flops(w),
                "median_s": median,
                "gemm_gflops": gemm_peak,
            }
        ]
    )
    benchmark.extra_info.update(
        w.as_dict(),
        threads=thread_settings["threads"],
        threads_effective=thread_settings["frameworks"].get(framework),
        **{k: figures[k] for k in ("flops", "gflops", "efficiency", "peak_gflops")},
        first_call_s=first,
        compile_seconds=max(first - median, 0.0),
        path=model.path(),
    )
