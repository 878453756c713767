"""One accuracy job: train a cell on a task in one framework, then test it. The sweep runs each job in
its own process through the harness."""

from __future__ import annotations

import math
import time

import numpy as np

import impls
import tasks
from impls.training import TrainConfig

CURVE_POINTS = 100  # learning-curve points kept per job


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


def _cast(task: tasks.Task, x: np.ndarray, target: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    return x.astype(dtype), target.astype(dtype) if task.loss == "mse_last" else target


def chrono_t_max(spec: dict) -> int | None:
    """The longest dependency chrono initialisation is set for: the spec's, else 3T/2 (Tallec & Ollivier's
    choice on copy); None for the other inits."""
    if spec.get("init") != "chrono":
        return None
    return spec.get("t_max") or max(3, 3 * spec["seq_len"] // 2)


def run_job(spec: dict) -> dict:
    """Train and test as ``spec`` says; the record the sweep stores (status ok or diverged)."""
    task = tasks.get(spec["task"])
    model = impls.create(
        spec.get("implementation") or spec["framework"],
        spec["cell"],
        task.input_size,
        spec["hidden_size"],
        1,
        spec["dtype"],
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
    curve, window = [], []
    started = time.perf_counter()
    status = "ok"
    for step in range(spec["steps"]):
        x, target = _cast(
            task, *batches(task, spec["seed"], step, spec["batch_size"], spec["seq_len"]), spec["dtype"]
        )
        loss = trainer.step(x, target)
        if not math.isfinite(loss):
            status = "diverged"
            curve.append([step + 1, None])
            break
        window.append(loss)
        if (step + 1) % every == 0 or step + 1 == spec["steps"]:
            curve.append([step + 1, float(np.mean(window))])
            window = []
    train_seconds = time.perf_counter() - started
    record = {
        "status": status,
        "learning_curve": curve,
        "train_seconds": train_seconds,
        "seconds_per_step": train_seconds / max(1, len(curve) and curve[-1][0]),
        "baseline_loss": task.baseline(spec["seq_len"]),
        "path": model.path(),
        "t_max": chrono_t_max(spec),
    }
    if status == "ok":
        x, target = _cast(task, *test_set(task, spec["seed"], spec["seq_len"]), spec["dtype"])
        metrics = task.metrics(trainer.predict(x).astype(np.float64), target, spec["seq_len"])
        record.update(metrics)
        if not math.isfinite(metrics["test_loss"]):
            record["status"] = "diverged"
    else:
        record.update(test_loss=None, accuracy=None, solved=False)
    return record
