"""The runner records a crash, a kill or a timeout as that job's outcome and goes on."""

from suite.runner import run_workloads
from suite.workloads import Workload


def job(hidden, seq_len=10):
    return Workload("numpy", "rnn", "forward", seq_len=seq_len, batch=1, input_size=1, hidden_size=hidden)


def run(jobs, timeout_s=5.0):
    seen = []
    records = run_workloads(jobs, "speed", 1, {}, timeout_s, seen.append, worker="tests.suite.fake_worker")
    assert records == seen
    return [(r["hidden_size"], r["seq_len"], r["status"]) for r in records], records


def test_every_failure_is_recorded_and_the_rest_goes_on():
    jobs = [job(1, 1), job(2, 2), job(1, 3), job(4, 4), job(5, 5), job(3, 6), job(1, 7)]
    outcomes, records = run(jobs, timeout_s=2.0)
    assert outcomes == [
        (1, 1, "ok"),
        (2, 2, "crash"),
        (1, 3, "ok"),
        (4, 4, "oom"),
        (5, 5, "error"),
        (3, 6, "timeout"),
        (1, 7, "ok"),
    ]
    by_len = {r["seq_len"]: r for r in records}
    assert "SIGSEGV" in by_len[2]["error"]
    assert "SIGKILL" in by_len[4]["error"]
    assert "timed out after 2 s" in by_len[6]["error"]


def test_memory_jobs_run_one_per_process():
    records = run_workloads(
        [job(1), job(2, 20), job(1, 30)], "memory", 1, {}, 5.0, worker="tests.suite.fake_worker"
    )
    assert [r["status"] for r in records] == ["ok", "crash", "ok"]
