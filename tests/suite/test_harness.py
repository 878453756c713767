"""The process harness turns every way a job can end into a status, and the rest goes on."""

import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from suite import harness

PLAN = harness.Plan("tests.suite.fake_jobs:misbehave", process_per="implementation")


def job(n, behaviour="ok", implementation="numpy"):
    return {"implementation": implementation, "n": n, "behaviour": behaviour}


def test_every_outcome_is_recorded_and_the_rest_goes_on():
    jobs = [
        job(1),
        job(2, "segfault"),
        job(3),
        job(4, "sigkill"),
        job(5, "raise"),
        job(6, "hang"),
        job(7, "memoryerror"),
        job(8, "diverged"),
        job(9, "exit"),
        job(10),
    ]
    seen = []
    records = harness.run_jobs(jobs, PLAN, threads=1, options={"a": 1}, timeout_s=2.0, on_result=seen.append)
    assert records == seen
    assert [(r["n"], r["status"]) for r in records] == [
        (1, "ok"),
        (2, "crash"),
        (3, "ok"),
        (4, "oom"),
        (5, "error"),
        (6, "timeout"),
        (7, "oom"),
        (8, "diverged"),
        (9, "crash"),
        (10, "ok"),
    ]
    by_n = {r["n"]: r for r in records}
    assert "SIGSEGV" in by_n[2]["error"] and "SIGKILL" in by_n[4]["error"]
    assert "ValueError: bad job" in by_n[5]["error"] and "timed out after 2 s" in by_n[6]["error"]
    assert "without a result" in by_n[9]["error"]
    assert by_n[1]["options"] == {"a": 1} and by_n[1]["threads_effective"]["cpu_affinity"] == 1
    # one process per framework, a fresh one after each failure
    assert by_n[1]["pid"] != by_n[3]["pid"] != by_n[10]["pid"]


def test_jobs_of_one_implementation_share_a_process_and_per_job_plans_do_not():
    jobs = [job(1), job(2), job(3, implementation="torch")]
    shared = harness.run_jobs(jobs, PLAN, timeout_s=5.0)
    assert shared[0]["pid"] == shared[1]["pid"] != shared[2]["pid"]
    assert "threads_effective" not in shared[0]  # threads None: the process is not pinned
    alone = harness.run_jobs(jobs[:2], harness.Plan(PLAN.function, process_per="job"), timeout_s=5.0)
    assert alone[0]["pid"] != alone[1]["pid"]


def test_a_plan_sets_the_environment_of_its_processes(tmp_path):
    plan = harness.Plan("tests.suite.test_harness:read_env", env={"RNNBENCH_TEST": "yes"})
    (record,) = harness.run_jobs([{"implementation": "numpy"}], plan, timeout_s=5.0)
    assert record["status"] == "ok" and record["value"] == "yes"


def read_env(job):
    import os

    return {"value": os.environ.get("RNNBENCH_TEST")}


def test_bad_plans_and_threads():
    with pytest.raises(ValueError, match="process_per"):
        harness.Plan("x:y", process_per="thread")
    with pytest.raises(ValueError, match="threads must be between 1 and"):
        harness.check_threads(0)
    assert harness.check_threads(None) == harness.cores()
    with pytest.raises(ValueError, match="threads must be between 1 and"):
        harness.run_jobs([{"implementation": "numpy", "behaviour": "ok", "n": 0}], PLAN, harness.cores() + 1)


def test_a_line_the_worker_is_still_writing_is_left_for_later():
    assert harness.complete_lines('{"a": 1}\n{"b": ') == ['{"a": 1}']
    assert harness.complete_lines('{"a": 1}\n{"b": 2}\n') == ['{"a": 1}', '{"b": 2}']
    assert harness.complete_lines('{"a"') == []


def test_concurrent_jobs_each_get_their_own_cores(tmp_path, monkeypatch):
    if harness.cores() < 2:
        pytest.skip("needs two cores")
    monkeypatch.setattr(harness, "CORE_LOCKS", tmp_path)
    jobs = [{"implementation": "numpy", "behaviour": "ok", "n": n} for n in range(4)]
    with ThreadPoolExecutor(2) as pool:
        records = [r for f in [pool.submit(harness.run_jobs, [j], PLAN, 1) for j in jobs] for r in f.result()]
    assert all(r["status"] == "ok" and len(r["cores"]) == 1 for r in records)
    with harness.reserved_cores(1) as mine:  # a core held here is not handed to a job
        (record,) = harness.run_jobs(jobs[:1], PLAN, 1)
    assert record["cores"] != mine
    assert harness.run_jobs(jobs[:1], PLAN, None)[0]["cores"] == sorted(os.sched_getaffinity(0))


def test_cores_are_reserved_all_or_none(tmp_path, monkeypatch):
    if harness.cores() < 2:
        pytest.skip("needs two cores")
    monkeypatch.setattr(harness, "CORE_LOCKS", tmp_path)
    with ThreadPoolExecutor(1) as pool:
        with harness.reserved_cores(1) as first:
            waiting = pool.submit(lambda: harness.reserved_cores(2).__enter__())
            time.sleep(0.5)
            assert not waiting.done()  # two cores asked, one free: it waits, holding none
            with harness.reserved_cores(1) as second:
                assert first != second
        assert sorted(waiting.result(timeout=10)) == sorted(os.sched_getaffinity(0))[:2]


def test_a_job_that_waited_for_a_free_core_says_how_long(tmp_path, monkeypatch):
    monkeypatch.setattr(harness, "CORE_LOCKS", tmp_path)
    monkeypatch.setattr(harness, "CORE_WAIT_NOTED_S", 0.5)
    (alone,) = harness.run_jobs([job(1)], PLAN, 1)
    assert "core_wait_seconds" not in alone
    with ThreadPoolExecutor(1) as pool:
        with harness.reserved_cores(harness.cores()):  # every core held: the job waits
            waiting = pool.submit(harness.run_jobs, [job(2)], PLAN, 1)
            time.sleep(1.0)
        (waited,) = waiting.result(timeout=60)
    assert waited["status"] == "ok" and waited["core_wait_seconds"] >= 0.9


def test_workers_run_in_a_session_of_their_own_so_a_terminals_ctrl_c_reaches_the_command_only():
    (record,) = harness.run_jobs([job(1)], PLAN, timeout_s=60.0)
    assert record["status"] == "ok" and record["session"] != os.getsid(0)


def test_a_run_given_up_kills_its_worker_and_starts_nothing_more():
    harness.ABANDON.clear()
    try:
        with ThreadPoolExecutor(1) as pool:
            started = time.monotonic()
            future = pool.submit(harness.run_jobs, [job(1, "hang"), job(2)], PLAN, None, None, 120.0)
            time.sleep(3.0)  # the worker has started the hanging job
            harness.ABANDON.set()
            records = future.result(timeout=60)
        assert [(r["n"], r["status"]) for r in records] == [(1, "interrupted"), (2, "interrupted")]
        assert time.monotonic() - started < 60  # not the 60 s the job would have hung
    finally:
        harness.ABANDON.clear()
