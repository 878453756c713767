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
from impls.training import Runs, TrainConfig
from suite.records import device_of
from suite.training.spec import chrono_t_max

CURVE_POINTS = 100  # learning-curve points kept per job
VALIDATION_SIZE = 1000  # sequences an early-stopping job checks itself on


class Diverged(ArithmeticError):
    """The training loss became NaN or inf."""


Data = tuple[np.ndarray, np.ndarray, "np.ndarray | None"]  # x, target, lengths (None: all of length T)


def batches(task: tasks.Task, seed: int, step: int, n: int, seq_len: int) -> Data:
    """The training batch of one step: the same in every framework."""
    return task.sample(np.random.default_rng([seed, step]), n, seq_len)


def test_set(task: tasks.Task, seed: int, seq_len: int, n: int | None = None) -> Data:
    """Fresh sequences to score on: the task's test size unless ``n`` is given."""
    return task.sample(np.random.default_rng([seed, 2**31 - 1]), n or task.test_size, seq_len)


def validation_set(task: tasks.Task, seed: int, seq_len: int, n: int) -> Data:
    """Sequences an early-stopping job checks itself on: neither a training batch nor the test set."""
    return task.sample(np.random.default_rng([seed, 2**31 - 2]), n, seq_len)


def _cast(task: tasks.Task, data: Data, dtype: str) -> Data:
    x, target, lengths = data
    return x.astype(dtype), target.astype(dtype) if task.loss == "mse_last" else target, lengths


def run_job(spec: dict) -> dict:
    """Train and test as ``spec`` says; the record the sweep stores (status ok or diverged). Subnormal
    floats are flushed where the framework lets it choose; what its arithmetic did is in ``denormals``.
    A spec holding ``runs`` (specs that differ only in seed, init or learning rate) trains them together
    (:func:`run_together`); its result holds one result per run under ``runs``."""
    if "runs" in spec:
        return {"runs": run_together(spec["runs"])}
    return run_together([spec])[0]


def run_together(specs: list[dict]) -> list[dict]:
    """Train the runs ``specs`` in one process, stepped together (in one compiled step where the framework
    can: ``impls.training.Runs``), each with its own batches, validation checks, early stop and result."""
    first = specs[0]
    name = first.get("implementation") or first["framework"]
    backend = impls.backend(name)
    denormals = backend.flush_denormals() if backend is not None else "unknown"
    task = tasks.get(first["task"])
    models = [
        impls.create(
            name,
            s["cell"],
            task.input_size,
            s["hidden_size"],
            1,
            s["dtype"],
            device_of(s),
            seed=s["seed"],
            init=s.get("init", "default"),
            t_max=chrono_t_max(s),
        )
        for s in specs
    ]
    configs = [
        TrainConfig(
            loss=task.loss, output_size=task.output_size, optimizer=s["optimizer"], lr=s["lr"], clip=s["clip"]
        )
        for s in specs
    ]
    together = type(models[0]).train_together(models, configs, [s["seed"] for s in specs])
    runs = [_Run(task, s, together, k) for k, s in enumerate(specs)]
    started, first_step_seconds = time.perf_counter(), 0.0
    for step in range(max(s["steps"] for s in specs)):
        live = [r for r in runs if not r.stopped]
        if not live:
            break
        for r in live:
            r.before_step(step)
        xs, targets, lengths = zip(*(r.batch(step) for r in runs), strict=True)
        active = [not r.stopped for r in runs]
        losses = together.step(list(xs), list(targets), active, None if lengths[0] is None else list(lengths))
        if step == 0:  # a framework that compiles does it here: kept apart from the steady rate
            first_step_seconds = time.perf_counter() - started
        for r in live:
            r.after_step(step, losses[r.index])
            if r.stopped:  # its training time: the group's so far, less every run's validation checks
                r.train_seconds = time.perf_counter() - started - sum(q.eval_seconds for q in runs)
    path = models[0].path()
    return [r.result(first_step_seconds, path, denormals, len(specs) if together.fused else 1) for r in runs]


