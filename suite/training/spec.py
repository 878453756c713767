"""A training job: its spec, its key, whether it is finished, and the record it becomes. Learning, capacity
and gradients all train through these, so a job is named the same way wherever it runs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import impls
from suite.records import device_of, make_record

KEY_VERSION = 2  # bump when a change to training makes finished jobs stale
# What decides a job's outcome: the key hashes these and nothing else (threads, where checkpoints go and
# the job's results do not name it).
IDENTITY: tuple[str, ...] = (
    "task",
    "implementation",
    "cell",
    "init",
    "t_max",
    "seq_len",
    "seed",
    "steps",
    "batch_size",
    "hidden_size",
    "optimizer",
    "lr",
    "clip",
    "dtype",
    "eval_every",
    "device",
    "checkpoints",
    "throughput",
)
FINISHED = ("ok", "diverged")  # outcomes of the job itself; a crash or a timeout is tried again
# What every study trains with unless it says otherwise: the papers' Adam 1e-3 (a task may name another
# optimizer: tasks.Task.optimizer), gradients clipped at global norm 1, float32.
DEFAULTS: dict[str, Any] = {"optimizer": "adam", "lr": 1e-3, "clip": 1.0, "dtype": "float32"}
# The short budget: Pascanu et al.'s temporal-order setup (50 units, batch 20, clip 1), a validation check
# every 100 steps. The capacity search trains with it, and so do the gradient study's training runs.
SHORT_BUDGET: dict[str, Any] = {
    "steps": 2000,
    "batch_size": 20,
    "hidden_size": 50,
    **DEFAULTS,
    "eval_every": 100,
}


def chrono_t_max(spec: Mapping[str, Any]) -> int | None:
    """The longest dependency chrono initialisation is set for: the spec's, else 3T/2 (Tallec & Ollivier's
    choice on copy); None for the other inits."""
    if spec.get("init") != "chrono":
        return None
    return spec.get("t_max") or max(3, 3 * spec["seq_len"] // 2)


def make(task: str, implementation: str, cell: str, seq_len: int, seed: int, **settings: Any) -> dict:
    """One job's spec: the task, where and what it trains, and its training settings."""
    return {
        "task": task,
        "implementation": implementation,
        "framework": impls.get(implementation).framework,
        "cell": cell,
        "seq_len": seq_len,
        "seed": seed,
        **settings,
    }


def key(spec_or_record: Mapping[str, Any]) -> str:
    """The job's content hash. A record holds its spec, so a record and its spec share the key; the init
    and device at their defaults, and settings left unset, are left out, and chrono's T_max is the one
    the job trains with."""
    content = {k: spec_or_record.get(k) for k in IDENTITY}
    content["t_max"] = chrono_t_max(spec_or_record)
    content["device"] = device_of(spec_or_record)
    defaults = {"init": "default", "device": "cpu"}
    content = {k: v for k, v in content.items() if v is not None and defaults.get(k) != v}
    text = json.dumps({"v": KEY_VERSION, **content}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def finished(record: Mapping[str, Any]) -> bool:
    """A job whose outcome is the job's own (trained, or diverged): never run again."""
    return record.get("status") in FINISHED


def merge(*record_lists: Iterable[dict]) -> list[dict]:
    """One record per job: the last finished one, else the last failure; later lists win. Two runs
    writing one results file keep each other's finished jobs this way."""
    by_key: dict[str, dict] = {}
    for records in record_lists:
        for r in records:
            k = key(r)
            if finished(r) or not finished(by_key.get(k, {})):
                by_key[k] = r
    return list(by_key.values())


def record(kind: str, spec: Mapping[str, Any], result: Mapping[str, Any], environment: Mapping) -> dict:
    """The record a finished (or failed) job becomes in a study's results; what the job's process did with
    subnormal floats (``denormals``) joins its environment."""
    fields = {**spec, **result}
    denormals = fields.pop("denormals", None)
    return make_record(kind, fields, {**environment, **({"denormals": denormals} if denormals else {})})
