"""The one way rnnbench runs work in fresh processes: speed and memory benchmarks and accuracy jobs alike.

A job is a JSON-able dict naming its ``implementation``. A :class:`Plan` says which function runs one job
in the worker (``"module:function"``, called as ``function(job, **options)``, returning the result as a
dict that may carry its own ``status``), whether jobs of one implementation share a process or each gets
its own, and any environment the processes need. The worker, ``python -m suite.harness SPEC OUT``, pins
itself to the cores the parent reserved for it (no two concurrent jobs share one), then writes a "start"
line before each job and the job's result after it, so the parent always knows which job was running when
a process died or hung. An exception, a crash, a signal, an out-of-memory kill or a timeout becomes that
job's status, and the rest goes on."""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 300.0  # importing a framework and calibrating GEMM, before the first job starts
CORE_WAIT_NOTED_S = 1.0  # a wait for free cores this long is noted in the job's records
CORE_LOCKS = Path(tempfile.gettempdir()) / f"rnnbench-cores-{os.getuid()}"  # one lock file per core
# Workers run in a session of their own, so a terminal's Ctrl-C reaches the command only (which lets the
# jobs in flight finish); set when the command gives them up instead (a second interrupt): each worker is
# then killed and its job recorded as interrupted.
ABANDON = threading.Event()


@dataclass(frozen=True)
class Plan:
    """How a kind of job runs."""

    function: str  # "module:function" run in the worker for each job
    process_per: str = "job"  # "job": a fresh process each; "implementation": one each, jobs in turn
    env: Mapping[str, str] = field(default_factory=dict)  # added to each process's environment

    def __post_init__(self) -> None:
        if self.process_per not in ("job", "implementation"):
            raise ValueError(f"process_per must be 'job' or 'implementation', not {self.process_per!r}")


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


def check_threads(threads: int | None) -> int:
    """``threads``, or every core when None; ValueError outside 1..cores."""
    n = cores() if threads is None else threads
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= cores():
        raise ValueError(f"threads must be between 1 and {cores()} (the cores this process may use), got {n}")
    return n


# ----- the parent -----


@contextlib.contextmanager
def reserved_cores(threads: int | None) -> Iterator[list[int] | None]:
    """``threads`` of this process's cores that no other rnnbench job on this machine holds, waiting while
    too few are free; None (unpinned) for None. Concurrent jobs never share a core this way, whether they
    run in threads of one process or in other processes (a Dask cluster's workers, another command)."""
    if threads is None:
        yield None
        return
    check_threads(threads)  # more than there are would wait forever
    CORE_LOCKS.mkdir(exist_ok=True)
    held: dict[int, IO] = {}
    try:
        while True:
            for core in sorted(os.sched_getaffinity(0)):
                if len(held) == threads:
                    break
                lock = open(CORE_LOCKS / str(core), "w")
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    held[core] = lock
                except BlockingIOError:
                    lock.close()
            if len(held) == threads:
                break
            for lock in held.values():  # all or none: two jobs each holding a part would wait forever
                lock.close()
            held.clear()
            time.sleep(0.05 + 0.1 * (os.getpid() % 7) / 7)
        yield sorted(held)
    finally:
        for lock in held.values():
            lock.close()


def _exit_status(code: int | None) -> tuple[str, str]:
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        return ("oom" if name == "SIGKILL" else "crash"), f"worker killed by {name}"
    if code == 0:
        return "crash", "worker ended without a result"
    return "crash", f"worker exited with code {code}"


def complete_lines(text: str) -> list[str]:
    """The lines of ``text`` that end in a newline: a line the worker is still writing is left for later."""
    return text[: text.rfind("\n") + 1].splitlines()


