"""Build report.md, a self-contained report.html and the PNG plots from a results folder. It only reads
results: nothing is rerun."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from suite import accuracy, capacity, gradients, profiles, stability
from suite.analysis import best_implementations, per_step_costs, projection_rows, seq_slopes
from suite.check import which_test
from suite.records import benchmark_key, device_of
from suite.report import findings, plots
from suite.report.html import slug, to_html
from suite.report.loading import Results, load_results
from suite.report.machines import by_machine, machine, side_by_side
from suite.table import CELL_NAMES, fmt
from suite.workloads import POINTS, describe_point

COMMANDS = {
    "check": "python -m suite check --json results/check-cpu.json",
    "speed": "python -m suite run speed --profile full",
    "memory": "python -m suite run memory --profile full",
    "accuracy": "python -m suite run accuracy --task adding --profile full",
    "history": "python -m suite track BENCHMARK.json (see README, Regression tracking)",
    "ab": "python -m suite ab BASE --json results/ab/latest.json",
    "gradients": "python -m suite run gradients --init default,forget1,chrono",
    "capacity": "python -m suite run capacity --jobs 2",
}


def md_table(rows: list[dict], columns: Sequence[str]) -> str:
    """A Markdown table."""
    if not rows:
        return ""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c)).replace("|", "/") for c in columns) + " |" for r in rows]
    return "\n".join(lines)


class Report:
    """Markdown text with figures saved beside it."""

    def __init__(self, out: Path, folder: Path | None = None) -> None:
        self.out = out
        self.folder = folder or out
        self.parts: list[str] = []
        self.figures: list[str] = []
        self.sections: list[str] = []

    def add(self, text: str) -> None:
        self.parts.append(text)

    def section(self, title: str, gist: str) -> None:
        """A top-level section; ``gist`` is the line it shows when collapsed."""
        self.sections.append(title)
        self.add(f"## {title}\n\n> {gist}")

    def measured_section(self, title: str, gist: str, measured: bool, what: str, kind: str) -> bool:
        """A section of a measurement; when nothing was measured, one that says which command measures it.
        Returns ``measured``."""
        self.section(title, gist if measured else "not measured.")
        if not measured:
            self.missing(what, kind)
        return measured

    def link(self, source: str) -> str:
        """A Markdown link to a results file, relative to where the report is written."""
        return f"[{source}]({Path(os.path.relpath(self.folder / source, self.out)).as_posix()})"

    def missing(self, what: str, kind: str) -> None:
        self.add(f"_Not measured: no {what} in the results. Measure it with `{COMMANDS[kind]}`._")

    def figure(self, fig, name: str, caption: str) -> None:
        if fig is None:
            return
        path = self.out / f"{name}.png"
        fig.savefig(path, dpi=110)
        plots.plt.close(fig)
        self.figures.append(path.name)
        self.add(f"![{caption}]({path.name})")

    def markdown(self) -> str:
        return "\n\n".join(self.parts) + "\n"


def section_environment(rep: Report, results: Results) -> None:
    machines = sorted({machine(r) for recs in results.by_kind.values() for r in recs})
    rep.section(
        "Where and when",
        f"{len(results.files)} results files from {len(machines)} machines: {'; '.join(machines)}.",
    )
    rep.add("Every figure above comes from these files; each record carries this block.")
    rows = []
    for name, env in results.files.items():
        versions = env.get("versions", {})
        rows.append(
            {
                "file": rep.link(name),
                "kinds": ", ".join(env["kinds"]),
                "machine": env.get("cpu"),
                "cores": env.get("cores"),
                "threads": env.get("threads"),
                "gpu": ", ".join(env.get("gpus") or []) or "none",
                "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
                "commit": str(env.get("git_commit", ""))[:12],
                "date": env.get("date"),
            }
        )
    rep.add(
        md_table(rows, ["file", "kinds", "machine", "cores", "threads", "gpu", "versions", "commit", "date"])
    )


def section_equivalence(rep: Report, records: list[dict]) -> None:
    skipped = [r for r in records if r["status"] == "skip"]  # combinations an implementation does not declare
    records = [r for r in records if r["status"] != "skip"]
    rows_ = [r for r in records if which_test(r) != "round_trip"]
    trips = {_check_case(r): r for r in records if which_test(r) == "round_trip"}
    failed = [r for r in records if r["status"] != "pass"]
    if not rep.measured_section(
        "Equivalence",
        f"{len(records) - len(failed)} of {len(records)} checks pass"
        + (f" ({len(skipped)} skipped: combinations not declared)." if skipped else "."),
        bool(records),
        "equivalence check",
        "check",
    ):
        return
    rep.add(
        "Max relative error (max|a-b| / max|ref|) against the NumPy float64 reference, both computing from "
        "weights the check draws itself (seeded, saturating every gate somewhere) and loads through "
        "`set_params`; the rows with path `finite differences` check the reference's own backward. "
        "`get_params`: whether the implementation then returned exactly (bitwise) the weights it was given, "
        "a row of the check of its own (`not checked`: a record from before the check drew its own "
        "weights, whose reference computed from the weights the implementation reported)."
    )
    rows = []
    for r in rows_:
        errors = r.get("errors", {})
        grads = [v for k, v in errors.items() if k.startswith("d_")]
        rows.append(
            {
                **r,
                "machine": machine(r),
                "outputs": errors.get("y"),
                "states": max([v for k, v in errors.items() if k in ("h_n", "c_n")], default=None),
                "gradients": max(grads, default=r.get("max_error") if not errors else None),
                "max": r.get("max_error"),
                "get_params": _round_trip(r, trips),
            }
        )
    columns = ["implementation", "cell", "dtype", "machine", "path", "outputs", "states", "gradients", "max"]
    rep.add(md_table(rows, [*columns, "tolerance", "status", "get_params"]))
    rep.add(f"**{len(records) - len(failed)} of {len(records)} rows pass.**")
    if skipped:
        why = sorted({f"{r['implementation']} ({r.get('message', '')})" for r in skipped})
        rep.add(f"Skipped, {len(skipped)} rows: " + "; ".join(why) + ".")


def _check_case(record: dict) -> tuple:
    return (
        record.get("source"),
        record.get("implementation"),
        record["cell"],
        record["dtype"],
        machine(record),
    )


def _round_trip(record: dict, trips: dict[tuple, dict]) -> str:
    """The get_params column of one function row."""
    if which_test(record) != "function":
        return ""
    trip = trips.get(_check_case(record))
    if trip is None:
        return "not checked"
    if trip["status"] == "pass":
        return "exact"
    if trip["status"] == "fail":
        return f"differs ({trip.get('worst') or trip.get('message')})"
    return trip["status"]


def _runs(records: list[dict]) -> list[tuple[str, str, list[dict]]]:
    """(file, device, records) per results file and device: CPU first, so CPU and GPU sit side by side."""
    keys = sorted({(r["source"], r["device"]) for r in records}, key=lambda k: (k[1] != "cpu", k[0]))
    return [
        (src, dev, [r for r in records if r["source"] == src and r["device"] == dev]) for src, dev in keys
    ]


def section_speed(rep: Report, records: list[dict]) -> None:
    runs = _runs(records)
    if not rep.measured_section(
        "Speed",
        f"{_count(len(runs), 'run')} on {_count(len(by_machine(records)), 'machine')}; per run: the "
        "reference points, which implementation to use, time against sequence length, per-step overhead.",
        bool(records),
        "speed results",
        "speed",
    ):
        return
    failed = [r for r in records if r.get("status") != "ok"]
    for source, device, recs in runs:
        name = Path(source).stem
        rep.add(f"### {machine(recs[0])}: {source}")
        rep.add(f"From {rep.link(source)}.")
        rep.figure(plots.fastrnns_point(recs, device), f"{name}_fastrnns", f"fastrnns point on {device}")
        rep.figure(plots.fastrnns_point(recs, device, "small"), f"{name}_small", f"small point on {device}")
        choice = best_implementations(recs)
        if any(r["others"] for r in choice):
            rep.add(
                "Which implementation to use: per framework, point, cell and mode, the fastest "
                "implementation measured in this run, its share of the run's GEMM peak, and how much slower "
                "the framework's other implementations are."
            )
            rep.add(
                md_table(
                    [{**r, "efficiency": _percent(r["efficiency"])} for r in choice],
                    ["framework", "point", "cell", "mode", "best", "median_ms", "efficiency", "others"],
                )
            )
        pairs = projection_rows(recs)
        if pairs:
            rep.add(
                "Where the input projection goes, where a framework lets you choose: `hoisted`, every "
                "step's input matmul in one GEMM before the loop (cuDNN's form); `in_step`, a matmul per "
                "step inside it (what a cell called in a loop does). `hoisting_x`: the in-step time over "
                "the hoisted one (above 1: hoisting is faster), measured in this run."
            )
            columns = ["framework", "point", "cell", "mode", "hoisted", "hoisted_ms", "in_step", "in_step_ms"]
            rows = [
                {**r, "hoisting_x": f"{r['hoisting_x']:.2f}" + (" (unstable)" if r["unstable"] else "")}
                for r in pairs
            ]
            rep.add(md_table(rows, [*columns, "hoisting_x"]))
        rep.figure(plots.speed_vs_length(recs, device), f"{name}_vs_length", f"time against T on {device}")
        point = [r for r in recs if r.get("group") == "fastrnns" and r.get("status") == "ok"]
        best = {}
        for r in point:
            key = (r["cell"], r["mode"])
            best[key] = min(best.get(key, float("inf")), r["median_s"])
        rows = [
            {
                **r,
                "median_ms": r["median_s"] * 1e3,
                "IQR_ms": r["iqr_s"] * 1e3,
                "vs_fastest": f"{r['median_s'] / best[(r['cell'], r['mode'])]:.2f}x",
                "efficiency": f"{r.get('efficiency', 0):.0%}",
                "GFLOP/s": f"{r['gflops']:.0f}" if r.get("gflops") else None,
                "first_call_s": r["first_call_s"],
                "timing": f"UNSTABLE ({stability.describe(r)})" if stability.is_unstable(r) else "stable",
            }
            for r in point
        ]
        rep.add(f"fastrnns point ({describe_point('fastrnns')}):")
        rep.add(
            md_table(
                rows,
                [
                    "implementation",
                    "cell",
                    "mode",
                    "path",
                    "median_ms",
                    "IQR_ms",
                    "vs_fastest",
                    "GFLOP/s",
                    "efficiency",
                    "first_call_s",
                    "timing",
                ],
            )
        )
        timed = [r for r in recs if r.get("status") == "ok"]
        shaky = [r for r in timed if stability.is_unstable(r)]
        if shaky:
            named = ", ".join(f"`{benchmark_key(r)}`" for r in shaky)
            rep.add(
                f"**{len(shaky)} of {len(timed)} timings in this run are unstable** (IQR over "
                f"{stability.MAX_REL_IQR:.0%} of the median, or the rounds' halves {stability.MAX_DRIFT:.0%} "
                f"apart): drawn hollow, marked in the tables, left out of the findings: {named}."
            )
        slow = _more_than_twice(recs)
        rep.add(
            f"Sizes where an implementation is more than 2x slower than the fastest: {len(slow)}."
            if slow
            else "Every implementation is within 2x of the fastest at every size measured."
        )
        rep.add(md_table(slow, ["implementation", "cell", "mode", "T", "batch", "hidden", "vs_fastest"]))
        steps = per_step_costs(recs)
        if steps:
            r0 = next(r for r in recs if r.get("group") == "seq_sweep")
            rep.add(
                f"Cost per time step on the sequence sweep (batch {r0['batch']}, hidden {r0['hidden_size']}; "
                "a straight-line fit of time against T) beside the time the step's FLOPs need at the "
                "measured GEMM peak. `overhead_x` far above 1 means per-step overhead (dispatch, loop "
                "machinery), not arithmetic, sets the speed at small sizes: this is what puts an adapter "
                "over 2x the fastest there."
            )
            rep.add(
                md_table(
                    steps,
                    ["implementation", "cell", "mode", "per_step_us", "flop_time_us", "overhead_x"]
                    + ["fixed_ms"],
                )
            )
        slopes = seq_slopes(recs, "median_s")
        if slopes:
            rep.add("Log-log slope of time against T over the sequence sweep (1 = linear):")
            rep.add(md_table(slopes, ["implementation", "cell", "mode", "T", "slope"]))
    if failed:
        rep.add(md_table(failed, ["implementation", "cell", "mode", "seq_len", "status", "error"]))


def _more_than_twice(records: list[dict]) -> list[dict]:
    """The sizes where an implementation is more than 2x slower than the fastest there."""
    ok = [r for r in records if r.get("status") == "ok"]
    best: dict[tuple, float] = {}
    for r in ok:
        key = (r["cell"], r["mode"], r["seq_len"], r["batch"], r["input_size"], r["hidden_size"])
        best[key] = min(best.get(key, float("inf")), r["median_s"])
    rows = []
    for r in ok:
        key = (r["cell"], r["mode"], r["seq_len"], r["batch"], r["input_size"], r["hidden_size"])
        ratio = r["median_s"] / best[key]
        if ratio > 2:
            rows.append(
                {
                    **r,
                    "T": r["seq_len"],
                    "hidden": r["hidden_size"],
                    "vs_fastest": f"{ratio:.1f}x",
                }
            )
    return sorted(rows, key=lambda r: (r["implementation"], r["cell"], r["mode"], r["seq_len"]))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _percent(value: float | None) -> str | None:
    return f"{value:.0%}" if value is not None else None


def section_memory(rep: Report, records: list[dict]) -> None:
    if not rep.measured_section(
        "Memory",
        f"{_count(len(_runs(records)), 'run')} on {_count(len(by_machine(records)), 'machine')}; peak "
        "against the analytic size.",
        bool(records),
        "memory results",
        "memory",
    ):
        return
    rep.add(
        "Peak of one call after a warm-up: on the CPU the rise of the resident set's high-water "
        "mark, in a fresh process per job; beside it the analytic size of the activations the call must "
        "keep. An allocator that keeps memory from the warm-up (TensorFlow's on the CPU) shows less than "
        "it uses; the first call's peak, compilation included, is in the results file. On a GPU: the "
        "framework allocator's peak."
    )
    for source, device, recs in _runs(records):
        rep.add(f"### {machine(recs[0])}: {source}")
        rep.add(f"From {rep.link(source)}.")
        name = Path(source).stem
        rep.figure(
            plots.memory_vs_length(recs, device), f"{name}_vs_length", f"peak memory against T on {device}"
        )
        point = [r for r in recs if r.get("group") == "fastrnns" and r.get("status") == "ok"]
        rows = [
            {
                **r,
                "peak_MiB": r["peak_bytes"] / 2**20,
                "first_call_MiB": (r.get("first_call_peak_bytes") or 0) / 2**20,
                "analytic_MiB": r["analytic_bytes"] / 2**20,
            }
            for r in point
        ]
        rep.add(f"fastrnns point on {device}:")
        columns = ["implementation", "cell", "mode", "peak_MiB", "first_call_MiB", "analytic_MiB"]
        rep.add(md_table(rows, columns))
        slopes = seq_slopes(recs, "peak_bytes")
        if slopes:
            rep.add("Log-log slope of peak memory against T:")
            rep.add(md_table(slopes, ["implementation", "cell", "mode", "T", "slope"]))


def section_accuracy(rep: Report, records: list[dict]) -> None:
    tasks = sorted({r["task"] for r in records})
    if not rep.measured_section(
        "Learning long dependencies",
        f"tasks {', '.join(tasks)}: test loss and accuracy against T, learning curves.",
        bool(records),
        "accuracy results",
        "accuracy",
    ):
        return
    for task in sorted({r["task"] for r in records}):
        groups = profiles.settings_groups(records, task)
        full = profiles.training_settings_of(profiles.training("full", task))
        main_settings = groups[0][0]
        for settings, recs in groups:
            what = profiles.describe_settings(settings)
            rep.add(f"### {task}: {what}" + (" (the full profile)" if settings == full else ""))
            rep.add("From " + ", ".join(rep.link(s) for s in sorted({r["source"] for r in recs})) + ".")
            name = settings_name(task, settings, main_settings)
            rep.figure(
                plots.accuracy_vs_length(recs, task), f"accuracy_{name}", f"{task}: test loss against T"
            )
            rep.figure(plots.learning_curves(recs, task), f"curves_{name}", f"{task}: learning curves")
            rep.add(md_table(accuracy.table_rows(recs), accuracy.TABLE_COLUMNS))
        if len(groups) > 1:
            varying = [
                i for i, k in enumerate(profiles.TRAINING_SETTINGS) if len({s[i] for s, _ in groups}) > 1
            ]
            labelled = {
                ", ".join(f"{profiles.TRAINING_SETTINGS[i]} {s[i]}" for i in varying): recs
                for s, recs in groups
            }
            rep.add(f"### {task}: the settings compared")
            rep.figure(
                plots.settings_compared(labelled, task),
                f"settings_{task}",
                f"{task}: learning curves under each setting",
            )


def settings_name(task: str, settings: tuple, main_settings: tuple) -> str:
    """A file-name stem for one settings group: the task, then each setting that differs from the main run."""
    changed = [
        f"{k}{v}"
        for k, v, m in zip(profiles.TRAINING_SETTINGS, settings, main_settings, strict=True)
        if v != m
    ]
    return "_".join([task, *changed])


def section_history(rep: Report, folder: Path) -> None:
    from suite.compare import default_threshold
    from suite.tracking import detect_steps, read_history

    files = sorted((folder / "history").glob("*.jsonl"))
    if not rep.measured_section(
        "Regression history",
        f"{len(files)} tracked machines (medians over time, steps detected).",
        bool(files),
        "tracking history",
        "history",
    ):
        return
    for path in files:
        runs = read_history(path)
        keys = sorted({k for run in runs for k in run.get("medians", {})})
        steps = {
            k: detect_steps([run["medians"].get(k) or 0 for run in runs], default_threshold()) for k in keys
        }
        rep.add(f"{path.stem}: {len(runs)} tracked runs, {sum(map(len, steps.values()))} detected steps.")
        rep.figure(plots.history_trends(runs, steps), f"history_{path.stem}"[:80], f"trend on {path.stem}")


def section_machines(rep: Report, speed: list[dict], memory: list[dict]) -> None:
    machines = sorted(set(by_machine(speed)) | set(by_machine(memory)))
    rep.section(
        "Machines side by side",
        f"{len(machines)} machines: {'; '.join(machines)}." if machines else "not measured.",
    )
    if len(machines) < 2:
        rep.add(
            "_Only one machine in the results: nothing to set side by side. Runs from another machine "
            "(a GPU with `python -m suite gpu`, another CPU) copied into `results/` appear here._"
        )
        return
    rep.add(
        "Where machines measured the same thing: each machine's figures come from one run of its own, and "
        "speed is also shown as the share of that machine's own measured GEMM peak (same dtype), the "
        "figure that compares across machines."
    )
    for point in POINTS:
        rows, columns = side_by_side(speed, point, "speed")
        if rows:
            rep.add(f"### Speed at the {point} point ({describe_point(point)})")
            rep.add(md_table(rows, ["implementation", "cell", "mode", *columns]))
    rows, columns = side_by_side(memory, "fastrnns", "memory")
    if rows:
        rep.add("### Memory at the fastrnns point")
        rep.add(md_table(rows, ["implementation", "cell", "mode", *columns]))


def section_gradients(rep: Report, records: list[dict]) -> None:
    if not rep.measured_section(
        "The vanishing gradient",
        f"{len(records)} measurements: the gradient reaching the state k steps back, per cell and init.",
        bool(records),
        "gradient diagnostic",
        "gradients",
    ):
        return
    rep.add(
        "The norm of the gradient of u.h_T (u a fixed unit vector) with respect to the state k steps "
        "earlier, "
        "through each implementation's public `backward`; the decay per step is exp of the slope of log norm "
        "against k from k = 5 on. From "
        + ", ".join(rep.link(s) for s in sorted({r["source"] for r in records}))
        + "."
    )
    later = [r for r in records if r.get("step", 0) > 0]
    everywhere = gradients.at_initialisation(records) + later  # each seed once at initialisation
    records = [r for r in everywhere if device_of(r) == "cpu"]
    rep.figure(plots.gradient_norms(records), "gradients", "gradient norm against lag, per cell and init")
    trained = [r for r in records if r.get("step", 0) > 0]
    if trained:
        on = trained[0]["trained_on"]
        rep.add(
            f"After training: each cell x init x seed trained on {on['task']} problem at T={on['seq_len']} "
            f"({on['implementation']}, batch {on['batch_size']}, {on['optimizer']} lr {on['lr']}, "
            f"{on['dtype']}), its weights saved in the canonical layout at steps "
            f"{', '.join(map(str, sorted({r['step'] for r in trained})))} and measured as above."
        )
        rep.figure(
            plots.gradient_norms(records, trained=True),
            "gradients_trained",
            "gradient norm against lag after training, per cell, init and step",
        )
    rows = gradients.summary(everywhere)
    columns = ["implementation", "device", "cell", "init", "step", "seeds"]
    rep.add(md_table(rows, [*columns, "h_decay", "h_spread", "c_decay", "c_spread"]))
    for row in gradients.agreement_with_reference(everywhere):
        rep.add(
            f"Against the NumPy reference on the CPU, measurement by measurement ({row['device']}: "
            f"{', '.join(row['implementations'])}): {row['n']} measurements, largest relative difference "
            f"over every norm {row['max_rel_diff']:.1e}."
        )


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
    s = rows[0]["settings"]
    measured_on = sorted({machine(r) for r in records})
    start = min(min(r["by_length"]) for r in rows)
    rep.add(
        f"Each task x cell x init is searched over lengths doubling from {start}; a length is passed when "
        "any seed solves it, the chain stops at the first length no seed solves (and halves down when the "
        f"first fails). Each job trains for at most {s['steps']} steps of batch {s['batch_size']} (hidden "
        f"{s['hidden_size']}, Adam / RMSProp on copy, lr {s['lr']}, clip {s['clip']}, {s['dtype']}), checks "
        f"1,000 validation sequences every {s['eval_every']} steps and stops once they meet the task's "
        "criterion and the test set confirms it (adding: test MSE < 0.01; copy: recall accuracy > 99 %; "
        "temporal order: under 1 % error on 10,000 sequences). Each cell runs on the implementation whose "
        "typical job costs least on this CPU (the throughput table below): their float64 training "
        "trajectories agree, so the choice changes the cost, not the outcome. "
        f"Measured on {', '.join(measured_on)}; from " + ", ".join(rep.link(x) for x in sources) + "."
    )
    rep.figure(plots.capacity_vs_length(rows), "capacity", "test accuracy against T, per task, cell and init")
    rep.add("### Longest T solved, beside the published anchors")
    table = [
        {
            **r,
            "longest_T_half": findings.reach_text(r),
            "longest_T_any": r["longest_any"] or f"<{min(r['by_length'])}",
            "solved_by_T": " ".join(
                f"{t}:{p['solved']}/{p['seeds']}" + (f"@{p['median_solve_step']:g}" if p["solved"] else "")
                for t, p in r["by_length"].items()
            ),
            "anchor": capacity.ANCHORS.get((r["task"], r["cell"]), ""),
        }
        for r in sorted(rows, key=lambda r: (r["task"], r["cell"], r["init"]))
    ]
    rep.add(
        "`longest_T_half`: solved by at least half the seeds (`>=`: the longest length the search tried, "
        "so the reach may be longer); `longest_T_any`: by any seed; `solved_by_T`: seeds solved / run at "
        "each length, with the median step the solved seeds met the criterion at. The anchors' budgets are "
        "in their text: set them against this search's before reading a difference as a disagreement "
        "(README, How far each cell reaches)."
    )
    rep.add(
        md_table(
            table,
            [
                "task",
                "cell",
                "init",
                "implementation",
                "longest_T_half",
                "longest_T_any",
                "solved_by_T",
                "anchor",
            ],
        )
    )
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
    timed = [r for r in records if r.get("throughput")]
    if timed:
        rep.add("### Training throughput, which chose the implementation per cell")
        rep.add(
            f"One job at a time, one thread, {timed[0]['steps']} steps at T={timed[0]['seq_len']} on the "
            "adding problem; the first step (where a framework compiles) is kept apart. Measured on "
            f"{machine(timed[0])}."
        )
        rep.add(
            md_table(
                [
                    {
                        **r,
                        "ms_per_step": r["seconds_per_step"] * 1e3 if r.get("seconds_per_step") else None,
                        "first_step_ms": r["first_step_seconds"] * 1e3
                        if r.get("first_step_seconds")
                        else None,
                    }
                    for r in timed
                ],
                ["implementation", "cell", "ms_per_step", "first_step_ms", "status"],
            )
        )


def section_regression_gate(rep: Report, records: list[dict]) -> None:
    sources = sorted({r["source"] for r in records})
    if not rep.measured_section(
        "Regression gate",
        f"{len(sources)} A/B comparison files: {', '.join(sources)}.",
        bool(records),
        "A/B comparison",
        "ab",
    ):
        return
    rep.add(
        "Same-job A/B comparisons (`python -m suite ab`): candidate/base time ratio (Hodges-Lehmann) with "
        "its 99 % interval; `slower` past the threshold fails the gate (README, Regression gate)."
    )
    for source in sources:
        recs = [r for r in records if r["source"] == source]
        rep.add(f"### {source}")
        rep.add(f"From {rep.link(source)}, measured on {machine(recs[0])}.")
        columns = ["comparison", "injected"] if any(r.get("comparison") for r in recs) else []
        columns += ["implementation", "cell", "mode", "n_pairs", "ratio", "ci_low", "ci_high", "decision"]
        rep.add(md_table(recs, columns))


def headline(rep: Report, results: Results) -> list[str]:
    """The findings and the table of contents, as Markdown parts."""
    found = [
        *findings.equivalence(results.of("check"), COMMANDS["check"]),
        *findings.speed(results.of("speed"), COMMANDS["speed"]),
        *findings.projection(results.of("speed"), COMMANDS["speed"]),
        *findings.memory(results.of("memory"), COMMANDS["memory"]),
        *findings.learning(results.of("accuracy"), COMMANDS["accuracy"]),
        *findings.capacity(
            capacity.search_rows(results.of("capacity")), results.of("capacity"), COMMANDS["capacity"]
        ),
        *findings.vanishing_gradient(results.of("gradients"), COMMANDS["gradients"]),
        *findings.regression(results.of("ab"), COMMANDS["ab"]),
    ]
    lines = []
    for f in found:
        where = [f"[details](#{f.section})", *(rep.link(s) for s in f.sources)]
        lines.append(f"- {f.topic}: {f.text} ({' · '.join(where)})")
    contents = [f"- [{title}](#{slug(title)})" for title in rep.sections]
    return ["## Findings\n\n" + "\n".join(lines), "## Contents\n\n" + "\n".join(contents)]


def build(folder: Path, out: Path) -> tuple[Results, Report]:
    results = load_results(folder)
    out.mkdir(parents=True, exist_ok=True)
    rep = Report(out, folder)
    section_equivalence(rep, results.of("check"))
    section_speed(rep, results.of("speed"))
    section_memory(rep, results.of("memory"))
    section_machines(rep, results.of("speed"), results.of("memory"))
    section_capacity(rep, results.of("capacity"))
    section_accuracy(rep, results.of("accuracy"))
    section_gradients(rep, results.of("gradients"))
    section_regression_gate(rep, results.of("ab"))
    section_history(rep, folder)
    section_environment(rep, results)
    top = [
        "# rnnbench report\n\nGenerated by `python -m suite.report` from the results files listed at the "
        "end; nothing here was rerun. Every finding is computed from those files and links to its "
        "section and files.",
        *(f"- warning: {w}" for w in results.warnings),
        *headline(rep, results),
    ]
    rep.parts[:0] = top
    return results, rep


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m suite.report", description=__doc__)
    parser.add_argument("--results", default="results", help="folder of results files (default: results/)")
    parser.add_argument("--out", default=None, help="where to write the report (default: the results folder)")
    args = parser.parse_args(argv)
    folder = Path(args.results)
    out = Path(args.out or args.results)
    if not folder.is_dir():
        print(f"error: {folder} is not a folder", file=sys.stderr)
        return 2
    results, rep = build(folder, out)
    for warning in results.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not results:
        print(
            f"error: no rnnbench results in {folder}; run e.g. `{COMMANDS['check']}` first", file=sys.stderr
        )
        return 2
    markdown = rep.markdown()
    (out / "report.md").write_text(markdown)
    (out / "report.html").write_text(to_html(markdown, out))
    print(f"wrote {out / 'report.md'}, {out / 'report.html'} and {len(rep.figures)} plots")
    return 0
