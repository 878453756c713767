"""How far each cell reaches: for each task x cell x init, the longest sequence length solved within a step
budget, over several seeds. Lengths double from a start until no seed solves; each job stops once it meets
the task's solve criterion and records the step. Records already in the results file count as finished
jobs, so an interrupted or moved search resumes where it stopped."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

import impls
import tasks
from impls.layout import CELLS, KEEP_GATE, KEEP_GATE_INITS
from suite.records import device_of
from suite.training import scheduler
from suite.training import spec as spec_mod
from suite.training.spec import finished, key

# The search's training settings: the short budget, each task with its own optimizer (tasks.Task).
SETTINGS: dict[str, Any] = spec_mod.SHORT_BUDGET
KIND = "capacity"
THROUGHPUT_STEPS, THROUGHPUT_LENGTH = 40, 100  # the training step timed to choose an implementation per cell
JOB_STEPS = 1000  # a typical search job's steps, to weigh a compiling framework's first step
# runs per training step timed where a framework trains several runs in one compiled step (JAX: jax.vmap)
THROUGHPUT_TOGETHER: tuple[int, ...] = (4, 16)
START, LONGEST = 10, 640
SEEDS = 5  # seeds per length
TASKS: tuple[str, ...] = ("adding", "copy", "temporal2", "temporal3")
# the inits searched by default: PyTorch's, and the two that set the keep gate's bias (glorot, the init of
# Arjovsky et al.'s code, is run where an anchor uses it)
INITS: tuple[str, ...] = ("default", "forget1", "chrono")
Chain = tuple[str, str, str]  # (task, cell, init): one search over lengths


def settings_for(task: str, **overrides: Any) -> dict[str, Any]:
    """The search's training settings for ``task``, with the overrides that are not None: the short budget's
    hidden size and batch, the task's optimizer, and its budget at the published scale (tasks.Task.budget,
    in sequences) with a validation check every 1 % of it, unless steps are given."""
    given = {k: v for k, v in overrides.items() if v is not None}
    settings = {**SETTINGS, "optimizer": tasks.get(task).optimizer, **given}
    if "steps" not in given and tasks.get(task).budget:
        steps, checks = in_steps(tasks.get(task).budget, settings["batch_size"])
        settings.update(steps=steps, eval_every=given.get("eval_every", checks))
    return settings


def in_steps(sequences: int, batch_size: int) -> tuple[int, int]:
    """A budget in sequences as (steps, rounded up; a validation check every 1 % of them, at least every
    100 steps)."""
    steps = -(-sequences // batch_size)
    return steps, max(100, steps // 100)


def lengths(start: int = START, longest: int = LONGEST) -> list[int]:
    """The lengths a search may try: ``start`` doubled while it is at most ``longest``."""
    if start < 1 or longest < start:
        raise ValueError(f"need 1 <= start <= longest, got start {start}, longest {longest}")
    out = [start]
    while out[-1] * 2 <= longest:
        out.append(out[-1] * 2)
    return out


def chains(tasks: Iterable[str], cells: Iterable[str], inits: Iterable[str]) -> list[Chain]:
    """Every (task, cell, init) searched: the keep-gate inits only for gated cells."""
    return [
        (t, c, i) for t in tasks for c in cells for i in inits if c in KEEP_GATE or i not in KEEP_GATE_INITS
    ]


def spec(chain: Chain, implementation: str, seq_len: int, seed: int, settings: dict) -> dict:
    """One job of a chain, on one thread."""
    task, cell, init = chain
    return spec_mod.make(task, implementation, cell, seq_len, seed, init=init, threads=1, **settings)


def throughput_specs(
    cells: list[str],
    names: list[str],
    device: str = "cpu",
    seq_lens: list[int] | None = None,
    together: tuple[int, ...] = THROUGHPUT_TOGETHER,
    task: str = "adding",
    settings: dict | None = None,
) -> list[dict]:
    """Jobs that time THROUGHPUT_STEPS training steps per implementation, cell and length (the search's
    lengths by default: the cost of a step is not the same at every length, and subnormals make long
    sequences dearer on some paths), with the search's settings on the adding problem (its loss reads the
    last step only) unless ``task`` and ``settings`` say otherwise; the cells an implementation does not
    declare are left out."""
    on = None if device == "cpu" else device  # CPU jobs keep their keys
    given = settings if settings is not None else settings_for(task, device=on)
    settings = {**given, "steps": THROUGHPUT_STEPS, "eval_every": 0}
    out = []
    for t in seq_lens or lengths():
        for n in names:
            for c in cells:
                if impls.get(n).unsupported(c, settings["dtype"], device) is not None:
                    continue
                out.append({**spec((task, c, "default"), n, t, 0, settings), "throughput": True})
                if impls.get(n).trains_together:  # K seeds in one step, timed per K
                    out += [
                        {
                            **spec((task, c, "default"), n, t, seed, settings),
                            "throughput": k,
                            "together": k,
                        }
                        for k in together
                        for seed in range(k)
                    ]
    return out


def _costs(
    records: list[dict], cpu: str, anchor: str | None = None
) -> dict[tuple[str, int], dict[str, dict[int, float]]]:
    """(cell, length) -> implementation -> runs per step -> the cost of one run of a typical search job on
    this CPU: the first step (a compiling framework compiles there) plus JOB_STEPS steps at the measured
    rate, shared by the runs trained together. Timed at the search's settings, or at ``anchor``'s own
    (``task:name``: its hidden size, optimizer and batch) where one is named."""
    cost: dict[tuple[str, int], dict[str, dict[int, float]]] = {}
    for r in records:
        timed = r.get("throughput") and r.get("seconds_per_step") and r.get("anchor") == anchor
        if timed and r["environment"].get("cpu") == cpu:
            runs = r.get("runs_per_step", 1)
            if r["throughput"] is not True and runs == 1:
                continue  # asked to train together, and its framework stepped the runs in turn
            seconds = (r.get("first_step_seconds") or 0.0) + JOB_STEPS * r["seconds_per_step"]
            at = cost.setdefault((r["cell"], r["seq_len"]), {}).setdefault(r["implementation"], {})
            at[runs] = min(at.get(runs, math.inf), seconds / runs)
    return cost


def fastest(records: list[dict], cpu: str, anchor: str | None = None) -> dict[tuple[str, int], str]:
    """Per cell and length, the implementation whose typical search run (or ``anchor``'s, :func:`_costs`)
    costs least on a machine with this CPU, alone or trained together with others (:func:`together`)."""
    return {
        at: min(by_impl, key=lambda n: min(by_impl[n].values()))
        for at, by_impl in _costs(records, cpu, anchor).items()
    }


def measured_at(records: list[dict], cpu: str, anchor: str | None) -> str | None:
    """``anchor`` where the throughput on this CPU was timed at its settings, else None (the search's)."""
    return anchor if anchor is not None and _costs(records, cpu, anchor) else None


def together(records: list[dict], cpu: str, anchor: str | None = None) -> dict[tuple[str, str, int], int]:
    """Per implementation, cell and length: how many runs to train together in one step, where measured
    cheaper per run on this CPU than one run per process (else absent: one run per process)."""
    out = {}
    for (cell, seq_len), by_impl in _costs(records, cpu, anchor).items():
        for name, by_runs in by_impl.items():
            best = min(by_runs, key=by_runs.get)
            if best > 1 and 1 in by_runs:
                out[(name, cell, seq_len)] = best
    return out


Chooser = Callable[[str, int], str]  # (cell, length) -> the implementation a search job runs on


def searched_on(
    throughput: list[dict], cpu: str, installed: list[str], anchor: str | None = None
) -> tuple[Chooser, dict]:
    """The implementation a search job (or ``anchor``'s job, where its settings were timed) runs on, per
    cell and length: the cheapest in ``throughput`` measured on this CPU at that length, else at the nearest
    length measured (in doublings), among those installed; torch (or the first installed) where nothing was
    measured for the cell. Returns the chooser and the measured table it reads ((cell, length) ->
    implementation)."""
    at = measured_at(throughput, cpu, anchor)
    table = {where: name for where, name in fastest(throughput, cpu, at).items() if name in installed}
    fallback = "torch" if "torch" in installed else installed[0]

    def choose(cell: str, seq_len: int) -> str:
        measured = [t for c, t in table if c == cell]
        if not measured:
            return fallback
        nearest = min(measured, key=lambda t: (abs(math.log2(t / seq_len)), t))
        return table[(cell, nearest)]

    return choose, table


def step_seconds(
    throughput: list[dict],
    cpu: str,
    implementation: str,
    cell: str,
    steps_long: int,
    anchor: str | None = None,
) -> float | None:
    """Seconds one run's training step takes on this CPU at ``steps_long`` time steps, from the throughput
    measured nearest that length (scaled by the length: a step's cost grows linearly with it) at the
    search's settings (or ``anchor``'s), per run where runs trained together cost less; None when nothing
    was measured for the implementation and cell."""
    by_length = {}
    for at, by_impl in _costs(throughput, cpu, anchor).items():
        if at[0] == cell and implementation in by_impl:
            by_length[at[1]] = min(by_impl[implementation].values())
    if not by_length:
        return None
    nearest = min(by_length, key=lambda t: (abs(math.log2(t / steps_long)), t))
    return by_length[nearest] / JOB_STEPS * steps_long / nearest


def plan(
    chain_list: list[Chain],
    choose: Chooser,
    seeds: int,
    settings_of: Callable[[str], dict],
    search: list[int],
    throughput: list[dict],
    cpu: str,
) -> list[dict]:
    """The search's cost before it runs: per chain and length, one core's hours if every seed trains its
    whole budget (the worst case: a seed that solves stops early, and a chain stops at the first length no
    seed solves), from the throughput measured on this CPU; and the chain's hours up to that length."""
    rows = []
    for task, cell, init in chain_list:
        settings = settings_of(task)
        total = 0.0
        for seq_len in search:
            name = choose(cell, seq_len)
            per_step = step_seconds(throughput, cpu, name, cell, time_steps(task, seq_len))
            hours = None if per_step is None else seeds * settings["steps"] * per_step / 3600
            total = None if hours is None or total is None else total + hours
            rows.append(
                {
                    "task": task,
                    "cell": cell,
                    "init": init,
                    "T": seq_len,
                    "implementation": name,
                    "budget": f"{settings['steps'] * settings['batch_size']:,} sequences",
                    "ms_per_step": None if per_step is None else 1e3 * per_step,
                    "worst_hours": hours,
                    "chain_hours": total,
                }
            )
    return rows


def time_steps(task: str, seq_len: int) -> int:
    """The time steps of one of ``task``'s sequences at length ``seq_len`` (copy adds its symbols)."""
    return tasks.get(task).batch(np.random.default_rng(0), 1, seq_len)[0].shape[1]


def run_hours(
    throughput: list[dict], cpu: str, implementation: str, chain: Chain, seq_len: int, runs: int, steps: int
) -> float | None:
    """One core's hours for ``runs`` runs of ``steps`` steps each of a chain's job at ``seq_len``, from
    the throughput measured on ``cpu`` (:func:`step_seconds`); None where it measured none."""
    task, cell, _ = chain
    per_step = step_seconds(throughput, cpu, implementation, cell, time_steps(task, seq_len))
    return None if per_step is None else runs * steps * per_step / 3600


def at_published_budget(task: str, settings: dict) -> bool:
    """Whether ``settings`` train for at least ``task``'s published budget (tasks.Task.budget, sequences)."""
    return settings["steps"] * settings["batch_size"] >= tasks.get(task).budget > 0


def spent(records: list[dict]) -> dict[str, float]:
    """One core's hours the search's CPU jobs at the published budgets took, per task: each job's wall
    time on its core, counted once for the runs trained together in it (they share it exactly, whether
    the job finished or failed). A wait for a free core is left out of it since the harness records it;
    before, it counted."""
    jobs: dict[tuple, float] = {}
    for i, r in enumerate(records):
        cpu_job = searched_job(r) and device_of(r) == "cpu" and r.get("wall_seconds")
        if cpu_job and at_published_budget(r["task"], r):
            jobs[(r["task"], r["wall_seconds"] if r.get("together") else i)] = r["wall_seconds"]
    out: dict[str, float] = {}
    for (task, _), wall in jobs.items():
        out[task] = out.get(task, 0.0) + wall / 3600
    return out


def queued(
    records: Iterable[dict],
    throughput: list[dict],
    cpu: str,
    seeds: int = SEEDS,
    search: list[int] | None = None,
) -> list[dict]:
    """What the search at the published budgets has still to train, resuming from ``records``: per chain
    not over, the next length, the seeds missing there, the implementation the search would choose on a
    machine with ``cpu`` and one core's hours for them if none stops early (None where ``throughput``
    measured nothing for it)."""
    records = [
        r
        for r in records
        if searched_job(r) and finished(r) and device_of(r) == "cpu" and at_published_budget(r["task"], r)
    ]
    done = {key(r): r for r in records}
    names = sorted({r["implementation"] for r in throughput})
    choose = searched_on(throughput, cpu, names)[0] if names else (lambda cell, seq_len: "unmeasured")
    out = []
    for chain in chains(TASKS, CELLS, INITS):
        task, cell, init = chain
        settings = settings_for(task)
        on = _resumed_on([r for r in records if chain_of(r) == chain], choose)
        missing = next_jobs(chain, on, seeds, settings, done, search or lengths())
        if not missing:
            continue
        seq_len, name = missing[0]["seq_len"], missing[0]["implementation"]
        worst = run_hours(throughput, cpu, name, chain, seq_len, len(missing), settings["steps"])
        out.append(
            {
                "task": task,
                "cell": cell,
                "init": init,
                "T": seq_len,
                "seeds": len(missing),
                "implementation": name,
                "worst_hours": worst,
            }
        )
    return out


def chain_of(record: dict) -> Chain:
    """The (task, cell, init) a record's job belongs to."""
    return record["task"], record["cell"], record.get("init", "default")


def _resumed_on(chain_records: list[dict], choose: Chooser) -> Chooser:
    """The implementation a chain resumes on per length: the one most of its jobs there ran on (their keys
    name it), else ``choose``'s."""
    ran: dict[int, list[str]] = {}
    for r in chain_records:
        ran.setdefault(r["seq_len"], []).append(r["implementation"])
    most = {t: most_run(names) for t, names in ran.items()}
    return lambda cell, seq_len: most.get(seq_len) or choose(cell, seq_len)


def most_run(names: list[str]) -> str:
    """The implementation named most often in ``names`` (the first by name on a tie): where a chain or
    point resumes, so that its seeds stay on one implementation."""
    return max(sorted(set(names)), key=names.count)


Packer = Callable[[dict], dict]  # a job's spec -> the same, saying how many runs may train with it


def packer(throughput: list[dict], cpu: str) -> Packer:
    """Sets ``together`` on a job where training runs together (:func:`together`) measured cheaper per run
    on this CPU, at the job's length or the nearest measured (in doublings), at the job's anchor's settings
    where they were timed (else the search's); leaves the others alone, among them the jobs nearest a length
    where one run per process measured cheaper."""

    tables: dict[str | None, tuple[dict, dict]] = {}  # anchor -> (its costs, its together): read once

    def pack(job: dict) -> dict:
        anchor = job.get("anchor")
        if anchor not in tables:
            at = measured_at(throughput, cpu, anchor)
            tables[anchor] = (_costs(throughput, cpu, at), together(throughput, cpu, at))
        costs, packs = tables[anchor]
        measured = [
            t for (c, t), by_impl in costs.items() if c == job["cell"] and job["implementation"] in by_impl
        ]
        if not measured:
            return job
        nearest = min(measured, key=lambda t: (abs(math.log2(t / job["seq_len"])), t))
        runs = packs.get((job["implementation"], job["cell"], nearest))
        return {**job, "together": runs} if runs else job

    return pack


def where(record: dict) -> str:
    """The implementation, and the device when it is not the CPU: what a row of outcomes ran on."""
    on = device_of(record)
    return record["implementation"] if on == "cpu" else f"{record['implementation']} ({on})"


def next_jobs(
    chain: Chain,
    implementation: str | Chooser,
    seeds: int,
    settings: dict,
    done: dict[str, dict],
    search: list[int],
) -> list[dict]:
    """The jobs a chain needs next: the missing seeds at the first length not yet complete (a length is
    passed once any of its seeds solves it); [] when the chain is over: no seed solved the last complete
    length, or every length is done. When no seed solves the first length, lengths halve down to the task's
    shortest sensible length (tasks.Task.shortest) until one is solved. ``implementation`` is one name, or
    a chooser of the implementation per cell and length."""
    choose = implementation if callable(implementation) else (lambda cell, seq_len: implementation)

    def missing_or_solved(seq_len: int) -> list[dict] | bool:
        name = choose(chain[1], seq_len)
        specs = [spec(chain, name, seq_len, s, settings) for s in range(seeds)]
        missing = [s for s in specs if key(s) not in done]
        return missing or any(done[key(s)].get("solved") for s in specs)

    for seq_len in search:
        outcome = missing_or_solved(seq_len)
        if outcome is False and seq_len == search[0]:
            return _shorter(chain, search[0], missing_or_solved)
        if outcome is not True:
            return outcome or []
    return []


def _shorter(chain: Chain, start: int, missing_or_solved: Callable[[int], list[dict] | bool]) -> list[dict]:
    shortest = tasks.get(chain[0]).shortest
    seq_len = start // 2
    while seq_len >= shortest:
        outcome = missing_or_solved(seq_len)
        if outcome is not False:
            return [] if outcome is True else outcome
        seq_len //= 2
    return []


def run(
    chain_list: list[Chain],
    implementation_of: dict[str, str] | Chooser,
    seeds: int,
    settings_of: Callable[[str], dict],
    search: list[int],
    done: dict[str, dict],
    jobs: int = 1,
    timeout_s: float = scheduler.JOB_TIMEOUT_S,
    on_record: Callable[[dict], None] | None = None,
    runner: scheduler.Runner | None = None,
    environment: dict | None = None,
    pack: Packer | None = None,
) -> dict[str, dict]:
    """Search every chain on its cell's implementation (``implementation_of``: cell -> name, or a chooser
    per cell and length), ``jobs`` jobs
    at a time, each in a fresh process; ``done`` holds the finished records by key and gains the new ones.
    A job that crashes or times out counts as unsolved for this run (it is recorded, and a later run tries
    it again)."""
    outcomes = dict(done)

    if isinstance(implementation_of, dict):
        named = implementation_of
        implementation_of = lambda cell, seq_len: named[cell]  # noqa: E731

    def then(chain: Chain) -> list[dict]:
        return next_jobs(chain, implementation_of, seeds, settings_of(chain[0]), outcomes, search)

    def record(r: dict) -> None:
        outcomes[key(r)] = r
        if on_record:
            on_record(r)

    first = [(chain, s) for chain in chain_list for s in then(chain)]
    _train(first, then, done, jobs, timeout_s, record, runner, environment, pack)
    return outcomes


def grid(
    chain_list: list[Chain],
    implementations: list[str],
    seeds: int,
    settings_of: Callable[[str], dict],
    seq_lens: list[int],
) -> list[dict]:
    """Fixed points, no search: every chain at every length, per implementation and seed (the framework
    comparison)."""
    return [
        spec(chain, name, t, s, settings_of(chain[0]))
        for chain in chain_list
        for t in seq_lens
        for name in implementations
        for s in range(seeds)
    ]


def run_grid(
    specs: list[dict],
    done: dict[str, dict],
    jobs: int = 1,
    timeout_s: float = scheduler.JOB_TIMEOUT_S,
    on_record: Callable[[dict], None] | None = None,
    runner: scheduler.Runner | None = None,
    environment: dict | None = None,
    pack: Packer | None = None,
) -> dict[str, dict]:
    """Every spec not finished yet, ``jobs`` at a time."""
    todo = [(None, s) for s in specs if key(s) not in done]
    _train(todo, None, done, jobs, timeout_s, on_record, runner, environment, pack)
    return done


def _train(
    first: list[tuple[Any, dict]],
    then: Callable[[Any], list[dict]] | None,
    done: dict[str, dict],
    jobs: int,
    timeout_s: float,
    on_record: Callable[[dict], None] | None,
    runner: scheduler.Runner | None,
    environment: dict | None,
    pack: Packer | None = None,
) -> None:
    """Schedule the jobs (each through ``pack``, which may let runs train together); each becomes a capacity
    record, kept in ``done`` when finished and passed to ``on_record``."""
    if pack is not None:
        first = [(group, pack(s)) for group, s in first]
        if then is not None:
            given = then
            then = lambda group: [pack(s) for s in given(group)]  # noqa: E731

    def on_result(job: dict, result: dict) -> None:
        record = spec_mod.record(KIND, job, result, environment or {})
        if finished(record):
            done[key(record)] = record
        if on_record:
            on_record(record)

    scheduler.schedule(first, on_result, jobs, timeout_s, then, runner)


# ----- what the records say -----


def outcomes_by_point(
    records: Iterable[dict], label: Callable[[dict], str] | None = None
) -> dict[tuple, list[dict]]:
    """Finished records by (task, cell, init, ``label`` (the implementation and device by default),
    seq_len, settings), in seed order."""
    label = label or where
    points: dict[tuple, list[dict]] = {}
    for r in records:
        if r.get("kind") == "capacity" and finished(r):
            point = (r["task"], r["cell"], r.get("init", "default"), label(r), r["seq_len"], _settings(r))
            points.setdefault(point, []).append(r)
    return {p: sorted(rs, key=lambda r: r["seed"]) for p, rs in sorted(points.items(), key=str)}


def point_summary(records: list[dict]) -> dict[str, Any]:
    """One point's seeds: how many solved, at which steps, and the spread of test accuracy."""
    solved = [r for r in records if r.get("solved")]
    acc = [r["accuracy"] for r in records if r.get("accuracy") is not None]
    # a seed the test set passes at the end of its budget, though no validation check did, solved there
    steps = sorted(r.get("solved_step") or r.get("steps_run") or r["steps"] for r in solved)
    return {
        "seeds": len(records),
        "solved": len(solved),
        "fraction": len(solved) / len(records) if records else 0.0,
        "median_solve_step": statistics.median(steps) if steps else None,
        "solve_steps": steps,
        "accuracies": acc,
        "losses": [r["test_loss"] for r in records if r.get("test_loss") is not None],
        "accuracy_median": statistics.median(acc) if acc else None,
        "accuracy_min": min(acc) if acc else None,
        "accuracy_max": max(acc) if acc else None,
    }


def reach(records: Iterable[dict], by_implementation: bool = True) -> list[dict]:
    """Per task, cell, init, implementation (or, ``by_implementation=False``, device: the implementations
    it ran on are then listed) and settings: the longest length solved by at least half the seeds, the
    longest solved by any seed, the success fraction at each length tried, and whether the longest length
    tried was solved (``capped``: the search stopped at its limit, not at a failure)."""
    rows: dict[tuple, dict] = {}
    label = where if by_implementation else device_of
    for (task, cell, init, on, seq_len, settings), rs in outcomes_by_point(records, label).items():
        row = rows.setdefault(
            (task, cell, init, on, settings),
            {
                "task": task,
                "cell": cell,
                "init": init,
                "implementation": on,
                "settings": dict(zip(SETTINGS, settings, strict=True)),
                "by_length": {},
                "longest_half": None,
                "longest_any": None,
                "seeds": 0,
            },
        )
        s = point_summary(rs)
        s["implementations"] = sorted({where(r) for r in rs})
        row["by_length"][seq_len] = s
        row["seeds"] = max(row["seeds"], s["seeds"])
        if s["fraction"] >= 0.5:
            row["longest_half"] = max(row["longest_half"] or 0, seq_len)
        if s["solved"]:
            row["longest_any"] = max(row["longest_any"] or 0, seq_len)
    for row in rows.values():
        row["by_length"] = dict(sorted(row["by_length"].items()))
        if not by_implementation:
            row["implementation"] = ", ".join(
                dict.fromkeys(n for s in row["by_length"].values() for n in s["implementations"])
            )
        # solved at the longest length tried: the search was capped there, the reach may be longer
        row["capped"] = row["by_length"][max(row["by_length"])]["solved"] > 0
    return list(rows.values())


def search_rows(records: list[dict]) -> list[dict]:
    """The capacity search's reach rows, one per task, cell, init and settings. The search may run each
    length on another implementation (the cheapest there; their float64 trajectories agree); where a
    length was also trained on other implementations or devices (the framework comparison), the search's
    own are those of the implementation that ran the most of the chain's jobs."""
    searched = [r for r in records if searched_job(r) and finished(r)]
    per_chain: dict[tuple, dict[str, int]] = {}
    for r in searched:
        chain = (r["task"], r["cell"], r.get("init", "default"), _settings(r))
        per_chain.setdefault(chain, {}).setdefault(where(r), 0)
        per_chain[chain][where(r)] += 1
    kept = []
    for (task, cell, init, settings), counts in per_chain.items():
        at = [r for r in searched if (r["task"], r["cell"], r.get("init", "default")) == (task, cell, init)]
        at = [r for r in at if _settings(r) == settings]
        for seq_len in {r["seq_len"] for r in at}:
            here = [r for r in at if r["seq_len"] == seq_len]
            chosen = max({where(r) for r in here}, key=lambda name: (counts[name], name))
            kept += [{**r, "searched_on": where(r)} for r in here if where(r) == chosen]
    return reach(kept, by_implementation=False)


def searched_job(record: dict) -> bool:
    """A job of the search or of its framework comparison: not a throughput timing, not an anchor rerun."""
    return not record.get("throughput") and not record.get("anchor")


def _settings(record: dict) -> tuple:
    return tuple(record.get(k) for k in SETTINGS)


def _compared_points(records: list[dict]) -> dict[tuple, dict[str, list[dict]]]:
    """Points (task, cell, init, T, settings) trained on more than one implementation or device: the
    finished records of each, by ``where``."""
    by_point: dict[tuple, dict[str, list[dict]]] = {}
    for (task, cell, init, run, seq_len, settings), recs in outcomes_by_point(
        [r for r in records if searched_job(r)]
    ).items():
        by_point.setdefault((task, cell, init, seq_len, settings), {})[run] = recs
    return {point: runs for point, runs in by_point.items() if len(runs) > 1}


def framework_points(records: list[dict]) -> list[dict]:
    """Points (task, cell, init, T, settings) trained on more than one implementation: a row per
    implementation with its seeds' outcomes."""
    rows = []
    for (task, cell, init, seq_len, _), runs in _compared_points(records).items():
        for impl, recs in runs.items():
            s = point_summary(recs)
            rows.append(
                {
                    "task": task,
                    "cell": cell,
                    "init": init,
                    "T": seq_len,
                    "implementation": impl,
                    "seeds": s["seeds"],
                    "solved": s["solved"],
                    "median_solve_step": s["median_solve_step"],
                    "accuracy_median": s["accuracy_median"],
                    "accuracy_min": s["accuracy_min"],
                    "accuracy_max": s["accuracy_max"],
                }
            )
    return rows


def seed_agreement(records: list[dict]) -> list[dict]:
    """Per point trained on more than one implementation or device: over the seeds that several of them ran,
    how many outcomes (solved or not) agree with the majority at the same seed."""
    rows = []
    for (task, cell, init, seq_len, _), runs in _compared_points(records).items():
        by_run = {run: {r["seed"]: bool(r.get("solved")) for r in recs} for run, recs in runs.items()}
        agree = total = 0
        for seed in sorted({s for outcomes in by_run.values() for s in outcomes}):
            at_seed = [o[seed] for o in by_run.values() if seed in o]
            if len(at_seed) < 2:
                continue
            total += len(at_seed)
            agree += max(at_seed.count(True), at_seed.count(False))
        row = {"task": task, "cell": cell, "init": init, "T": seq_len, "runs": sorted(by_run)}
        rows.append({**row, "agree": agree, "outcomes": total})
    return rows
