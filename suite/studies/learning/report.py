"""The learning study's part of the report: its findings, its section and its plots."""

from __future__ import annotations

import statistics
from collections import defaultdict

import tasks as task_defs
from impls import registry
from impls.layout import LOW_PRECISION
from suite.report.loading import Results
from suite.report.page import Finding, Report, md_table, missing_finding, sources_of
from suite.report.style import (
    CELLS,
    COLOURS,
    CURVE_STYLE,
    CURVE_WIDTH,
    VARIANT_MARKERS,
    Figure,
    colour,
    implementations,
    legend,
    log_axes,
    panels,
    plt,
    shown_name,
    variant_index,
)
from suite.studies.learning import STUDY, presets
from suite.studies.learning import sweep as accuracy
from suite.table import CELL_NAMES


def learning_findings(records: list[dict], command: str) -> list[Finding]:
    """Per task, under its main settings: how far each cell learns (longest T solved, runs solved there)."""
    found = []
    for task in sorted({r["task"] for r in records}):
        settings, recs = presets.settings_groups(records, task)[0]
        parts, short = [], []
        for cell in ("rnn", "lstm", "gru"):
            of_cell = [r for r in recs if r["cell"] == cell and r.get("status") == "ok"]
            if not of_cell:
                continue
            lengths = sorted({r["seq_len"] for r in of_cell})
            solved = [t for t in lengths if any(r["solved"] for r in of_cell if r["seq_len"] == t)]
            if solved:
                t = max(solved)
                at = [r for r in of_cell if r["seq_len"] == t]
                runs = f"{sum(r['solved'] for r in at)}/{len(at)} runs"
                parts.append(f"{CELL_NAMES[cell]} up to T={t} ({runs})")
                short.append(f"{CELL_NAMES[cell]} T={t}")
            else:
                parts.append(f"{CELL_NAMES[cell]} at no length tried (T={', '.join(map(str, lengths))})")
                short.append(f"{CELL_NAMES[cell]} none of T={', '.join(map(str, lengths))}")
        what = presets.describe_settings(settings)
        text = f"**{task}** ({what}) is solved by " + "; ".join(parts) + "."
        question = f"Longest {task} solved in {recs[0]['steps']} steps?"
        answer = "; ".join(short)
        found.append(Finding(question, text, "learning-long-dependencies", sources_of(recs), answer))
    return found or [missing_finding("Learning", "learning-long-dependencies", "accuracy results", command)]


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
        groups = presets.settings_groups(records, task)
        full = presets.training_settings_of(presets.training("full", task))
        main_settings = groups[0][0]
        for settings, recs in groups:
            what = presets.describe_settings(settings)
            rep.add(f"### {task}: {what}" + (" (the full profile)" if settings == full else ""))
            rep.add("From " + ", ".join(rep.link(s) for s in sorted({r["source"] for r in recs})) + ".")
            name = settings_name(task, settings, main_settings)
            rep.figure(accuracy_vs_length(recs, task), f"accuracy_{name}", f"{task}: test loss against T")
            rep.figure(learning_curves(recs, task), f"curves_{name}", f"{task}: learning curves")
            rep.add(md_table(accuracy.table_rows(recs), accuracy.TABLE_COLUMNS))
        if len(groups) > 1:
            varying = [
                i for i, k in enumerate(presets.TRAINING_SETTINGS) if len({s[i] for s, _ in groups}) > 1
            ]
            labelled = {
                ", ".join(f"{presets.TRAINING_SETTINGS[i]} {s[i]}" for i in varying): recs
                for s, recs in groups
            }
            rep.add(f"### {task}: the settings compared")
            rep.figure(
                settings_compared(labelled, task),
                f"settings_{task}",
                f"{task}: learning curves under each setting",
            )


def settings_name(task: str, settings: tuple, main_settings: tuple) -> str:
    """A file-name stem for one settings group: the task, then each setting that differs from the main run."""
    changed = [
        f"{k}{v}"
        for k, v, m in zip(presets.TRAINING_SETTINGS, settings, main_settings, strict=True)
        if v != m
    ]
    return "_".join([task, *changed])


def accuracy_vs_length(records: list[dict], task: str) -> Figure | None:
    """Test loss against T per cell: mean and min-max over seeds, per framework; the baseline as a line."""
    rows = [r for r in records if r["task"] == task and r.get("test_loss") is not None]
    if not rows:
        return None
    fig, axes = panels(3, f"{task}: test loss against sequence length (mean and range over seeds)")
    for ax, cell in zip(axes, CELLS, strict=True):
        base = sorted({(r["seq_len"], r["baseline_loss"]) for r in rows if r["cell"] == cell})
        if len({b for _, b in base}) == 1:  # the adding baseline does not depend on T
            ax.axhline(base[0][1], color="k", ls="--", lw=1.5, label="memoryless baseline")
        elif base:
            ax.plot(*zip(*base, strict=True), "k--", marker="_", ms=12, lw=1.5, label="memoryless baseline")
        series = implementations(rows)
        for i, (name, framework) in enumerate(series):
            groups = defaultdict(list)
            for r in rows:
                if r["cell"] == cell and shown_name(r) == name:
                    groups[r["seq_len"]].append(r["test_loss"])
            if not groups:
                continue
            ts = sorted(groups)
            # a small offset keeps overlapping markers visible
            x = [t * (1 + 0.03 * (i - (len(series) - 1) / 2)) for t in ts]
            mean = [statistics.mean(groups[t]) for t in ts]
            err = [
                [m - min(groups[t]) for m, t in zip(mean, ts, strict=True)],
                [max(groups[t]) - m for m, t in zip(mean, ts, strict=True)],
            ]
            marker = VARIANT_MARKERS[variant_index(name) % len(VARIANT_MARKERS)]
            ax.errorbar(
                x, mean, yerr=err, marker=marker, ms=4, color=colour(framework), label=name, capsize=3
            )
        solved_below = getattr(task_defs.get(task), "solved_below", None)
        if solved_below is not None:
            ax.axhline(solved_below, color="green", lw=0.8, ls=":", label=f"solved (MSE {solved_below})")
        mse = task_defs.get(task).loss == "mse_last"
        log_axes(ax, cell.upper(), "test loss (" + ("MSE" if mse else "cross-entropy, nats") + ")")
        lengths = sorted({r["seq_len"] for r in rows})
        ax.set_xticks(lengths, [str(t) for t in lengths])
        ax.set_xticks([], minor=True)
        ax.set_xlim(min(lengths) / 1.3, max(lengths) * 1.3)
    fig.tight_layout()
    return fig


