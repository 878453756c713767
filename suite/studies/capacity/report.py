"""The capacity study's part of the report: its findings, its section and its plot."""

from __future__ import annotations

import statistics

import tasks as task_defs
from suite.records import device_of
from suite.report.loading import Results
from suite.report.machines import by_machine, machine
from suite.report.page import Finding, Report, listed, md_table, missing_finding, sources_of
from suite.report.style import (
    CELLS,
    INIT_COLOURS,
    Figure,
    legend,
    plt,
)
from suite.studies.capacity import STUDY, anchors
from suite.studies.capacity import search as capacity
from suite.studies.capacity.command import PLAN_HOURS
from suite.table import CELL_NAMES, fmt
from suite.training.spec import finished


def reach_text(row: dict) -> str:
    """A reach row's longest T solved by at least half the seeds ('>=' when the search was capped there), or
    '<' the shortest length tried."""
    if row["longest_half"] is not None:
        capped = row.get("capped") and row["longest_half"] == max(row["by_length"])
        return f"{'>=' if capped else ''}{row['longest_half']}"
    return f"<{min(row['by_length'])}"


def at_published_budget(row: dict) -> bool:
    """Whether a reach row trained at its task's published budget."""
    return capacity.at_published_budget(row["task"], row["settings"])


def budget_text(rows: list[dict]) -> str:
    """The budgets of reach rows, per task: e.g. ``adding 400,000 sequences (20,000 steps)``."""
    per_task = {r["task"]: r["settings"] for r in sorted(rows, key=lambda r: r["task"])}
    return ", ".join(
        f"{t} {s['steps'] * s['batch_size']:,} sequences ({s['steps']:,} steps)" for t, s in per_task.items()
    )


def capacity_findings(rows: list[dict], records: list[dict], command: str) -> list[Finding]:
    """Per task, the longest T solved by at least half the seeds, per cell and init, with the budget: the
    search at the published budgets first, then the one at 2000 steps it replaces."""
    if not rows:
        return [missing_finding("How far", "how-far-each-cell-reaches", "capacity search", command)]
    published = [r for r in rows if at_published_budget(r)]
    earlier = [r for r in rows if not at_published_budget(r)]
    found = [_reach_finding(published, records, True)] if published else []
    found += [_reach_finding(earlier, records, False)] if earlier else []
    return found + _agreement_findings(records)


def _reach_finding(rows: list[dict], records: list[dict], published: bool) -> Finding:
    parts, short = [], []
    for task in sorted({r["task"] for r in rows}):
        cells, defaults = [], []
        for cell in ("rnn", "lstm", "gru"):
            of = {r["init"]: r for r in rows if r["task"] == task and r["cell"] == cell}
            if "default" in of:
                best = max(of.values(), key=lambda r: r["longest_half"] or 0)
                better = (best["longest_half"] or 0) > (of["default"]["longest_half"] or 0)
                defaults.append(
                    f"{CELL_NAMES[cell]} {reach_text(of['default'])}"
                    + (f" ({best['init']} {reach_text(best)})" if better else "")
                )
            if of:
                inits = [i for i in ("default", "forget1", "chrono") if i in of]
                cells.append(
                    f"{CELL_NAMES[cell]} "
                    + "/".join(reach_text(of[i]) for i in inits)
                    + f" ({'/'.join(inits)})"
                )
        parts.append(f"{task}: " + ", ".join(cells))
        short.append(f"{task}: " + ", ".join(defaults))
    s = rows[0]["settings"]
    seeds = min(r["seeds"] for r in rows)
    if published:
        budget = f"at the published budgets ({budget_text(rows)}; batch {s['batch_size']})"
        question = "Longest T solved by half the seeds at the published budgets (default init; best init)?"
    else:
        budget = f"within {s['steps']} steps of batch {s['batch_size']} (the earlier budget)"
        question = f"Longest T solved by half the seeds in {s['steps']} steps (default init; best init)?"
    text = (
        f"**longest T solved by at least half of {seeds}+ seeds** {budget} (hidden {s['hidden_size']}, "
        f"{s['dtype']}): " + "; ".join(parts) + "."
    )
    for task in sorted({r["task"] for r in rows if r["longest_half"] is None}):
        text += " " + _unsolved_text(task, [r for r in rows if r["task"] == task], records)
    return Finding(question, text, "how-far-each-cell-reaches", sources_of(records), "; ".join(short))


