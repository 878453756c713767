"""The vanishing gradient, measured through the public adapter surface: the norm of the gradient of a loss
at the last step with respect to the state k steps earlier, against k.

For a sequence of length k, ``backward`` with ``grad_y`` non-zero only at the last step (a fixed unit
vector u) gives d(u . h_k)/d h_0: the gradient reaching the state k steps back (and, for the LSTM, the cell
state's). Every implementation computes it, so the frameworks must agree, and the decay per step is the
slope of log norm against k."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

import impls
import tasks
from impls.layout import init_params
from suite import harness
from suite.records import device_of
from suite.training import scheduler, spec
from suite.training.job import checkpoint_path
from suite.training.spec import SHORT_BUDGET

PLAN = harness.Plan("suite.studies.gradients.diagnostic:measure", process_per="implementation")
TRAINING_KIND = "training"  # the records of its training runs, kept in the cache beside the checkpoints

LAGS: tuple[int, ...] = (1, 2, 5, 10, 20, 30, 40, 60, 80, 100)
FIT_FROM = 5  # lags below this are transients, left out of the fit
FLOOR = 1e-300  # norms at or below this (underflow) are left out of the fit


def probe(hidden_size: int, seed: int) -> np.ndarray:
    """The unit vector u of the loss u . h at the last step."""
    u = np.random.default_rng([seed, 4]).standard_normal(hidden_size)
    return u / np.linalg.norm(u)


def gradient_norms(
    model: impls.RecurrentModel, x: np.ndarray, lags: tuple[int, ...], u: np.ndarray
) -> tuple[list[float], list[float] | None]:
    """Per lag k: the mean over the batch of |d(u . h_k)/d h_0| on the first k steps of ``x`` (layer 0),
    and the same for the LSTM's c_0 (else None)."""
    norms, c_norms = [], []
    for k in lags:
        xk = np.ascontiguousarray(x[:, :k])
        grad_y = np.zeros((x.shape[0], k, model.hidden_size), dtype=x.dtype)
        grad_y[:, -1] = u
        grads = model.backward(xk, grad_y)
        norms.append(float(np.linalg.norm(grads["h_0"][0], axis=-1).mean()))
        if "c_0" in grads:
            c_norms.append(float(np.linalg.norm(grads["c_0"][0], axis=-1).mean()))
    return norms, (c_norms if model.cell == "lstm" else None)


def decay_per_step(lags: list[int], norms: list[float], fit_from: int = FIT_FROM) -> float | None:
    """exp of the least-squares slope of log norm against lag, over lags >= ``fit_from``; None with fewer
    than two such lags above the floor."""
    points = [(k, n) for k, n in zip(lags, norms, strict=True) if k >= fit_from and n > FLOOR]
    if len(points) < 2:
        return None
    k, n = np.array(points, dtype=float).T
    return float(np.exp(np.polyfit(k, np.log(n), 1)[0]))


def measure(job: dict) -> dict:
    """One implementation x cell x init x seed, at initialisation or at a training checkpoint (the job's
    ``checkpoint``: weights in the canonical layout): the norms against lag on the task's inputs, and their
    fitted decay per step (the harness calls this in a fresh process)."""
    task = tasks.get(job["task"])
    lags = list(job["lags"])
    cell, hidden, dtype = job["cell"], job["hidden_size"], job["dtype"]
    model = impls.create(
        job["implementation"], cell, task.input_size, hidden, dtype=dtype, device=device_of(job)
    )
    # the weights rnnbench draws (or the checkpoint's), loaded through set_params: never read back
    if job.get("checkpoint"):
        saved = np.load(job["checkpoint"])
        weights = {name: saved[name] for name in model.shapes}
    else:
        weights = init_params(
            cell, task.input_size, hidden, 1, dtype, job["seed"], job["init"], job.get("t_max")
        )
    model.set_params({name: w.astype(dtype) for name, w in weights.items()})
    x, _ = task.batch(np.random.default_rng([job["seed"], 3]), job["batch"], max(lags))
    u = probe(job["hidden_size"], job["seed"]).astype(job["dtype"])
    norms, c_norms = gradient_norms(model, x.astype(job["dtype"]), tuple(lags), u)
    return {
        "path": model.path(),
        "step": job.get("step", 0),
        "norms": norms,
        "c_norms": c_norms,
        "decay_per_step": decay_per_step(lags, norms),
        "c_decay_per_step": decay_per_step(lags, c_norms) if c_norms else None,
    }


def job_specs(
    implementations: list[str],
    cells: list[str],
    inits: list[str],
    seeds: int,
    hidden_size: int,
    t_max: int,
    task: str = "adding",
    lags: tuple[int, ...] = LAGS,
    dtype: str = "float64",
    batch: int = 8,
    device: str = "cpu",
) -> list[dict]:
    """One job per implementation x cell x init x seed; inits that do not apply to a cell (the tanh RNN
    has no gate) are left out."""
    frameworks = {name: impls.get(name).framework for name in implementations}
    return [
        {
            "implementation": name,
            "framework": frameworks[name],
            "cell": cell,
            "init": init,
            "t_max": t_max if init == "chrono" else None,
            "seed": seed,
            "hidden_size": hidden_size,
            "task": task,
            "lags": list(lags),
            "dtype": dtype,
            "batch": batch,
            "device": device,
        }
        for cell in cells
        for init in inits
        if init == "default" or cell != "rnn"
        for name in implementations
        for seed in range(seeds)
    ]


