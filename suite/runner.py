"""Runs benchmark workloads in fresh worker processes, one framework per process (speed) or one job
per process (memory), with a timeout per job. A crash, an out-of-memory kill or a timeout is recorded as
that job's outcome and the rest goes on."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from suite.workloads import Workload

STARTUP_TIMEOUT_S = 300.0  # importing a framework and calibrating GEMM, before the first job starts
REPO = Path(__file__).resolve().parent.parent
_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}


def _exit_reason(code: int | None) -> tuple[str, str]:
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        return ("oom" if name == "SIGKILL" else "crash"), f"worker killed by {name}"
    return "crash", f"worker exited with code {code}"


def _run_group(
    group: list[Workload],
    kind: str,
    threads: int,
    settings: dict,
    timeout_s: float,
    workdir: Path,
    worker: str,
) -> Iterator[dict]:
    """Run one worker process over ``group``, yielding each record as it arrives; respawn the worker
    for whatever is left after a crash or a timeout."""
    remaining = list(group)
    # The malloc settings make a phase's peak RSS its own, but each large allocation a system call:
    # memory runs only, never timed ones.
    env = {**os.environ, **(_MALLOC_ENV if kind == "memory" else {}), "PYTHONUNBUFFERED": "1"}
    for attempt in itertools.count():
        if not remaining:
            return
        name = f"{remaining[0].framework}-{id(group)}-{attempt}"
        spec, out, log = (workdir / f"{name}.{ext}" for ext in ("spec.json", "out.jsonl", "log.txt"))
        spec.write_text(
            json.dumps(
                {
                    "framework": remaining[0].framework,
                    "threads": threads,
                    "kind": kind,
                    "settings": settings,
                    "workloads": [w.as_dict() for w in remaining],
                }
            )
        )
        out.touch()
        by_key = {w.key(): w for w in remaining}
        with open(log, "w") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "-m", worker, str(spec), str(out)],
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=REPO,
            )
        started_at, current, seen, timed_out = time.monotonic(), None, 0, False
        while True:
            exited = proc.poll() is not None  # read the file after this, so nothing written is missed
            lines = out.read_text().splitlines()
            for line in lines[seen:]:
                event = json.loads(line)
                if event.pop("event") == "start":
                    current, started_at = event["key"], time.monotonic()
                    continue
                w = by_key[event.pop("key")]
                remaining.remove(w)
                current = None
                yield {**w.as_dict(), **event}
            seen = len(lines)
            if exited:
                break
            limit = timeout_s if current else STARTUP_TIMEOUT_S
            if time.monotonic() - started_at > limit:
                proc.kill()
                proc.wait()
                timed_out = True
                for w in [by_key[current]] if current else list(remaining):
                    remaining.remove(w)
                    yield {**w.as_dict(), "status": "timeout", "error": f"timed out after {limit:.0f} s"}
                break
            time.sleep(0.05)
        if timed_out or not remaining:
            continue
        if proc.returncode == 0:
            status, message, tail = "crash", "worker ended without a result", ""
        else:
            status, message = _exit_reason(proc.returncode)
            tail = log.read_text()[-2000:]
        # the job in flight dies with the worker; one that never started a job takes them all with it
        for w in [by_key[current]] if current else list(remaining):
            remaining.remove(w)
            yield {**w.as_dict(), "status": status, "error": message, "log_tail": tail}


def run_workloads(
    workloads: list[Workload],
    kind: str,
    threads: int,
    settings: dict | None = None,
    timeout_s: float = 600.0,
    on_result: Callable[[dict], None] | None = None,
    worker: str = "suite.worker",
) -> list[dict]:
    """Run every workload; ``on_result`` sees each record as soon as it is finished."""
    if kind == "speed":
        groups: dict[str, list[Workload]] = {}
        for w in workloads:
            groups.setdefault(w.framework, []).append(w)
        batches = list(groups.values())
    else:
        batches = [[w] for w in workloads]
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="rnnbench-") as tmp:
        for batch in batches:
            for record in _run_group(batch, kind, threads, settings or {}, timeout_s, Path(tmp), worker):
                results.append(record)
                if on_result:
                    on_result(record)
    return results
