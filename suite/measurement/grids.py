"""Profiles of the speed and memory benchmarks: for each named profile (``quick``, ``full``) the *grid* (which
shapes, in which modes) and the *timing* (how many rounds). The learning study's profiles hold its training
presets (suite.studies.learning.presets)."""

from __future__ import annotations

from dataclasses import dataclass

from impls import registry
from suite.measurement.workloads import (
    DETERMINISTIC_MODES,
    FASTRNNS,
    INFERENCE_MODES,
    LAST_STEP_MODES,
    MODES,
    POINTS,
    SMALL,
    SPEECH,
    STREAM_MODES,
    STREAMING,
    Workload,
    seq_lengths,
)

PROFILES: tuple[str, ...] = ("quick", "full")


@dataclass(frozen=True)
class Timing:
    """How a speed benchmark is timed: at least ``min_rounds``, then more while within ``budget_s``."""

    min_rounds: int
    max_rounds: int
    budget_s: float


TIMING: dict[str, Timing] = {
    "quick": Timing(min_rounds=5, max_rounds=50, budget_s=0.5),
    "full": Timing(min_rounds=10, max_rounds=200, budget_s=2.0),
}

# The grids, per profile and benchmark: group -> (shapes, modes). Both profiles hold the fastrnns point;
# full adds DeepBench-like shapes and runs the sequence sweep to T=1600. Memory's quick grid keeps the
# fastrnns point and the sweep's train step, the parts whose memory grows.
_DEEPBENCH_TRAIN = [dict(seq_len=25, batch=16, input_size=512, hidden_size=512)]
_DEEPBENCH_INFERENCE = [dict(seq_len=50, batch=1, input_size=512, hidden_size=512)]
_FULL_TRAIN = [*_DEEPBENCH_TRAIN, dict(seq_len=50, batch=32, input_size=1024, hidden_size=1024)]
_FULL_INFERENCE = [*_DEEPBENCH_INFERENCE, dict(seq_len=100, batch=4, input_size=1024, hidden_size=1024)]


def _sweep(longest: int) -> list[dict]:
    return [dict(seq_len=t, batch=16, input_size=128, hidden_size=128) for t in seq_lengths(longest)]


# a speech-like batch (the probe: T=400, batch 32, input 128, hidden 256): every sequence to T
# (padding computed and ignored), then the length-aware path at two length distributions
_LENGTHS = [
    dict(seq_len=400, batch=32, input_size=128, hidden_size=256, lengths=d) for d in ("", "uniform", "skewed")
]


def _bidirectional(speech_len: int) -> list[dict]:
    """The fastrnns point with both directions, and the speech encoder (at ``speech_len`` steps) with
    and without lengths (speech-like)."""
    speech = {**SPEECH, "seq_len": speech_len}
    return [{**FASTRNNS, "bidirectional": True}, speech, {**speech, "lengths": "uniform"}]


# which settings knock a framework off its fast kernel: one shape, each setting changed alone
FASTPATH_SHAPE = dict(seq_len=100, batch=32, input_size=128, hidden_size=256)
FASTPATH_SETTINGS: dict[str, dict] = {
    "as is": {},
    "lengths": {"lengths": "uniform"},
    "bidirectional": {"bidirectional": True},
    "2 layers": {"num_layers": 2},
    "float64": {"dtype": "float64"},
}
_FASTPATH = [{**FASTPATH_SHAPE, **setting} for setting in FASTPATH_SETTINGS.values()]


_STREAM = [STREAMING, {**STREAMING, "batch": 4}]  # one stream, and four served together
# the reference points in bfloat16, beside the same run's float32 ones (fastrnns, small), for the
# implementations that declare it. Not float16: PyTorch's CPU LSTM and GRU in float16 fall back to ATen
# without a fast GEMM (a probe: 35x bfloat16's forward time at the small point; one fastrnns job ran over
# 10 minutes on 2 cores); time it on purpose with --dtype float16.
_PRECISION = [{**point, "dtype": "bfloat16"} for point in POINTS.values()]
PRECISION_GROUP = "precision"


def _precision(impl: registry.Implementation, shape: dict) -> dict:
    """A precision point as ``impl`` runs it: a mixed-precision implementation (bfloat16 arithmetic,
    float32 in and out) in float32; the others in the point's dtype. Mixed ones run this group only:
    elsewhere they would stand among the float32 implementations."""
    return {**shape, "dtype": "float32"} if impl.computes_in and "dtype" in shape else shape