def training_specs(
    implementation: str,
    cells: list[str],
    inits: list[str],
    seeds: int,
    hidden_size: int,
    steps: list[int],
    seq_len: int,
    checkpoint_dir: str,
    task: str = "adding",
) -> list[dict]:
    """Training jobs (suite.training.job) that save the weights at ``steps``, one per cell x init x seed,
    on one thread each, with the short budget (the capacity search's) and the task's optimizer; chrono's
    T_max is its default for ``seq_len``."""
    settings = {
        **SHORT_BUDGET,
        "optimizer": tasks.get(task).optimizer,
        "steps": max(steps),
        "hidden_size": hidden_size,
        "eval_every": 0,
        "threads": 1,
        "checkpoints": sorted(steps),
        "checkpoint_dir": checkpoint_dir,
    }
    return [
        spec.make(task, implementation, cell, seq_len, seed, init=init, **settings)
        for cell in cells
        for init in inits
        if init == "default" or cell != "rnn"
        for seed in range(seeds)
    ]


def at_checkpoints(jobs: list[dict], trained: list[dict], steps: list[int]) -> list[dict]:
    """The measurement ``jobs`` again at each training step, on the weights the matching training job
    saved (t_max is the one it trained with); jobs whose training is missing are left out."""
    by_chain = {(t["cell"], t["init"], t["seed"]): t for t in trained}
    out = []
    for step in steps:
        for job in jobs:
            t = by_chain.get((job["cell"], job["init"], job["seed"]))
            if t is None or not Path(checkpoint_path(t, step)).exists():
                continue
            out.append(
                {
                    **job,
                    "t_max": t.get("t_max"),
                    "step": step,
                    "checkpoint": str(checkpoint_path(t, step)),
                    "trained_on": {
                        k: t[k]
                        for k in (
                            "task",
                            "implementation",
                            "seq_len",
                            "batch_size",
                            "optimizer",
                            "lr",
                            "clip",
                            "dtype",
                        )
                    },
                }
            )
    return out


def at_initialisation(records: list[dict]) -> list[dict]:
    """The step-0 records: the diagnostic's own runs, not the first checkpoint of a training run (records
    loaded from a file that also holds later steps), which would count each seed again, chrono's with the
    training length's T_max; a training run's when there is nothing else."""
    start = [r for r in records if r.get("step", 0) == 0]
    training_runs = {r.get("source") for r in records if r.get("step", 0) > 0}
    return [r for r in start if r.get("source") not in training_runs] or start


def summary(records: list[dict]) -> list[dict]:
    """Per implementation, device, cell, init and training step: the decay per step over seeds (median,
    min, max), for h and, for the LSTM, c."""
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        if r.get("status") == "ok":
            at = (r["implementation"], device_of(r), r["cell"], r["init"], r.get("step", 0))
            groups.setdefault(at, []).append(r)
    rows = []
    for (implementation, device, cell, init, step), recs in sorted(groups.items()):
        row = {
            "implementation": implementation,
            "device": device,
            "cell": cell,
            "init": init,
            "step": step,
            "seeds": len(recs),
        }
        for key, name in (("decay_per_step", "h"), ("c_decay_per_step", "c")):
            values = [r[key] for r in recs if r.get(key) is not None]
            if values:
                row[f"{name}_decay"] = float(np.median(values))
                row[f"{name}_spread"] = f"{min(values):.3f}-{max(values):.3f}"
        rows.append(row)
    return rows


def agreement_with_reference(records: list[dict], reference: str = "numpy") -> list[dict]:
    """Per device: every measurement of another implementation (or of the reference on another device)
    set against the reference's on the CPU at the same cell, init, seed, size, lags and step; the largest
    relative difference over every norm (h and c)."""
    ok = [r for r in records if r.get("status") == "ok" and r.get("norms")]

    def at(r: dict) -> tuple:
        return (r["cell"], r["init"], r.get("t_max"), r["seed"], r["hidden_size"], tuple(r["lags"]))

    refs = {
        (*at(r), r.get("step", 0)): r
        for r in ok
        if r["implementation"] == reference and device_of(r) == "cpu" and r.get("step", 0) == 0
    }
    by_device: dict[str, dict] = {}
    for r in ok:
        ref = refs.get((*at(r), r.get("step", 0)))
        if ref is None or ref is r:
            continue
        pairs = list(zip(r["norms"], ref["norms"], strict=True))
        pairs += list(zip(r.get("c_norms") or [], ref.get("c_norms") or [], strict=True))
        worst = max(abs(a - b) / abs(b) for a, b in pairs if b)
        row = by_device.setdefault(device_of(r), {"device": device_of(r), "implementations": set(), "n": 0})
        row["implementations"].add(r["implementation"])
        row["n"] += 1
        row["max_rel_diff"] = max(row.get("max_rel_diff", 0.0), worst)
    return [{**row, "implementations": sorted(row["implementations"])} for row in by_device.values()]


def train(
    specs: list[dict],
    cache_dir: Path,
    jobs: int,
    timeout_s: float,
    on_record: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Run the training jobs (``training_specs``) on the training spine, ``jobs`` at a time; a job finished
    in ``cache_dir`` whose checkpoints are all on disk is not run again. The finished records of ``specs``."""

    def kept(record: dict) -> bool:
        return all(checkpoint_path(record, step).exists() for step in record.get("checkpoints") or ())

    found = {k: r for k, r in scheduler.done(scheduler.read_cache(cache_dir)).items() if kept(r)}
    records = dict(found)

    def on_result(job: dict, result: dict) -> None:
        record = spec.record(TRAINING_KIND, job, result, {})
        if spec.finished(record):
            scheduler.cache(cache_dir, record)
            records[spec.key(job)] = record
        if on_record:
            on_record(record)

    todo = [(None, s) for s in specs if spec.key(s) not in found]
    scheduler.schedule(todo, on_result, jobs, timeout_s)
    return [
        records[spec.key(s)]
        for s in specs
        if spec.key(s) in records and records[spec.key(s)]["status"] == "ok"
    ]
