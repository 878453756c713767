"""Running training jobs: each in a fresh process (the harness), ``jobs`` at a time on the local cores or
through a Dask cluster, with follow-up jobs as earlier ones finish, and the one resume rule: a finished job
found in the results or the cache is never run again."""

from __future__ import annotations

import itertools
import json
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, as_completed, wait
from pathlib import Path
from typing import Any

from suite import harness
from suite.records import read_records, write_atomic
from suite.training.spec import finished, key, merge

EXECUTORS: tuple[str, ...] = ("local", "dask")
# per job; full-profile copy at T=100 is 15000 steps, and adding T=100 took 6-13 min for 6000 steps
JOB_TIMEOUT_S = 3 * 3600.0
PLAN = harness.Plan("suite.training.job:run_job", process_per="job")
STILL_RUNNING_S = 600.0  # with nothing finished for this long, say what is in flight
Runner = Callable[[dict, float], dict]


def run_in_subprocess(spec: dict, timeout_s: float) -> dict:
    """Run one job in a fresh process (the harness); a crash, an out-of-memory kill or a timeout becomes
    its outcome. A job of several runs (``runs``, see :func:`pack`) gets one result per run under
    ``runs``; a crash or a timeout is each run's outcome."""
    started = time.perf_counter()
    (result,) = harness.run_jobs([spec], PLAN, spec.get("threads"), timeout_s=timeout_s)
    wall = time.perf_counter() - started - result.get("core_wait_seconds", 0.0)  # the time it held a core
    if "runs" in spec:  # the harness merged the job into its result: what it added is every run's
        shared = {k: v for k, v in result.items() if k not in spec and k != "runs"}
        if result.get("status") != "ok":  # the process failed
            return {"runs": [_completed({**run, **shared}, wall) for run in spec["runs"]]}
        runs = zip(spec["runs"], result["runs"], strict=True)
        return {"runs": [_completed({**run, **shared, **r}, wall) for run, r in runs]}
    return _completed(result, wall)


def _completed(result: dict, wall_seconds: float) -> dict:
    result.setdefault("test_loss", None)
    result.setdefault("accuracy", None)
    result.setdefault("solved", False)
    return {**result, "wall_seconds": wall_seconds}


# What runs trained together in one process share (the rest, seed, init, learning rate, budget and
# validation checks, is each run's own): impls.base.RecurrentModel.train_together.
SHAPE: tuple[str, ...] = (
    "task",
    "implementation",
    "cell",
    "seq_len",
    "batch_size",
    "hidden_size",
    "optimizer",
    "clip",
    "dtype",
    "device",
    "threads",
    "throughput",
    "together",
)