def _subnormals(lengths: list[int]) -> list[dict]:
    """The adding anchors' shape (input 2, hidden 128, batch 20), where the loss reads the last step."""
    return [dict(seq_len=t, batch=20, input_size=2, hidden_size=128) for t in lengths]


Grid = dict[str, tuple[list[dict], tuple[str, ...]]]
_FULL_GRID: Grid = {
    "fastrnns": ([FASTRNNS], MODES),
    "small": ([SMALL], MODES),
    "deepbench_train": (_FULL_TRAIN, ("train",)),
    "deepbench_inference": (_FULL_INFERENCE, ("forward",)),
    "seq_sweep": (_sweep(1600), MODES),
    "subnormals": (_subnormals([100, 200, 400, 800]), LAST_STEP_MODES),
    "deterministic": ([FASTRNNS], DETERMINISTIC_MODES),  # beside the fastrnns group's own train step
    "lengths": (_LENGTHS, ("forward",)),
    "bidirectional": (_bidirectional(SPEECH["seq_len"]), ("forward",)),
    "fastpath": (_FASTPATH, ("forward",)),
    "stream": (_STREAM, STREAM_MODES),
    PRECISION_GROUP: (_PRECISION, MODES),
}
GRIDS: dict[str, dict[str, Grid]] = {
    "quick": {
        "speed": {
            "fastrnns": ([FASTRNNS], MODES),
            "small": ([SMALL], MODES),
            "deepbench_train": (_DEEPBENCH_TRAIN, ("train",)),
            "deepbench_inference": (_DEEPBENCH_INFERENCE, ("forward",)),
            "seq_sweep": (_sweep(400), MODES),
            "subnormals": (_subnormals([100, 400]), LAST_STEP_MODES),
            "deterministic": ([FASTRNNS], DETERMINISTIC_MODES),
            "lengths": (_LENGTHS, ("forward",)),
            "bidirectional": (_bidirectional(200), ("forward",)),
            "fastpath": (_FASTPATH, ("forward",)),
            "stream": (_STREAM, STREAM_MODES),
            PRECISION_GROUP: (_PRECISION, MODES),
        },
        "memory": {
            "fastrnns": ([FASTRNNS], MODES),
            "seq_sweep": (_sweep(400), ("train",)),
            "lengths": (_LENGTHS, ("forward",)),
            "bidirectional": (_bidirectional(200), ("forward",)),
            PRECISION_GROUP: (_PRECISION, MODES),
        },
    },
    "full": {
        "speed": _FULL_GRID,
        "memory": {
            k: v
            for k, v in _FULL_GRID.items()
            if k not in ("small", "subnormals", "deterministic", "fastpath", "stream")
        },
    },
}


def check_profile(name: str) -> None:
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}")


def groups(profile: str, benchmark: str) -> list[str]:
    """The groups of a benchmark's grid in a profile."""
    check_profile(profile)
    return list(GRIDS[profile][benchmark])


def workloads(
    profile: str,
    benchmark: str,
    implementations: list[str],
    cells: list[str],
    dtype: str = "float32",
    device: str = "cpu",
    only_groups: list[str] | None = None,
) -> list[Workload]:
    """The workloads of ``benchmark`` (speed or memory) in ``profile``: per implementation, per shape, per
    cell, per mode; only the cells each implementation supports in ``dtype`` (or the shape's own) on
    ``device``, and the lengths and directions it takes. ``only_groups`` narrows the grid."""
    check_profile(profile)
    grid = GRIDS[profile][benchmark]
    for g in only_groups or []:
        if g not in grid:
            raise ValueError(f"unknown group {g!r}; choose from {', '.join(grid)}")
    impls = {name: registry.get(name) for name in implementations}
    return [
        Workload(
            framework=impl.framework,
            implementation=name,
            cell=c,
            mode=m,
            device=device,
            group=group,
            **{"dtype": dtype, **shape},
        )
        for name, impl in impls.items()
        for group, (shapes, modes) in grid.items()
        if not only_groups or group in only_groups
        if group == PRECISION_GROUP or not impl.computes_in
        for shape in (_precision(impl, shape) for shape in shapes)
        if impl.takes_lengths or not shape.get("lengths")
        if impl.takes_bidirectional or not shape.get("bidirectional")
        for c in cells
        if impl.unsupported(c, shape.get("dtype", dtype), device) is None
        for m in modes
        if impl.differentiable or m in INFERENCE_MODES
    ]