def _run_process(
    jobs: list[dict],
    plan: Plan,
    cores: list[int] | None,
    options: dict,
    timeout_s: float,
    workdir: Path,
    worker: str,
) -> Iterator[dict]:
    """One worker process over ``jobs``, yielding each record as it arrives; a fresh process takes over
    whatever is left after a crash or a timeout."""
    remaining = list(range(len(jobs)))
    env = {**os.environ, **plan.env, "PYTHONUNBUFFERED": "1"}
    for attempt in itertools.count():
        if not remaining:
            return
        stem = f"{jobs[remaining[0]]['implementation']}-{os.getpid()}-{id(jobs)}-{attempt}"
        spec, out, log = (workdir / f"{stem}.{ext}" for ext in ("spec.json", "out.jsonl", "log.txt"))
        spec.write_text(
            json.dumps(
                {
                    "function": plan.function,
                    "implementation": jobs[remaining[0]]["implementation"],
                    "cores": cores,
                    "options": options,
                    "jobs": {str(i): jobs[i] for i in remaining},
                }
            )
        )
        out.touch()
        with open(log, "w") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "-m", worker, str(spec), str(out)],
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=REPO,
                start_new_session=True,
            )
        started_at, current, seen = time.monotonic(), None, 0
        outcome: tuple[str, str] | None = None
        try:  # whatever ends this (an interrupt in this thread, the caller closing it), no worker outlives it
            while True:
                exited = proc.poll() is not None  # read the file after this, so nothing written is missed
                lines = complete_lines(out.read_text())
                for line in lines[seen:]:
                    event = json.loads(line)
                    index = int(event.pop("job"))
                    if event.pop("event") == "start":
                        current, started_at = index, time.monotonic()
                        continue
                    remaining.remove(index)
                    current = None
                    yield {**jobs[index], **event}
                seen = len(lines)
                if exited:
                    break
                if ABANDON.is_set():
                    proc.kill()
                    proc.wait()
                    outcome = ("interrupted", "given up by a second interrupt")
                    break
                limit = timeout_s if current is not None else STARTUP_TIMEOUT_S
                if time.monotonic() - started_at > limit:
                    proc.kill()
                    proc.wait()
                    outcome = ("timeout", f"timed out after {limit:.0f} s")
                    break
                time.sleep(0.05)
        except BaseException:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            raise
        if outcome is None:
            if not remaining:
                continue
            outcome = _exit_status(proc.returncode)
        tail = log.read_text()[-2000:] if outcome[0] != "timeout" else ""
        # the job in flight fails with the worker; a worker that never started a job takes them all with it,
        # and so does one given up: nothing more starts
        given_up = outcome[0] == "interrupted"
        for index in [current] if current is not None and not given_up else list(remaining):
            remaining.remove(index)
            yield {
                **jobs[index],
                "status": outcome[0],
                "error": outcome[1],
                **({"log_tail": tail} if tail else {}),
            }


def run_jobs(
    jobs: list[dict],
    plan: Plan,
    threads: int | None = None,
    options: dict | None = None,
    timeout_s: float = 600.0,
    on_result: Callable[[dict], None] | None = None,
    worker: str = "suite.harness",
) -> list[dict]:
    """Run every job as ``plan`` says, in order; ``on_result`` sees each record (the job's fields, its
    ``status`` and its result) as soon as it is finished. Each process is pinned to ``threads`` cores that
    no concurrent job holds (:func:`reserved_cores`); None leaves it unpinned. A record whose process waited
    for its cores says how long (``core_wait_seconds``)."""
    if plan.process_per == "implementation":
        groups: dict[str, list[dict]] = {}
        for job in jobs:
            groups.setdefault(job["implementation"], []).append(job)
        batches = list(groups.values())
    else:
        batches = [[job] for job in jobs]
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="rnnbench-") as tmp:
        for batch in batches:
            asked = time.perf_counter()
            with reserved_cores(threads) as cores:
                waited = time.perf_counter() - asked
                for record in _run_process(batch, plan, cores, options or {}, timeout_s, Path(tmp), worker):
                    if waited >= CORE_WAIT_NOTED_S:
                        record = {**record, "core_wait_seconds": waited}
                    results.append(record)
                    if on_result:
                        on_result(record)
    return results


# ----- the worker -----


def _emit(out, event: dict) -> None:
    out.write(json.dumps(event) + "\n")
    out.flush()
    os.fsync(out.fileno())


def resolve(name: str) -> Callable[..., dict]:
    """The function called ``module:function``."""
    module, _, attr = name.partition(":")
    return getattr(importlib.import_module(module), attr)


def worker_main(spec_path: str, out_path: str) -> None:
    """Run the jobs of a spec file, writing start and done events to ``out_path``."""
    spec = json.loads(Path(spec_path).read_text())
    function = resolve(spec["function"])
    extra, setup_error = {}, None
    if spec.get("cores"):
        import impls
        from suite.environment import blas

        try:
            extra["threads_effective"] = impls.configure_threads(
                spec["implementation"], len(spec["cores"]), spec["cores"]
            )
            extra["libraries"] = blas()  # what this process loaded, the framework's BLAS and OpenMP included
        except Exception as e:  # an unknown or missing implementation: every job says so
            setup_error = e
    with open(out_path, "a") as out:
        for index, job in spec["jobs"].items():
            _emit(out, {"event": "start", "job": index, "time": time.time()})
            try:
                if setup_error is not None:
                    raise setup_error
                result = dict(function(job, **spec["options"]))
                status = result.pop("status", "ok")
            except MemoryError:
                result, status = {"error": "MemoryError"}, "oom"
            except Exception as e:
                result = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(limit=5)}
                status = "oom" if "out of memory" in str(e).lower() else "error"
            _emit(out, {"event": "done", "job": index, "status": status, **extra, **result})


if __name__ == "__main__":
    worker_main(*sys.argv[1:3])