def still_falling(record: dict) -> bool:
    """Whether a job's training loss still fell over the last tenth of its learning curve (by more than
    2 % against the tenth before): a budget, not a plateau, ended it."""
    losses = [v for _, v in record.get("learning_curve") or [] if v is not None]
    tenth = len(losses) // 10
    if tenth < 1:
        return False
    last, before = losses[-tenth:], losses[-2 * tenth : -tenth]
    return sum(last) / len(last) < 0.98 * sum(before) / len(before)


def _unsolved_text(task: str, rows: list[dict], records: list[dict]) -> str:
    """For a task some chain solved nothing of: its best test accuracy at the shortest length and how many
    of those jobs were still improving when their budget ended."""
    shortest = min(min(r["by_length"]) for r in rows)
    jobs = [
        r
        for r in records
        if r.get("task") == task
        and r.get("seq_len") == shortest
        and finished(r)
        and not r.get("anchor")
        and any(r.get("steps") == row["settings"]["steps"] for row in rows)
    ]
    if not jobs:
        return ""
    best = max(jobs, key=lambda r: r.get("accuracy") or 0)
    falling = sum(still_falling(r) for r in jobs)
    text = (
        f"{task} at T={shortest}: the best seed reached accuracy {best.get('accuracy', 0):.1%} "
        f"({CELL_NAMES[best['cell']]} {best.get('init', 'default')}; criterion: "
        f"{task_defs.get(task).criterion}); {falling} of {len(jobs)} jobs there were still improving over "
        "the last tenth of their budget"
    )
    return text + (": the budget, not a plateau, stopped them." if falling == len(jobs) else ".")


def _agreement_findings(records: list[dict]) -> list[Finding]:
    found = []
    agreement = capacity.seed_agreement(records)
    if agreement:
        agree, outcomes = sum(r["agree"] for r in agreement), sum(r["outcomes"] for r in agreement)
        runs = sorted({run for r in agreement for run in r["runs"]})
        text = (
            f"**the same seeds solve wherever they train**: at {len(agreement)} points trained on "
            f"{listed(runs)}, {agree} of {outcomes} outcomes (solved or not) agree with the majority at the "
            "same seed."
        )
        answer = f"{agree} of {outcomes} outcomes agree ({len(agreement)} points, {len(runs)} runs)"
        question = "Do the framework and the device change what is learned?"
        found.append(Finding(question, text, "how-far-each-cell-reaches", sources_of(records), answer))
    return found


