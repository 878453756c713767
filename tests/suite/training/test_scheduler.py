"""Runs packed to train together: grouped by shape, their results handed back one per run, a crash each
run's outcome."""

from suite.training import scheduler, spec

SETTINGS = dict(steps=30, batch_size=4, hidden_size=4, optimizer="adam", lr=1e-3, clip=1.0, dtype="float64")


def job(seed, together=None, **kw):
    extra = {"together": together} if together else {}
    return spec.make(
        "adding", "numpy", "gru", kw.pop("seq_len", 6), seed, threads=1, **SETTINGS, **extra, **kw
    )


def test_pack_groups_runs_of_one_shape_up_to_their_size_and_keeps_the_rest_in_order():
    alone = job(9)
    specs = [job(0, 2), alone, job(1, 2), job(2, 2), job(3, 2, seq_len=8)]
    jobs = scheduler.pack(specs)
    assert [j.get("runs") and [r["seed"] for r in j["runs"]] or j["seed"] for j in jobs] == [[0, 1], 2, 9, 3]
    assert jobs[2] is alone and jobs[0]["threads"] == 1
    assert scheduler.pack([job(0), job(1)]) == [job(0), job(1)]  # nothing says together: one job each


def test_pack_leaves_no_slot_idle_that_a_shape_has_runs_for():
    seeds = lambda jobs: [[r["seed"] for r in j["runs"]] for j in jobs]  # noqa: E731
    ten = scheduler.pack([job(s, 16) for s in range(10)], slots=2)
    assert seeds(ten) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert seeds(scheduler.pack([job(s, 4) for s in range(5)], slots=2)) == [[0, 1, 2], [3, 4]]
    assert seeds(scheduler.pack([job(s, 4) for s in range(8)], slots=2)) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert scheduler.pack([job(0, 4), job(1, 4)], slots=2) == [job(0, 4), job(1, 4)]  # one run a job


def test_a_scheduled_shape_is_split_over_the_jobs_at_a_time():
    sizes = []

    def runner(j, timeout_s):
        sizes.append(len(j.get("runs", [j])))
        return {"runs": [{"status": "ok"} for _ in j["runs"]]} if "runs" in j else {"status": "ok"}

    scheduler.schedule([("g", job(s, 16)) for s in range(10)], lambda s, r: None, jobs=2, runner=runner)
    assert sorted(sizes) == [5, 5]


def test_a_packed_job_reports_each_run_to_on_result():
    seen = []

    def runner(j, timeout_s):
        return (
            {"runs": [{"status": "ok", "seed": r["seed"]} for r in j["runs"]]}
            if "runs" in j
            else {"status": "ok"}
        )

    scheduler.schedule(
        [("g", job(s, 3)) for s in range(4)],
        lambda s, r: seen.append((s["seed"], r["status"])),
        runner=runner,
    )
    assert sorted(seen) == [(0, "ok"), (1, "ok"), (2, "ok"), (3, "ok")]


def test_a_packed_job_is_allowed_the_timeout_once_per_run():
    allowed = {}

    def runner(j, timeout_s):
        allowed[len(j.get("runs", [j]))] = timeout_s
        return {"runs": [{"status": "ok"} for _ in j["runs"]]} if "runs" in j else {"status": "ok"}

    specs = [job(s, 4) for s in range(4)] + [job(9)]
    scheduler.schedule([("g", s) for s in specs], lambda s, r: None, timeout_s=60.0, runner=runner)
    assert allowed == {4: 240.0, 1: 60.0}


def test_a_crash_of_a_packed_job_is_every_runs_outcome():
    broken = [{**job(s), "implementation": "no-such-implementation"} for s in range(2)]
    result = scheduler.run_in_subprocess(
        {"runs": broken, "threads": 1, "implementation": "no-such-implementation"}, 120.0
    )
    assert [r["status"] for r in result["runs"]] == ["error", "error"]
    assert all(r["solved"] is False and r["wall_seconds"] > 0 for r in result["runs"])


def test_packed_runs_train_in_a_fresh_process_and_come_back_as_their_own_records():
    result = scheduler.run_in_subprocess(
        {"runs": [job(0), job(1)], "threads": 1, "implementation": "numpy"}, 300.0
    )
    records = result["runs"]
    assert [r["status"] for r in records] == ["ok", "ok"]
    assert records[0]["learning_curve"] != records[1]["learning_curve"]


def test_a_jobs_wall_time_leaves_out_its_wait_for_a_free_core(tmp_path, monkeypatch):
    import time
    from concurrent.futures import ThreadPoolExecutor

    from suite import harness

    monkeypatch.setattr(harness, "CORE_LOCKS", tmp_path)
    with ThreadPoolExecutor(1) as pool:
        started = time.perf_counter()
        with harness.reserved_cores(harness.cores()):  # every core held: the job waits
            waiting = pool.submit(scheduler.run_in_subprocess, job(0), 120.0)
            time.sleep(2.0)
        result = waiting.result(timeout=120)
        elapsed = time.perf_counter() - started
    assert result["status"] == "ok" and result["core_wait_seconds"] >= 1.9
    assert result["wall_seconds"] <= elapsed - result["core_wait_seconds"] + 0.1


def test_a_long_wait_says_what_is_still_training(capsys, monkeypatch):
    import threading

    monkeypatch.setattr(scheduler, "STILL_RUNNING_S", 0.05)
    release = threading.Event()

    def runner(j, timeout_s):
        release.wait(5)
        return {"status": "ok"}

    threading.Timer(0.3, release.set).start()
    scheduler.schedule([("g", job(s)) for s in range(3)], lambda s, r: None, 2, runner=runner)
    err = capsys.readouterr().err
    assert "still training 2: adding numpy gru default T=6 seed 0 (0 min); " in err  # the third waits
    assert "seed 2" not in err.splitlines()[0]
    assert scheduler.describe({"runs": [job(1), job(2)]}) == "adding numpy gru default T=6 seeds 1,2"
