"""One training job: train a cell on a task in one framework, then test it. The sweep runs each job in
its own process through the harness. A job can stop early once it solves the task (``eval_every``: a
validation check every so many steps, confirmed on the test set) and save its weights in the canonical
layout at chosen steps (``checkpoints``)."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

import impls
import tasks
from impls.training import TrainConfig, Trainer
from suite.records import device_of
from suite.training.spec import chrono_t_max

CURVE_POINTS = 100  # learning-curve points kept per job
VALIDATION_SIZE = 1000  # sequences an early-stopping job checks itself on


class Diverged(ArithmeticError):
    """The training loss became NaN or inf."""


def batches(task: tasks.Task, seed: int, step: int, n: int, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """The training batch of one step: the same in every framework."""
    return task.batch(np.random.default_rng([seed, step]), n, seq_len)


def test_set(
    task: tasks.Task, seed: int, seq_len: int, n: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Fresh sequences to score on: the task's test size unless ``n`` is given."""
    return task.batch(np.random.default_rng([seed, 2**31 - 1]), n or task.test_size, seq_len)


def validation_set(task: tasks.Task, seed: int, seq_len: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Sequences an early-stopping job checks itself on: neither a training batch nor the test set."""
    return task.batch(np.random.default_rng([seed, 2**31 - 2]), n, seq_len)


def _cast(task: tasks.Task, x: np.ndarray, target: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    return x.astype(dtype), target.astype(dtype) if task.loss == "mse_last" else target


def run_job(spec: dict) -> dict:
    """Train and test as ``spec`` says; the record the sweep stores (status ok or diverged). Subnormal
    floats are flushed where the framework lets it choose; what its arithmetic did is in ``denormals``."""
    backend = impls.backend(spec.get("implementation") or spec["framework"])
    denormals = backend.flush_denormals() if backend is not None else "unknown"
    task = tasks.get(spec["task"])
    model = impls.create(
        spec.get("implementation") or spec["framework"],
        spec["cell"],
        task.input_size,
        spec["hidden_size"],
        1,
        spec["dtype"],
        device_of(spec),
        seed=spec["seed"],
        init=spec.get("init", "default"),
        t_max=chrono_t_max(spec),
    )
    config = TrainConfig(
        loss=task.loss,
        output_size=task.output_size,
        optimizer=spec["optimizer"],
        lr=spec["lr"],
        clip=spec["clip"],
    )
    trainer = model.trainer(config, seed=spec["seed"])
    every = max(1, spec["steps"] // CURVE_POINTS)
    eval_every = spec.get("eval_every")
    if eval_every:
        validation = _cast(
            task, *validation_set(task, spec["seed"], spec["seq_len"], VALIDATION_SIZE), spec["dtype"]
        )
    checkpoints = set(spec.get("checkpoints") or ())
    curve, window, validation_curve = [], [], []
    started = time.perf_counter()
    status, solved_step, tested, eval_seconds, first_step_seconds = "ok", None, None, 0.0, 0.0
    for step in range(spec["steps"]):
        if step in checkpoints:
            save_checkpoint(spec, step, trainer.params())
        x, target = _cast(
            task, *batches(task, spec["seed"], step, spec["batch_size"], spec["seq_len"]), spec["dtype"]
        )
        loss = trainer.step(x, target)
        if step == 0:  # a framework that compiles does it here: kept apart from the steady rate
            first_step_seconds = time.perf_counter() - started
        if not math.isfinite(loss):
            status = "diverged"
            curve.append([step + 1, None])
            break
        window.append(loss)
        if (step + 1) % every == 0 or step + 1 == spec["steps"]:
            curve.append([step + 1, float(np.mean(window))])
            window = []
        if eval_every and (step + 1) % eval_every == 0:
            eval_started = time.perf_counter()
            checked = _score(task, trainer, *validation, spec["seq_len"])
            validation_curve.append([step + 1, checked["accuracy"], checked["test_loss"]])
            if checked["solved"]:  # confirmed on the test set before the job stops
                tested = _score(task, trainer, *_test(task, spec), spec["seq_len"])
            eval_seconds += time.perf_counter() - eval_started
            if tested and tested["solved"]:
                solved_step = step + 1
                if window:
                    curve.append([step + 1, float(np.mean(window))])
                break
    if spec["steps"] in checkpoints and status == "ok":
        save_checkpoint(spec, spec["steps"], trainer.params())
    train_seconds = time.perf_counter() - started - eval_seconds
    record = {
        "status": status,
        "learning_curve": curve,
        "train_seconds": train_seconds,
        "first_step_seconds": first_step_seconds,
        "seconds_per_step": _per_step(train_seconds - first_step_seconds, (curve[-1][0] if curve else 0) - 1),
        "baseline_loss": task.baseline(spec["seq_len"]),
        "path": model.path(),
        "t_max": chrono_t_max(spec),
        "denormals": denormals,
    }
    if eval_every:
        record.update(
            steps_run=curve[-1][0] if curve else 0,
            solved_step=solved_step,
            validation_curve=validation_curve,
            eval_seconds=eval_seconds,
        )
    if status == "ok":
        metrics = tested if solved_step else _score(task, trainer, *_test(task, spec), spec["seq_len"])
        record.update(metrics)
        if eval_every and metrics["solved"] and solved_step is None:  # passed at the end of the budget
            record["solved_step"] = record["steps_run"]
        if not math.isfinite(metrics["test_loss"]):
            record["status"] = "diverged"
    else:
        record.update(test_loss=None, accuracy=None, solved=False)
    return record


def _per_step(seconds: float, steps: int) -> float | None:
    return seconds / steps if steps > 0 else None


def _test(task: tasks.Task, spec: dict) -> tuple[np.ndarray, np.ndarray]:
    return _cast(task, *test_set(task, spec["seed"], spec["seq_len"]), spec["dtype"])


def _score(task: tasks.Task, trainer: Trainer, x: np.ndarray, target: np.ndarray, seq_len: int) -> dict:
    return task.metrics(trainer.predict(x).astype(np.float64), target, seq_len)


def checkpoint_path(spec: dict, step: int) -> Path:
    """Where a job saves its weights at ``step``: the spec's ``checkpoint_dir``, one file per step."""
    name = f"{spec['task']}-{spec['implementation']}-{spec['cell']}-{spec.get('init', 'default')}"
    return Path(spec["checkpoint_dir"]) / f"{name}-T{spec['seq_len']}-seed{spec['seed']}-step{step}.npz"


def save_checkpoint(spec: dict, step: int, params: dict[str, np.ndarray]) -> Path:
    """Every parameter in the canonical layout, the readout's included."""
    path = checkpoint_path(spec, step)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **params)
    return path