def section_capacity(rep: Report, records: list[dict]) -> None:
    rows = capacity.search_rows(records)
    sources = sorted({r["source"] for r in records})
    if not rep.measured_section(
        "How far each cell reaches",
        f"{sum(1 for r in records if not r.get('throughput'))} training jobs: the longest T each cell solves "
        "per task and init, with the spread over seeds.",
        bool(rows),
        "capacity search",
        "capacity",
    ):
        return
    section_anchors(rep, records)
    rep.add("### The reach search")
    earlier = [r for r in rows if not at_published_budget(r)]
    rows = [r for r in rows if at_published_budget(r)] or earlier
    earlier = [] if rows is earlier else earlier
    s = rows[0]["settings"]
    budget = (
        f"at most its task's published budget ({budget_text(rows)})"
        if at_published_budget(rows[0])
        else f"at most {s['steps']} steps"
    )
    measured_on = sorted({machine(r) for r in records})
    start = min(min(r["by_length"]) for r in rows)
    searched = sorted({r["task"] for r in rows})
    criteria = "; ".join(f"{t}: {task_defs.get(t).criterion}" for t in searched)
    by_optimizer: dict[str, list[str]] = {}
    for task, row in {r["task"]: r for r in rows}.items():
        by_optimizer.setdefault(row["settings"]["optimizer"], []).append(task)
    optimizers = "; ".join(f"{o} on {', '.join(ts)}" for o, ts in by_optimizer.items())
    rep.add(
        f"Each task x cell x init is searched over lengths doubling from {start}; a length is passed when "
        "any seed solves it, the chain stops at the first length no seed solves (and halves down when the "
        f"first fails). Each job trains for {budget} of batch {s['batch_size']} (hidden "
        f"{s['hidden_size']}, {optimizers}, lr {s['lr']}, clip {s['clip']}, {s['dtype']}), checks "
        f"1,000 validation sequences every {s['eval_every']} steps and stops once they meet the task's "
        f"criterion and the test set confirms it ({criteria}). Each cell runs on the implementation whose "
        "typical job costs least on this CPU (the throughput table below): their float64 training "
        "trajectories agree, so the choice changes the cost, not the outcome. "
        f"Measured on {', '.join(measured_on)}; from " + ", ".join(rep.link(x) for x in sources) + "."
    )
    if at_published_budget(rows[0]):
        _search_cost(rep, records)
    rep.figure(capacity_vs_length(rows), "capacity", "test accuracy against T, per task, cell and init")
    rep.add("### Longest T solved, beside the published anchors")
    _reach_table(rep, rows)
    if earlier:
        steps, batch = earlier[0]["settings"]["steps"], earlier[0]["settings"]["batch_size"]
        rep.add(f"### The earlier search: {steps} steps a job")
        rep.add(
            f"The same search at the budget rnnbench used before it spent the papers' (every job {steps} "
            f"steps of batch {batch}, a tenth to a twenty-fifth of the published budgets)."
        )
        _reach_table(rep, earlier)
    compared = capacity.framework_points(records)
    if compared:
        rep.add("### Does the framework change the outcome?")
        rep.add(
            "The same points trained on several implementations, same seeds and batches: float32 rounding "
            "differs between frameworks, so trajectories part after enough steps; what matters is whether "
            "the distribution of outcomes moves."
        )
        rep.add(md_table(compared, list(compared[0])))
        for row in capacity.seed_agreement(records):
            rep.add(
                f"{row['task']} {CELL_NAMES[row['cell']]} {row['init']} at T={row['T']} "
                f"({', '.join(row['runs'])}): {row['agree']} of {row['outcomes']} outcomes agree with the "
                "majority at the same seed."
            )
    section_throughput(rep, [r for r in records if r.get("throughput")])


def _search_cost(rep: Report, records: list[dict]) -> None:
    """What the search at the published budgets has cost on the CPU, against the plan's limit, and what it
    has still to train (resumable), with its worst-case cost from the measured throughput."""
    hours = capacity.spent(records)
    cpu = _cpu_of(
        [r for r in records if capacity.searched_job(r) and capacity.at_published_budget(r["task"], r)]
    )
    if not hours or cpu is None:
        return
    earlier = capacity.SETTINGS["steps"] * capacity.SETTINGS["batch_size"]
    new = sum(h for t, h in hours.items() if task_defs.get(t).budget > earlier)
    per_task = ", ".join(f"{t} {h:.1f}" for t, h in sorted(hours.items()))
    text = (
        f"**What it cost.** The search's jobs at the published budgets took {sum(hours.values()):.1f} "
        f"core-hours ({per_task}: each job's wall time on its one core, once for the runs trained "
        f"together in it), {new:.1f} of them at the budgets that grew (the others' published budget is the "
        f"earlier search's {earlier:,} sequences), against the {PLAN_HOURS:g} core-hours planned for those "
        "on this machine."
    )
    throughput = [r for r in records if r.get("throughput")]
    left = capacity.queued(records, throughput, cpu)
    if left:
        known = [q["worst_hours"] for q in left if q["worst_hours"] is not None]
        text += (
            f" **Still to train** (`{STUDY.measures['capacity']}` resumes here, or a GPU: docs/gpu.md), "
            f"the next length of {len(left)} chains, {sum(known):.1f} core-hours on {cpu} if no seed stops "
            "early: "
            + "; ".join(
                f"{q['task']} {CELL_NAMES[q['cell']]} {q['init']} T={q['T']} ({q['seeds']} seeds"
                + (f", {q['worst_hours']:.2f} h)" if q["worst_hours"] is not None else ", cost unmeasured)")
                for q in left
            )
            + ". A chain that passes it goes on to the next length."
        )
    else:
        text += " Every chain has ended (at a length no seed solves, or at the longest length searched)."
    rep.add(text)


