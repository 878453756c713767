"""The learning sweep: every (task, implementation, cell, length, seed, settings) is one training job on the
training spine (suite.training), in its own process with a timeout, by the local cores or a Dask cluster.
Each finished job is written to the results file and the cache as it finishes, so a rerun skips it and an
interrupted sweep resumes."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tqdm import tqdm

from suite.records import write_records
from suite.training import scheduler, spec

KIND = "accuracy"
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
    return [
        spec.make(task, name, cell, t, seed, **settings)
        for t in lengths
        for cell in cells
        for name in implementations
        for seed in range(seeds)
    ]


def sweep(
    specs: list[dict],
    path: Path,
    cache_dir: Path,
    executor: str = "local",
    jobs: int = 1,
    timeout_s: float = scheduler.JOB_TIMEOUT_S,
    address: str | None = None,
    progress: bool = True,
    environment: dict | None = None,
) -> list[dict]:
    """Run every job not finished in the results file or the cache; the records of ``specs``, in order.
    The results file keeps every finished job it held."""
    earlier = scheduler.read_results(path, KIND)
    finished = scheduler.done(earlier, scheduler.read_cache(cache_dir))
    keys = {spec.key(s) for s in specs}
    records = {k: {**r, "kind": KIND, "cached": True} for k, r in finished.items() if k in keys}
    todo = [s for s in specs if spec.key(s) not in finished]
    bar = tqdm(total=len(specs), initial=len(specs) - len(todo), unit="job", disable=not progress)
    failed = 0

    def on_result(job: dict, result: dict) -> None:
        nonlocal failed
        record = spec.record(KIND, job, result, environment or {})
        records[spec.key(job)] = record
        if spec.finished(record):
            scheduler.cache(cache_dir, record)
        else:
            failed += 1
        write_records(path, spec.merge(earlier, records.values()))  # after every job: nothing is lost
        bar.update(1)
        bar.set_postfix(failed=failed)

    runner, close = scheduler.dask_runner(address, jobs) if executor == "dask" else (None, None)
    try:
        scheduler.schedule([(None, s) for s in todo], on_result, jobs, timeout_s, runner=runner)
    finally:
        bar.close()
        if close:
            close()
    return [records[spec.key(s)] for s in specs if spec.key(s) in records]
