"""The accuracy sweep: every (task, framework, cell, length, seed, settings) is one job with a content
hash, run in its own process with a timeout, by a local process pool or a Dask cluster. Finished jobs
are cached as they finish, so a rerun skips them and an interrupted sweep resumes."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from tqdm import tqdm

import impls
from suite import harness
from suite.records import write_atomic

EXECUTORS: tuple[str, ...] = ("local", "dask")
CACHE_VERSION = 1  # bump when a change to training makes cached results stale
# per job; full-profile copy at T=100 is 15000 steps, and adding T=100 took 6-13 min for 6000 steps
JOB_TIMEOUT_S = 3 * 3600.0
PLAN = harness.Plan("suite.training.job:run_job", process_per="job")
CACHEABLE = ("ok", "diverged")  # outcomes of the job itself; a crash or timeout is tried again
TABLE_COLUMNS: tuple[str, ...] = (
    "implementation",
    "cell",
    "seq_len",
    "seed",
    "steps",
    "hidden_size",
    "optimizer",
    "lr",
    "test_loss",
    "baseline",
    "accuracy",
    "solved",
    "status",
    "wall_seconds",
)


def table_rows(records: Iterable[dict]) -> list[dict]:
    """Records as rows for TABLE_COLUMNS (the baseline under a shorter name)."""
    return [{**r, "baseline": r.get("baseline_loss")} for r in records]


def job_specs(
    task: str,
    lengths: Iterable[int],
    implementations: Iterable[str],
    cells: Iterable[str],
    seeds: int,
    settings: dict,
) -> list[dict]:
    """One spec per job, in a stable order."""
    frameworks = {name: impls.get(name).framework for name in implementations}
    return [
        {"task": task, "implementation": i, "framework": f, "cell": c, "seq_len": t, "seed": s, **settings}
        for t in lengths
        for c in cells
        for i, f in frameworks.items()
        for s in range(seeds)
    ]


def job_hash(spec: dict) -> str:
    """The content hash that names a job in the cache. Threads are left out (they change speed, not
    results), and so is a framework's default implementation (jobs cached before there were variants)."""
    default = spec.get("implementation") == spec.get("framework")
    content = {k: v for k, v in spec.items() if k != "threads" and not (k == "implementation" and default)}
    # jobs cached before init was a setting trained at the default init
    content = {k: v for k, v in content.items() if (k, v) not in (("init", "default"), ("t_max", None))}
    text = json.dumps({"v": CACHE_VERSION, **content}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def run_in_subprocess(spec: dict, timeout_s: float) -> dict:
    """Run one job in a fresh process (the harness); a crash, an out-of-memory kill or a timeout becomes
    its outcome."""
    started = time.perf_counter()
    (result,) = harness.run_jobs([spec], PLAN, spec.get("threads"), timeout_s=timeout_s)
    result.setdefault("test_loss", None)
    result.setdefault("accuracy", None)
    result.setdefault("solved", False)
    return {**result, "wall_seconds": time.perf_counter() - started}


def _local(specs: list[dict], timeout_s: float, jobs: int) -> Iterator[tuple[dict, dict]]:
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        yield from _completed({pool.submit(run_in_subprocess, s, timeout_s): s for s in specs})


def _dask(specs: list[dict], timeout_s: float, jobs: int, address: str | None) -> Iterator[tuple[dict, dict]]:
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if address is None:
        cluster = LocalCluster(
            n_workers=jobs, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
    client = Client(address or cluster)
    try:
        futures = {client.submit(run_in_subprocess, s, timeout_s, pure=False): s for s in specs}
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _completed(futures: dict[Future, dict]) -> Iterator[tuple[dict, dict]]:
    pending = set(futures)
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            yield futures[future], future.result()


def sweep(
    specs: list[dict],
    cache_dir: Path,
    executor: str = "local",
    jobs: int = 1,
    timeout_s: float = JOB_TIMEOUT_S,
    address: str | None = None,
    on_record: Callable[[dict], None] | None = None,
    progress: bool = True,
    environment: dict | None = None,
) -> list[dict]:
    """Run every job not in the cache; return all records in the order of ``specs``."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    records: dict[str, dict] = {}
    todo = []
    for spec in specs:
        cached = cache_dir / f"{job_hash(spec)}.json"
        if cached.exists():
            try:
                records[job_hash(spec)] = {
                    "kind": "accuracy",
                    **json.loads(cached.read_text()),
                    "cached": True,
                }
                continue
            except json.JSONDecodeError:
                cached.unlink()  # a cache file cut short: run the job again
        todo.append(spec)
    bar = tqdm(total=len(specs), initial=len(records), unit="job", disable=not progress, dynamic_ncols=True)
    failed = 0
    bar.set_postfix(running=min(jobs, len(todo)), failed=failed)
    stream = _local(todo, timeout_s, jobs) if executor == "local" else _dask(todo, timeout_s, jobs, address)
    for spec, result in stream:
        record = {"kind": "accuracy", **spec, **result, "environment": environment or {}}
        key = job_hash(spec)
        records[key] = record
        if record["status"] in CACHEABLE:
            write_atomic(cache_dir / f"{key}.json", json.dumps(record))
        else:
            failed += 1
        if on_record:
            on_record(record)
        bar.update(1)
        remaining = len(specs) - bar.n
        bar.set_postfix(running=min(jobs, remaining), failed=failed)
    bar.close()
    return [records[job_hash(s)] for s in specs]