class _Run:
    """One run's bookkeeping as it trains: its batches, learning curve, validation checks, early stop,
    checkpoints and result."""

    def __init__(self, task: tasks.Task, spec: dict, together: Runs, index: int) -> None:
        self.task, self.spec, self.together, self.index = task, spec, together, index
        self.every = max(1, spec["steps"] // CURVE_POINTS)
        self.eval_every = spec.get("eval_every")
        if self.eval_every:
            self.validation = _cast(
                task, validation_set(task, spec["seed"], spec["seq_len"], VALIDATION_SIZE), spec["dtype"]
            )
        self.checkpoints = set(spec.get("checkpoints") or ())
        self.curve: list = []
        self.window: list[float] = []
        self.validation_curve: list = []
        self.status, self.solved_step, self.tested = "ok", None, None
        self.eval_seconds = 0.0
        self.stopped = False
        self.train_seconds = 0.0

    def batch(self, step: int) -> Data:
        s = self.spec
        return _cast(
            self.task, batches(self.task, s["seed"], step, s["batch_size"], s["seq_len"]), s["dtype"]
        )

    def before_step(self, step: int) -> None:
        if step in self.checkpoints:
            save_checkpoint(self.spec, step, self.together.params(self.index))

    def after_step(self, step: int, loss: float) -> None:
        if not math.isfinite(loss):
            self.status = "diverged"
            self.curve.append([step + 1, None])
            self.stopped = True
            return
        self.window.append(loss)
        if (step + 1) % self.every == 0 or step + 1 == self.spec["steps"]:
            self._close_window(step)
        if self.eval_every and (step + 1) % self.eval_every == 0:
            eval_started = time.perf_counter()
            checked = self.score(self.validation)
            self.validation_curve.append([step + 1, checked["accuracy"], checked["test_loss"]])
            if checked["solved"]:  # confirmed on the test set before the run stops
                self.tested = self.score(_test(self.task, self.spec))
            self.eval_seconds += time.perf_counter() - eval_started
            if self.tested and self.tested["solved"]:
                self.solved_step = step + 1
                if self.window:
                    self._close_window(step)
                self.stopped = True
        if step + 1 == self.spec["steps"]:
            self.stopped = True

    def _close_window(self, step: int) -> None:
        self.curve.append([step + 1, float(np.mean(self.window))])
        self.window = []

    def score(self, data: Data) -> dict:
        x, target, lengths = data
        output = self.together.predict(self.index, x, lengths).astype(np.float64)
        return self.task.metrics(output, target, self.spec["seq_len"])

    def result(self, first_step_seconds: float, path: str, denormals: str, runs_per_step: int) -> dict:
        spec = self.spec
        steps_run = self.curve[-1][0] if self.curve else 0
        if spec["steps"] in self.checkpoints and self.status == "ok":
            save_checkpoint(spec, spec["steps"], self.together.params(self.index))
        train_seconds = self.train_seconds
        record = {
            "status": self.status,
            "learning_curve": self.curve,
            "train_seconds": train_seconds,
            "first_step_seconds": first_step_seconds,
            "seconds_per_step": _per_step(train_seconds - first_step_seconds, steps_run - 1),
            "baseline_loss": self.task.baseline(spec["seq_len"]),
            "path": path,
            "t_max": chrono_t_max(spec),
            "denormals": denormals,
        }
        if runs_per_step > 1:
            record["runs_per_step"] = runs_per_step  # the step timed advanced this many runs at once
        if self.eval_every:
            record.update(
                steps_run=steps_run,
                solved_step=self.solved_step,
                validation_curve=self.validation_curve,
                eval_seconds=self.eval_seconds,
            )
        if self.status == "ok":
            metrics = self.tested if self.solved_step else self.score(_test(self.task, spec))
            record.update(metrics)
            if self.eval_every and metrics["solved"] and self.solved_step is None:  # passed at the end
                record["solved_step"] = steps_run
            if not math.isfinite(metrics["test_loss"]):
                record["status"] = "diverged"
        else:
            record.update(test_loss=None, accuracy=None, solved=False)
        return record


def _per_step(seconds: float, steps: int) -> float | None:
    return seconds / steps if steps > 0 else None


def _test(task: tasks.Task, spec: dict) -> Data:
    return _cast(task, test_set(task, spec["seed"], spec["seq_len"]), spec["dtype"])


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