def learning_curves(records: list[dict], task: str) -> Figure | None:
    """Training loss against step for every framework, overlaid: one panel per (cell, T), seed 0."""
    rows = [r for r in records if r["task"] == task and r.get("learning_curve") and r.get("seed", 0) == 0]
    lengths = sorted({r["seq_len"] for r in rows})
    if not rows:
        return None
    fig, axes = plt.subplots(len(lengths), 3, figsize=(15, 3.2 * len(lengths)), squeeze=False)
    fig.suptitle(f"{task}: training loss against step, the frameworks overlaid (same weights, same batches)")
    for row, t in zip(axes, lengths, strict=True):
        for ax, cell in zip(row, CELLS, strict=True):
            for r in rows:
                if r["seq_len"] == t and r["cell"] == cell:
                    pts = [(s, v) for s, v in r["learning_curve"] if v is not None]
                    if pts:
                        # identical curves would hide each other: widths and dashes tell them apart
                        fw = r["framework"]
                        ax.plot(
                            *zip(*pts, strict=True),
                            CURVE_STYLE.get(fw, "-"),
                            color=colour(fw),
                            lw=CURVE_WIDTH.get(fw, 1.5),
                            label=shown_name(r),
                        )
            base = [r["baseline_loss"] for r in rows if r["seq_len"] == t]
            if base:
                ax.axhline(base[0], color="k", ls="--", lw=1, label="baseline")
            ax.set(
                yscale="log", title=f"{cell.upper()}, T={t}", xlabel="training step", ylabel="training loss"
            )
            ax.grid(True, which="both", alpha=0.3)
            legend(ax)
    fig.tight_layout()
    return fig


def settings_compared(groups: dict[str, list[dict]], task: str) -> Figure | None:
    """Training loss against step, one line per settings group: a panel per (cell, T) run under more than one
    setting, seed 0, one framework (the first of COLOURS that every group ran there)."""
    by_panel: dict[tuple, dict[str, dict[str, dict]]] = defaultdict(lambda: defaultdict(dict))
    for label, recs in groups.items():
        for r in recs:
            if r["task"] == task and r.get("learning_curve") and r.get("seed", 0) == 0:
                by_panel[(r["cell"], r["seq_len"])][label][shown_name(r)] = r
    panels = sorted((k for k, v in by_panel.items() if len(v) > 1), key=lambda k: (k[1], CELLS.index(k[0])))
    if not panels:
        return None
    lengths = sorted({t for _, t in panels})
    legend_rows = (len(groups) + 2) // 2  # below the panels: two entries a row, the baseline one
    fig, grid = plt.subplots(
        len(lengths), 3, figsize=(15, 3.2 * len(lengths) + 0.22 * legend_rows), squeeze=False
    )
    fig.suptitle(f"{task}: training loss against step under each setting")
    axes = []
    for (cell, t), ax in zip(
        [(c, t) for t in lengths for c in CELLS], [ax for row in grid for ax in row], strict=True
    ):
        if (cell, t) not in panels:
            ax.set_axis_off()
            continue
        axes.append(ax)
        runs = by_panel[(cell, t)]
        common = [fw for fw in COLOURS if all(fw in by_fw for by_fw in runs.values())]
        shown: set[str] = set()
        for i, label in enumerate(groups):
            by_fw = runs.get(label, {})
            fw = next((f for f in common if f in by_fw), next(iter(by_fw), None))
            pts = [(s, v) for s, v in by_fw[fw]["learning_curve"] if v is not None] if fw else []
            if not pts:
                continue
            ax.plot(*zip(*pts, strict=True), color=f"C{i}", lw=1.5, label=label)
            shown.add(fw)
        baseline = next(r["baseline_loss"] for by_fw in runs.values() for r in by_fw.values())
        ax.axhline(baseline, color="k", ls="--", lw=1, label="baseline")
        title = f"{cell.upper()}, T={t} ({', '.join(sorted(shown))})"
        ax.set(yscale="log", title=title, xlabel="training step", ylabel="training loss")
        ax.grid(True, which="both", alpha=0.3)
    handles = {label: h for ax in axes for h, label in zip(*ax.get_legend_handles_labels(), strict=True)}
    bottom = 0.22 * legend_rows / fig.get_figheight() + 0.02
    fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    return fig


def _accuracy(results: Results) -> list[dict]:
    """The accuracy records in full precision (the precision study shows the low-precision and mixed ones)."""
    return [r for r in results.of("accuracy") if not _low_precision(r)]


def _low_precision(record: dict) -> bool:
    impl = registry.find(record.get("implementation", ""))
    return record.get("dtype") in LOW_PRECISION or bool(impl and impl.computes_in)


def findings(results: Results) -> list[Finding]:
    return learning_findings(_accuracy(results), STUDY.measures["accuracy"])


def sections(page: Report, results: Results) -> None:
    section_accuracy(page, _accuracy(results))
