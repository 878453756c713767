"""The process harness turns every way a job can end into a status, and the rest goes on."""

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


def test_a_line_the_worker_is_still_writing_is_left_for_later():
    assert harness.complete_lines('{"a": 1}\n{"b": ') == ['{"a": 1}']
    assert harness.complete_lines('{"a": 1}\n{"b": 2}\n') == ['{"a": 1}', '{"b": 2}']
    assert harness.complete_lines('{"a"') == []
