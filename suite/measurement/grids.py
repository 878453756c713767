"""Profiles: the named presets (``quick``, ``full``) of everything a run can be told, and how a profile and
the command line's overrides resolve. A profile holds, for the speed and memory benchmarks, the *grid*
(which shapes, in which modes) and the *timing* (how many rounds); for the accuracy sweep, the *training
settings* of each task (steps, batch size, hidden size, optimizer, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import tasks
from impls import registry
from impls.layout import INITS
from suite.measurement.workloads import FASTRNNS, MODES, SMALL, Workload, seq_lengths

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


Grid = dict[str, tuple[list[dict], tuple[str, ...]]]
_FULL_GRID: Grid = {
    "fastrnns": ([FASTRNNS], MODES),
    "small": ([SMALL], MODES),
    "deepbench_train": (_FULL_TRAIN, ("train",)),
    "deepbench_inference": (_FULL_INFERENCE, ("forward",)),
    "seq_sweep": (_sweep(1600), MODES),
}
GRIDS: dict[str, dict[str, Grid]] = {
    "quick": {
        "speed": {
            "fastrnns": ([FASTRNNS], MODES),
            "small": ([SMALL], MODES),
            "deepbench_train": (_DEEPBENCH_TRAIN, ("train",)),
            "deepbench_inference": (_DEEPBENCH_INFERENCE, ("forward",)),
            "seq_sweep": (_sweep(400), MODES),
        },
        "memory": {"fastrnns": ([FASTRNNS], MODES), "seq_sweep": (_sweep(400), ("train",))},
    },
    "full": {"speed": _FULL_GRID, "memory": {k: v for k, v in _FULL_GRID.items() if k != "small"}},
}

# Training settings per profile and task (varcopy shares copy's). "full" is what the committed results
# come from: hidden 128, batch 50 and clip 1 as in the papers. Adding: Adam, 6000 steps (the LSTM needed
# ~4750 at T=100 in a reference run). Copy: the papers' RMSProp 1e-3 for 15000 steps; Adam 1e-3 learns
# copy several times slower (README, results/copy-optimizer/).
TRAINING: dict[str, dict[str, dict[str, Any]]] = {
    "quick": {
        "adding": {"lengths": [10, 20], "steps": 200, "seeds": 1, "batch_size": 32, "hidden_size": 32},
        "copy": {"lengths": [5, 10], "steps": 200, "seeds": 1, "batch_size": 32, "hidden_size": 32},
        "temporal": {"lengths": [10, 20], "steps": 200, "seeds": 1, "batch_size": 32, "hidden_size": 32},
    },
    "full": {
        "adding": {"lengths": [50, 100], "steps": 6000, "seeds": 1, "batch_size": 50, "hidden_size": 128},
        "copy": {
            "lengths": [10, 50, 100],
            "steps": 15000,
            "seeds": 1,
            "batch_size": 50,
            "hidden_size": 128,
            "optimizer": "rmsprop",
        },
        # H&S 1997 solved 2-bit at T~100 after ~31k sequences: 5000 steps of batch 20 is 100k
        "temporal": {"lengths": [50, 100], "steps": 5000, "seeds": 1, "batch_size": 20, "hidden_size": 50},
    },
}
TRAINING_DEFAULTS: dict[str, Any] = {
    "optimizer": "adam",
    "lr": 1e-3,
    "clip": 1.0,
    "dtype": "float32",
    "init": "default",
    "t_max": None,  # chrono's longest dependency; None: 3T/2 of each job's length
}
# what an accuracy job trains under, apart from task, framework, cell, length and seed
TRAINING_SETTINGS: tuple[str, ...] = (
    "steps",
    "batch_size",
    "hidden_size",
    "optimizer",
    "lr",
    "clip",
    "dtype",
    "init",
    "t_max",
)
OPTIMIZERS: tuple[str, ...] = ("adam", "rmsprop")


def _check_profile(name: str) -> None:
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}")


def groups(profile: str, benchmark: str) -> list[str]:
    """The groups of a benchmark's grid in a profile."""
    _check_profile(profile)
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
    cell, per mode; only the cells each implementation supports in ``dtype`` on ``device``. ``only_groups``
    narrows the grid."""
    _check_profile(profile)
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
            dtype=dtype,
            device=device,
            group=group,
            **shape,
        )
        for name, impl in impls.items()
        for group, (shapes, modes) in grid.items()
        if not only_groups or group in only_groups
        for shape in shapes
        for c in cells
        if impl.unsupported(c, dtype, device) is None
        for m in modes
    ]


def training(profile: str, task: str) -> dict[str, Any]:
    """A profile's preset for a task: lengths, seeds and the training settings."""
    _check_profile(profile)
    return {**TRAINING_DEFAULTS, **TRAINING[profile][preset_of(task)]}


def preset_of(task: str) -> str:
    """Which training preset a task uses (the task says)."""
    return tasks.get(task).preset


def resolve_training(profile: str, task: str, **overrides: Any) -> dict[str, Any]:
    """The preset of ``profile`` for ``task`` with every override that is not None applied and checked:
    lengths, seeds and the TRAINING_SETTINGS. ``clip=0`` turns clipping off. ValueError names a bad value
    (the task checks its lengths: tasks.Task.check_length)."""
    preset = training(profile, task)
    given = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(given) - {"lengths", "seeds", *TRAINING_SETTINGS}
    if unknown:
        raise ValueError(f"unknown training setting(s) {sorted(unknown)}")
    for name in ("steps", "seeds", "batch_size", "hidden_size", "lr"):
        if name in given and not given[name] > 0:
            raise ValueError(f"{name.replace('_', '-')} must be > 0, got {given[name]}")
    if "clip" in given:
        if given["clip"] < 0:
            raise ValueError("clip must be >= 0")
        given["clip"] = given["clip"] or None
    if "init" in given and given["init"] not in INITS:
        raise ValueError(f"unknown init {given['init']!r}; choose one of {', '.join(INITS)}")
    if given.get("t_max") is not None and given["t_max"] < 3:
        raise ValueError(f"t-max must be >= 3, got {given['t_max']}")
    if "optimizer" in given and given["optimizer"] not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {given['optimizer']!r}; choose one of {', '.join(OPTIMIZERS)}")
    return {**preset, **given}


def describe_settings(settings: tuple) -> str:
    """Training settings in words, the init and t_max left out where they are the default."""
    named = zip(TRAINING_SETTINGS, settings, strict=True)
    return ", ".join(f"{k} {v}" for k, v in named if (k, v) not in (("init", "default"), ("t_max", None)))


def settings_groups(records: list[dict], task: str) -> list[tuple[tuple, list[dict]]]:
    """A task's accuracy records grouped by their training settings, the main run first: the full
    profile's settings, else the most records. Runs with other settings are kept apart, never averaged in."""
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        if r["task"] == task:
            groups.setdefault(training_settings_of(r), []).append(r)
    full = training_settings_of(training("full", task))
    return sorted(groups.items(), key=lambda kv: (kv[0] != full, -len(kv[1])))


def training_settings_of(record: dict) -> tuple:
    """A record's (or a preset's) TRAINING_SETTINGS, in order: runs with equal settings are comparable."""
    return tuple(record.get(k, TRAINING_DEFAULTS.get(k)) for k in TRAINING_SETTINGS)