def _reach_table(rep: Report, rows: list[dict]) -> None:
    """The reach rows as the report's table, beside each task's published anchor."""
    table = [
        {
            **r,
            "budget": f"{r['settings']['steps'] * r['settings']['batch_size']:,}",
            "longest_T_half": reach_text(r),
            "longest_T_any": r["longest_any"] or f"<{min(r['by_length'])}",
            "solved_by_T": " ".join(
                f"{t}:{p['solved']}/{p['seeds']}" + (f"@{p['median_solve_step']:g}" if p["solved"] else "")
                for t, p in r["by_length"].items()
            ),
            "anchor": task_defs.get(r["task"]).anchor_text(r["cell"]),
        }
        for r in sorted(rows, key=lambda r: (r["task"], r["cell"], r["init"]))
    ]
    rep.add(
        "`budget`: training sequences a job may use; `longest_T_half`: solved by at least half the seeds "
        "(`>=`: the longest length the search tried, so the reach may be longer); `longest_T_any`: by any "
        "seed; `solved_by_T`: seeds solved / run at each length, with the median step the solved seeds met "
        "the criterion at. The anchors' budgets are in their text: set them against this search's before "
        "reading a difference as a disagreement (README, How far each cell reaches)."
    )
    columns = ["task", "cell", "init", "implementation", "budget", "longest_T_half", "longest_T_any"]
    rep.add(md_table(table, [*columns, "solved_by_T", "anchor"]))


def section_throughput(rep: Report, timed: list[dict]) -> None:
    """Per machine, the training step's milliseconds per implementation, cell and length, and the cheapest
    at each length (what a search there runs on); then the same at each anchor's own settings, timed
    apart (what its jobs run on)."""
    if not timed:
        return
    rep.add("### Training throughput, which chooses the implementation per cell and length")
    searched = [r for r in timed if not r.get("anchor")]
    if searched:
        r0 = searched[0]
        rep.add(
            f"One job at a time, one thread, {r0['steps']} training steps of the search's setting "
            f"(hidden {r0['hidden_size']}, batch {r0['batch_size']}) on the adding problem, whose loss "
            "reads the last step only; milliseconds per step, the first step (where a framework compiles) "
            "kept apart. Where an implementation trains several runs (seeds) in one compiled step (`N runs "
            "a step`: JAX's `jax.vmap`), milliseconds per run. A search job runs on the implementation whose "
            "first step plus 1000 steps cost least per run at its length (bold), with as many runs a step "
            "as that needs."
        )
    for where, recs in by_machine(searched).items():
        _denormals_line(rep, where, recs)
        rep.add(_timing_table(recs, None))
    for anchor in sorted({r["anchor"] for r in timed if r.get("anchor")}):
        for where, recs in by_machine([r for r in timed if r.get("anchor") == anchor]).items():
            r0 = recs[0]
            rep.add(
                f"At the settings of the anchor `{anchor}` ({r0['task']}, hidden {r0['hidden_size']}, batch "
                f"{r0['batch_size']}, {r0['optimizer']}), timed the same way: its jobs run on the cheapest "
                "(bold); a point with finished seeds stays on theirs."
            )
            _denormals_line(rep, where, recs)
            rep.add(_timing_table(recs, anchor))


def _timing_table(recs: list[dict], anchor: str | None) -> str:
    """One machine's timings (at the search's settings, or ``anchor``'s) as a table: per cell and
    implementation, milliseconds a run's step per length, the cheapest in bold."""
    lengths = sorted({r["seq_len"] for r in recs})
    cpu = recs[0]["environment"].get("cpu")
    cheapest, together = capacity.fastest(recs, cpu, anchor), capacity.together(recs, cpu, anchor)
    table: dict[tuple[str, str], dict] = {}
    for r in recs:
        runs = r.get("runs_per_step", 1)
        if r["seed"] >= 1 or (r["throughput"] is not True and runs == 1):
            continue  # runs timed together share one timing; stepped in turn, they time nothing new
        label = capacity.where(r) + (f", {runs} runs a step" if runs > 1 else "")
        row = table.setdefault((r["cell"], label), {"cell": r["cell"], "implementation": label})
        ms = f"{r['seconds_per_step'] / runs * 1e3:.3g}" if r.get("seconds_per_step") else r["status"]
        chosen = cheapest.get((r["cell"], r["seq_len"])) == r["implementation"]
        best_runs = together.get((r["implementation"], r["cell"], r["seq_len"]), 1)
        row[f"T={r['seq_len']}"] = f"**{ms}**" if chosen and runs == best_runs else ms
    rows = [table[k] for k in sorted(table, key=lambda k: (CELLS.index(k[0]), k[1]))]
    return md_table(rows, ["cell", "implementation", *(f"T={t}" for t in lengths)])