def pack(specs: Iterable[dict], slots: int = 1) -> list[dict]:
    """``specs`` as jobs: a spec that says ``together: K`` trains in one process, in one step, with up to
    K - 1 others of its shape (``SHAPE``) as ``{"runs": [...]}`` (with the implementation and threads the
    harness reads); the others stay plain specs, in their order. A shape's runs are split into at least as
    many jobs as ``slots`` (the jobs run at a time) while it has that many runs: packing them into fewer
    would leave a core idle."""
    out: list[Any] = []
    groups: dict[tuple, list[dict]] = {}
    for s in specs:
        size = s.get("together") or 1
        if size <= 1:
            out.append(s)
            continue
        shape = tuple(str(s.get(k)) for k in SHAPE)
        if shape not in groups:
            groups[shape] = []
            out.append(groups[shape])  # the group takes the place of its first member
        groups[shape].append(s)
    jobs = []
    for item in out:
        if isinstance(item, dict):
            jobs.append(item)
            continue
        size = min(item[0]["together"], -(-len(item) // max(slots, 1)))
        for i in range(0, len(item), size):
            chunk = item[i : i + size]
            lead = chunk[0]
            together = {k: lead.get(k) for k in ("implementation", "framework", "threads")}
            jobs.append(lead if len(chunk) == 1 else {"runs": chunk, **together})
    return jobs


def each_run(job: dict, result: dict) -> list[tuple[dict, dict]]:
    """(spec, result) of every run of a job and its result: one pair for a plain job."""
    if "runs" in job:
        return list(zip(job["runs"], result["runs"], strict=True))
    return [(job, result)]


def _keys(job: dict) -> list[str]:
    return [key(s) for s in job.get("runs", [job])]


def dask_runner(address: str | None, workers: int) -> tuple[Runner, Callable[[], None]]:
    """A runner that sends each job to a Dask cluster (``address``, else a local one of ``workers``
    processes), and the function that closes it."""
    from distributed import Client, LocalCluster

    cluster = None
    if address is None:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
    client = Client(address or cluster)

    def run(spec: dict, timeout_s: float) -> dict:
        return client.submit(run_in_subprocess, spec, timeout_s, pure=False).result()

    def close() -> None:
        client.close()
        if cluster is not None:
            cluster.close()

    return run, close


def schedule(
    first: list[tuple[Any, dict]],
    on_result: Callable[[dict, dict], None],
    jobs: int = 1,
    timeout_s: float = JOB_TIMEOUT_S,
    then: Callable[[Any], list[dict]] | None = None,
    runner: Runner | None = None,
) -> None:
    """Run the (group, spec) pairs ``first``, ``jobs`` at a time, each through ``runner`` (a fresh local
    process by default); ``on_result(spec, result)`` as each finishes; once a group has nothing in flight,
    run what ``then(group)`` asks for next. Specs of one group that say ``together`` train together
    (:func:`pack`), their job allowed ``timeout_s`` per run. A spec already in flight is not started twice.
    An interrupt starts nothing more; the jobs in flight finish and are handed to ``on_result`` before it
    propagates (a second one abandons them)."""
    runner = runner or run_in_subprocess
    harness.ABANDON.clear()
    pool = ThreadPoolExecutor(max_workers=jobs)
    futures: dict[Future, tuple[Any, dict]] = {}
    started: dict[int, float] = {}  # id(job) -> when its run began

    def timed(job: dict, timeout: float) -> dict:
        started[id(job)] = time.monotonic()
        return runner(job, timeout)

    running: set[str] = set()

    def submit(group: Any, specs: Iterable[dict]) -> None:
        fresh = [s for s in specs if key(s) not in running]
        for job in pack(fresh, jobs):
            running.update(_keys(job))
            # each run has the whole timeout: runs trained together share one process, not one budget
            runs = len(job.get("runs", [job]))
            futures[pool.submit(timed, job, timeout_s * runs)] = (group, job)

    def deliver(job: dict, result: dict) -> None:
        for s, r in each_run(job, result):
            on_result(s, r)

    try:
        for group, pairs in itertools.groupby(first, key=lambda pair: pair[0]):
            submit(group, [s for _, s in pairs])
        while futures:
            ready, _ = wait(list(futures), timeout=STILL_RUNNING_S, return_when=FIRST_COMPLETED)
            if not ready:
                _still_running([(j, started[id(j)]) for _, j in futures.values() if id(j) in started])
            for future in ready:
                group, job = futures.pop(future)
                running.difference_update(_keys(job))
                deliver(job, future.result())
                if then is not None and not any(g == group for g, _ in futures.values()):
                    submit(group, then(group))
    except KeyboardInterrupt:
        # nothing new starts; the jobs in flight finish and are recorded (a second interrupt abandons them)
        in_flight = [f for f in futures if not f.cancel()]
        if in_flight:
            print(
                f"\ninterrupted: no new job starts; waiting for the {len(in_flight)} in flight to finish and "
                "be recorded (interrupt again to abandon them)",
                file=sys.stderr,
                flush=True,
            )
        try:
            for future in as_completed(in_flight):
                deliver(futures[future][1], future.result())
        except KeyboardInterrupt:  # the second: the workers are killed, their jobs run again on resume
            harness.ABANDON.set()
            raise
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _still_running(in_flight: list[tuple[dict, float]]) -> None:
    """One line on stderr: the jobs in flight and how long each has run (a long budget is silent else)."""
    now = time.monotonic()
    jobs = [f"{describe(job)} ({(now - since) / 60:.0f} min)" for job, since in in_flight]
    print(f"still training {len(jobs)}: " + "; ".join(jobs), file=sys.stderr, flush=True)


def describe(job: dict) -> str:
    """A job in a few words: task, implementation, cell, init, length and its seeds."""
    runs = job.get("runs", [job])
    first = runs[0]
    seeds = ",".join(str(r["seed"]) for r in runs)
    return (
        f"{first['task']} {first['implementation']} {first['cell']} {first.get('init', 'default')} "
        f"T={first['seq_len']} seed{'s' if len(runs) > 1 else ''} {seeds}"
    )


def read_results(path: Path, kind: str) -> list[dict]:
    """The records of ``kind`` in a results file ([] when there is none); a broken file is an error."""
    if not path.exists():
        return []
    return [r for r in read_records(path) if r["kind"] == kind]


def read_cache(folder: Path) -> list[dict]:
    """The finished jobs cached in ``folder`` (one JSON file each, under any name: older caches named
    them by an older key); a file cut short is dropped."""
    out = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            out.append(json.loads(path.read_text()))
        except json.JSONDecodeError:
            path.unlink()  # cut short: the job runs again
    return out


def cache(folder: Path, record: dict) -> None:
    """Keep a finished job in ``folder`` under its key."""
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / f"{key(record)}.json", json.dumps(record))


def done(*record_lists: Iterable[dict]) -> dict[str, dict]:
    """The finished jobs among ``record_lists``, by key: what a run must not start again."""
    return {key(r): r for r in merge(*record_lists) if finished(r)}
