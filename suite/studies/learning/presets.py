"""The learning study's profiles: for each named profile (``quick``, ``full``) the training preset of each
task family (its lengths, seeds, steps, batch, hidden size, optimizer, ...), and how a profile and the command
line's overrides resolve."""

from __future__ import annotations

from typing import Any

import tasks
from impls.layout import INITS
from suite.training import spec

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
PROFILES: tuple[str, ...] = tuple(TRAINING)
TRAINING_DEFAULTS: dict[str, Any] = {
    **spec.DEFAULTS,
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


def training(profile: str, task: str) -> dict[str, Any]:
    """A profile's preset for a task: lengths, seeds and the training settings."""
    if profile not in TRAINING:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    return {**TRAINING_DEFAULTS, **TRAINING[profile][tasks.get(task).preset]}


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