def _denormals_line(rep: Report, where: str, recs: list[dict]) -> None:
    """The machine, the results files, and what each implementation did with subnormals there."""
    denormals = sorted(
        {
            f"{r['implementation']} {r['environment']['denormals']}"
            for r in recs
            if r["environment"].get("denormals")
        }
    )
    rep.add(
        f"{where}, from {', '.join(rep.link(x) for x in sorted({r['source'] for r in recs}))}"
        + (f"; subnormals: {', '.join(denormals)}" if denormals else "; subnormals: not recorded")
        + "."
    )


def section_anchors(rep: Report, records: list[dict]) -> None:
    """The published anchors beside rnnbench's outcome at the same setting and budget."""
    rep.add("### The published anchors, rerun at their own settings")
    table = anchors.rows(records)
    if not table:
        rep.add(f"_Not rerun yet: `{STUDY.measures['capacity']} --anchors`._")
        return
    rep.add(
        "Each anchor at the setting its paper states (hidden size, batch, optimizer, clipping, init) and at "
        "its budget in sequences, 5 seeds, each job stopping once it meets the task's criterion; the GRU "
        "beside it where the paper has none. From "
        + ", ".join(rep.link(x) for x in sorted({r["source"] for r in records if anchors.is_run(r)}))
        + "."
    )
    rep.figure(
        anchors_figure(anchors.finished_runs(records)),
        "capacity_anchors",
        "the published anchors rerun: every seed's final test accuracy (MSE on adding) per cell, init and T",
    )
    columns = ["task", "source", "cell", "init", "T", "setting", "budget", "published", "seeds", "solved"]
    columns += ["median_solve_step", "solve_steps", "median_solve_sequences", "median_test_loss", "baseline"]
    rep.add(md_table(table, [*columns, "below_baseline", "implementations"]))
    rep.add(
        "`solve_steps`: the step each solved seed met the criterion at (how widely the moment a seed "
        "leaves the loss plateau varies); `baseline`: the task's memoryless loss (the best a model that "
        "remembers nothing can do); "
        "`below_baseline`: the seeds whose final test loss ended more than 5 % under it (learning "
        "something, if not solving: what Arjovsky et al. report for the LSTM on copy at T=100)."
    )
    _missing_anchors(rep, records)
    notes = {
        f"{a.source} ({task})": a.mapping
        for task in dict.fromkeys(r["task"] for r in table)
        for a in task_defs.get(task).anchors
        if a.lengths and a.mapping
    }
    rep.add(
        "Where a paper's setup and rnnbench's differ:\n\n"
        + "\n".join(f"- {k}: {v}" for k, v in notes.items())
    )


GPU_ANCHORS = (
    "rnnbench run capacity --anchors --tasks copy --at 500 --impls jax --device gpu --together 5 --jobs 4"
)


def _missing_anchors(rep: Report, records: list[dict]) -> None:
    """The anchor points short of their seeds, and the commands that finish them (resumable); for those
    queued for a GPU, a lower bound of their cost on this CPU."""
    gaps = anchors.missing(records)
    if not gaps:
        return
    cpu = [g for g in gaps if g["T"] < anchors.GPU_LENGTH]
    gpu = [g for g in gaps if g["T"] >= anchors.GPU_LENGTH]
    commands = [f"`{_cpu_command(cpu)}` (on this CPU)"] if cpu else []
    if gpu:
        commands.append(f"`{GPU_ANCHORS}` (T>={anchors.GPU_LENGTH}: meant for a GPU, docs/gpu.md)")
    text = (
        f"**Not complete yet** ({len(gaps)} points short of {anchors.SEEDS} finished seeds): "
        + "; ".join(
            f"{g['task']} {CELL_NAMES[g['cell']]} {g['init']} T={g['T']}"
            + (" (probe)" if g["probe"] else "")
            + f": {g['seeds']}/{anchors.SEEDS}"
            for g in gaps
        )
        + ". They finish, resuming from the committed records, with "
        + " and ".join(commands)
        + "."
    )
    cost = _cpu_hours(gpu, records)
    if cost is not None:
        hours, cpu, measured = cost
        runs = sum(anchors.SEEDS - g["seeds"] for g in gpu)
        how = (
            "the step time measured at the anchor's own settings"
            if measured
            else f"the search's throughput at hidden {capacity.SETTINGS['hidden_size']}, scaled to the "
            "length: a larger hidden size costs more"
        )
        text += (
            f" On {cpu} the {runs} runs left at T>={anchors.GPU_LENGTH} would take "
            f"{'about' if measured else 'at least'} {hours:.0f} core-hours ({gpu[0]['steps']:,} steps each; "
            f"{how}): `{_cpu_command(gpu)}` runs them there, resumable, finished runs kept"
            + ("." if measured else f", after `{_cpu_command(gpu, timing=True)}` times their settings.")
        )
    rep.add(text)


def _cpu_command(gaps: list[dict], timing: bool = False) -> str:
    """The command that trains the missing anchor points ``gaps`` on this CPU (or times their settings)."""
    tasks_ = ",".join(dict.fromkeys(g["task"] for g in gaps))
    lengths = ",".join(str(t) for t in sorted({g["T"] for g in gaps}))
    if timing:
        return f"rnnbench run capacity --throughput --anchors --tasks {tasks_} --at {lengths}"
    return f"rnnbench run capacity --anchors --tasks {tasks_} --at {lengths} --seeds {anchors.SEEDS} --jobs 2"


def _cpu_of(records: list[dict]) -> str | None:
    """The CPU most of the training records (not the throughput timings) ran on."""
    cpus = [r["environment"].get("cpu") for r in records if r.get("environment") and not r.get("throughput")]
    return max(sorted(set(cpus)), key=cpus.count) if cpus else None


def _cpu_hours(gaps: list[dict], records: list[dict]) -> tuple[float, str, bool] | None:
    """One core's hours the missing seeds of ``gaps`` would take on the CPU most records ran on, that CPU,
    and whether every step time came from the anchors' own settings (:func:`_step_seconds`; else some are
    the search's, a lower bound); None where nothing was measured for one of them."""
    cpu = _cpu_of([r for r in records if anchors.is_run(r)]) or _cpu_of(records)
    if not gaps or cpu is None:
        return None
    steps = [_step_seconds(g, records, cpu) for g in gaps]
    if any(s is None for s, _ in steps):
        return None
    hours = sum(
        (anchors.SEEDS - g["seeds"]) * g["steps"] * s / 3600 for g, (s, _) in zip(gaps, steps, strict=True)
    )
    return hours, cpu, all(own for _, own in steps)


def _step_seconds(gap: dict, records: list[dict], cpu: str) -> tuple[float | None, bool]:
    """Seconds one run's training step at a missing anchor point takes on ``cpu``, and whether measured at
    the anchor's settings: the median of its finished runs there (any init: the cost is the same), else the
    throughput timed at its settings, else the search's (hidden 50: a lower bound)."""
    ran = [
        r["seconds_per_step"] / r.get("runs_per_step", 1)
        for r in records
        if anchors.is_run(r)
        and r["anchor"] == gap["anchor"]
        and (r["cell"], r["seq_len"]) == (gap["cell"], gap["T"])
        and finished(r)
        and r.get("seconds_per_step")
        and r["environment"].get("cpu") == cpu
        and device_of(r) == "cpu"
    ]
    if ran:
        return statistics.median(ran), True
    throughput = [r for r in records if r.get("throughput")]
    names = sorted({r["implementation"] for r in throughput})
    if not names:
        return None, False
    at = capacity.measured_at(throughput, cpu, gap["anchor"])
    name = capacity.searched_on(throughput, cpu, names, at)[0](gap["cell"], gap["T"])
    # timed on the anchor's own task, its lengths compare directly; the search's, on adding, in time steps
    steps_long = gap["T"] if at else capacity.time_steps(gap["task"], gap["T"])
    return capacity.step_seconds(throughput, cpu, name, gap["cell"], steps_long, at), at is not None


def anchors_figure(records: list[dict]) -> Figure | None:
    """The anchors rerun, a panel per task: per cell, init and T (those the paper ran first), every seed's
    final test accuracy (test MSE on the adding problem), the seeds solved out of those run above it, the
    task's solve line and its chance (or baseline) level."""
    task_names = [t for t in capacity.TASKS if any(r["task"] == t for r in records)]
    if not task_names:
        return None
    columns = min(2, len(task_names))
    rows_ = -(-len(task_names) // columns)
    crowded = max(
        len({(r["cell"], r.get("init"), r["seq_len"], r["anchor"]) for r in records if r["task"] == t})
        for t in task_names
    )
    width = max(6.5, 0.6 * crowded)  # room for each point's three-line label
    fig, grid = plt.subplots(rows_, columns, figsize=(width * columns, 3.8 * rows_), squeeze=False)
    fig.suptitle(
        "the published anchors at their papers' settings and budgets (dots: seeds; k/n: seeds solved)"
    )
    for ax, task in zip(grid.flat, task_names, strict=False):
        definition = task_defs.get(task)
        regression = definition.loss == "mse_last"
        points: dict[tuple, list[dict]] = {}
        for r in records:
            if r["task"] == task:
                probe = "probe" if anchors.anchor_of(r["anchor"]).probe else ""
                points.setdefault(
                    (CELLS.index(r["cell"]), r.get("init", "default"), r["seq_len"], probe), []
                ).append(r)
        for x, ((_, init, _, _), recs) in enumerate(sorted(points.items())):
            values = [r["test_loss"] if regression else r["accuracy"] for r in recs]
            values = [v for v in values if v is not None]
            colour_ = INIT_COLOURS.get(init, "black")
            ax.scatter([x] * len(values), values, s=14, color=colour_, alpha=0.7)
            solved = sum(bool(r.get("solved")) for r in recs)
            top = max(values) if values else 0
            ax.annotate(
                f"{solved}/{len(recs)}",
                (x, top),
                textcoords="offset points",
                xytext=(0, 5),
                ha="center",
                fontsize=7,
                color=colour_,
            )
        labels = [
            f"{CELL_NAMES[CELLS[c]]}\n{i}\nT={t}" + (f"\n{p}" if p else "") for c, i, t, p in sorted(points)
        ]
        ax.set_xticks(range(len(labels)), labels, fontsize=7)
        ax.set_xlim(-0.7, len(labels) - 0.3)
        if regression:
            ax.axhline(definition.solved_below, color="green", ls="--", lw=0.8, label="solved below")
            ax.axhline(definition.baseline(1), color="grey", ls=":", lw=0.8, label="baseline")
            ax.set(yscale="log", ylabel="test MSE")
        else:
            ax.axhline(definition.solved_above, color="green", ls="--", lw=0.8, label="solved above")
            ax.axhline(definition.chance, color="grey", ls=":", lw=0.8, label="chance")
            ax.set(ylim=(0, 1.1), ylabel="test accuracy")
        ax.set_title(task)
        ax.grid(True, axis="y", alpha=0.3)
        legend(ax)
    for ax in list(grid.flat)[len(task_names) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def capacity_vs_length(
    rows: list[dict], title: str = "how far each cell reaches (dots: seeds; k/n: seeds solved at that T)"
) -> Figure | None:
    """The capacity search's outcome against T, a row of panels per task and a panel per cell, the inits
    overlaid: every seed as a dot, the median joined, the min-max band shaded, the seeds solved out of those
    run written at each length. Classification tasks show test accuracy (solve line at 0.99, chance
    dotted); the adding problem, a regression, its test MSE (solved below 0.01, baseline 1/6).
    ``rows``: suite.studies.capacity.search.reach rows."""
    task_names = [t for t in capacity.TASKS if any(r["task"] == t for r in rows)]
    cells = [c for c in CELLS if any(r["cell"] == c for r in rows)]
    if not task_names:
        return None
    fig, grid = plt.subplots(
        len(task_names), len(cells), figsize=(5.0 * len(cells), 3.6 * len(task_names)), squeeze=False
    )
    fig.suptitle(title)
    for axes, task in zip(grid, task_names, strict=True):
        regression = task_defs.get(task).loss == "mse_last"
        field = "losses" if regression else "accuracies"
        for ax, cell in zip(axes, cells, strict=True):
            lengths_tried: set[int] = set()
            for row in (r for r in rows if r["task"] == task and r["cell"] == cell):
                colour_ = INIT_COLOURS.get(row["init"], "black")
                ts = [t for t, p in row["by_length"].items() if p[field]]
                lengths_tried.update(ts)
                values = [row["by_length"][t][field] for t in ts]
                label = f"{row['init']} ({row['implementation']})"
                ax.plot(ts, [statistics.median(v) for v in values], "-", color=colour_, label=label)
                ax.fill_between(
                    ts, [min(v) for v in values], [max(v) for v in values], color=colour_, alpha=0.1
                )
                for t, v in zip(ts, values, strict=True):
                    p = row["by_length"][t]
                    ax.scatter([t] * len(v), v, s=8, color=colour_, alpha=0.6)
                    ax.annotate(
                        f"{p['solved']}/{p['seeds']}",
                        (t, max(v) if not regression else min(v)),
                        textcoords="offset points",
                        xytext=(0, 5 if not regression else -11),
                        ha="center",
                        fontsize=7,
                        color=colour_,
                    )
            definition = task_defs.get(task)
            if regression:
                solved, baseline = definition.solved_below, definition.baseline(1)
                ax.axhline(solved, color="green", ls="--", lw=0.8, label=f"solved below {solved:g}")
                ax.axhline(baseline, color="grey", ls=":", lw=0.8, label=f"baseline {baseline:.3g}")
                ax.set(yscale="log", ylabel="test MSE")
            else:
                solved, chance = definition.solved_above, definition.chance
                ax.axhline(solved, color="green", ls="--", lw=0.8, label=f"solved above {solved:g}")
                ax.axhline(chance, color="grey", ls=":", lw=0.8, label=f"chance {chance:.3g}")
                ax.set(ylim=(0, 1.08), ylabel="test accuracy")
            if lengths_tried:
                ax.set_xscale("log", base=2)
                ticks = sorted(lengths_tried)
                ax.set_xticks(ticks, [str(t) for t in ticks])
                ax.set_xlim(min(ticks) / 1.4, max(ticks) * 1.4)
            ax.set(title=f"{task}: {CELL_NAMES[cell]}", xlabel="T (steps)")
            ax.grid(True, which="both", alpha=0.3)
            legend(ax)
    fig.tight_layout()
    return fig


def findings(results: Results) -> list[Finding]:
    records = results.of("capacity")
    found = capacity_findings(capacity.search_rows(records), records, STUDY.measures["capacity"])
    return [*anchor_findings(records), *found]


def anchor_findings(records: list[dict]) -> list[Finding]:
    """How many seeds solve each published anchor point at the paper's own setting and budget; the GRU
    beside them; the probes of a difference; other inits stay in the table."""
    table = anchors.rows(records)
    papers = [
        r
        for r in table
        if r["paper_init"] and not r["probe"] and not r["published"].startswith("no published")
    ]
    if not papers:
        return []
    gru = [r for r in table if r["cell"] == "gru" and r["paper_init"]]
    probes = [r for r in table if r["probe"]]

    def short(r: dict) -> str:
        return f"{r['task']} {CELL_NAMES[r['cell']]} {r['init']} T={r['T']}: {r['solved']}/{r['seeds']}" + (
            f" ({r['below_baseline']}/{r['seeds']} below the memoryless baseline)"
            if not r["solved"] and r.get("below_baseline")
            else ""
        )

    def long(r: dict) -> str:
        return (
            f"{r['task']} {CELL_NAMES[r['cell']]} {r['init']} T={r['T']} ({r['source']}; {r['budget']}): "
            f"{r['solved']}/{r['seeds']}"
            + (f", solved at steps {r['solve_steps']}" if r["solved"] else "")
            + (
                f", {r['below_baseline']}/{r['seeds']} below the memoryless baseline (median loss "
                f"{fmt(r['median_test_loss'])} against {fmt(r['baseline'])})"
                if not r["solved"] and r.get("below_baseline") is not None
                else ""
            )
        )

    text = "**the published anchors, rerun at their own settings and budgets** (seeds solved): " + "; ".join(
        long(r) for r in papers
    )
    parts = [short(r) for r in papers]
    if gru:
        text += ". **The GRU beside them** (no published anchor): " + "; ".join(long(r) for r in gru)
        parts.append("GRU: " + ", ".join(short(r) for r in gru))
    if probes:
        text += ". **Probes of a difference**: " + "; ".join(long(r) for r in probes)
        parts += [f"probe, {r['source'].rpartition(', ')[2]}: {short(r)}" for r in probes]
    sources = sorted({r["source"] for r in records if anchors.is_run(r)})
    question = "Do the published anchors reproduce at their own budgets?"
    return [Finding(question, text + ".", "how-far-each-cell-reaches", sources, "; ".join(parts))]


def sections(page: Report, results: Results) -> None:
    section_capacity(page, results.of("capacity"))
