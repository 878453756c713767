"""The regression study's part of the report: the latest A/B, the gate's records and each machine's
history."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from suite.report.loading import Results
from suite.report.machines import machine
from suite.report.page import Finding, Report, md_table, missing_finding
from suite.report.style import (
    CELL_MARKER,
    CELLS,
    COLOURS,
    MODE_STYLE,
    Figure,
    plt,
)
from suite.studies.regression import STUDY
from suite.studies.regression.compare import default_threshold
from suite.studies.regression.tracking import detect_steps, read_history


def regression_findings(records: list[dict], command: str) -> list[Finding]:
    """The latest A/B comparison's decisions (evidence runs are summarised apart)."""
    if not records:
        return [missing_finding("Regressions", "regression-gate", "A/B comparison", command)]
    found = []
    runs: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        runs[r["source"]].append(r)
    latest_name = max(runs, key=lambda s: max(str(r["environment"].get("date", "")) for r in runs[s]))
    latest = runs[latest_name]
    comparisons = defaultdict(list)
    for r in latest:
        comparisons[r.get("comparison", "")].append(r)
    decisions = defaultdict(int)
    for r in latest:
        decisions[r.get("decision", r.get("status"))] += 1
    counted = ", ".join(f"{n} {d}" for d, n in sorted(decisions.items()))
    date = max(str(r["environment"].get("date", "")) for r in latest)[:10]
    if len(comparisons) > 1:  # an evidence series: A/A runs and injected slowdowns
        aa = [r for r in latest if not r.get("injected")]
        injected = [r for r in latest if r.get("injected")]
        alarms = sum(r.get("decision") == "slower" for r in aa)
        caught = sum(r.get("decision") == "slower" for r in injected if _is_slowed(r))
        slowed = sum(_is_slowed(r) for r in injected)
        text = (
            f"**Gate evidence** ({date}, {len(comparisons)} comparisons): {alarms} false alarms in "
            f"{len(aa)} A/A benchmarks; {caught} of {slowed} injected slowdowns caught ({counted})."
        )
        question, answer = (
            "Does the gate catch slowdowns?",
            f"{caught}/{slowed} caught, {alarms} false alarms",
        )
    else:
        r0 = latest[0]
        text = f"**Latest A/B** ({date}): {r0.get('candidate')} against {r0.get('base')}: {counted}."
        question, answer = f"Latest A/B ({date}): slower?", counted
    found.append(Finding(question, text, "regression-gate", [latest_name], answer))
    return found


def _is_slowed(record: dict) -> bool:
    """Whether the evidence run injected a slowdown into this record's cell."""
    return any(part.split("=")[0] == record["cell"] for part in record.get("injected", "").split(","))


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


def section_history(rep: Report, folder: Path) -> None:
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
        rep.figure(history_trends(runs, steps), f"history_{path.stem}"[:80], f"trend on {path.stem}")


def history_trends(runs: list[dict], steps_of: dict[str, list[int]], limit: int = 24) -> Figure | None:
    """Each tracked benchmark's median over the tracked runs, detected steps marked."""
    keys = sorted({k for run in runs for k in run.get("medians", {})})[:limit]
    if len(runs) < 2 or not keys:
        return None
    fig, ax = plt.subplots(figsize=(15, 6))
    for key in keys:
        values = [run["medians"].get(key) for run in runs]
        first = next((v for v in values if v), None)
        if not first:
            continue
        rel = [v / first if v else None for v in values]
        framework = next((f for f in COLOURS if f in key), None)
        cell = next((c for c in CELLS if f"/{c}/" in key or f"-{c}-" in key), "rnn")
        style = MODE_STYLE["train" if "train" in key else "forward"]
        label = key.split("::")[-1].removeprefix("speed:")[:60]
        (line,) = ax.plot(
            range(len(rel)),
            rel,
            style,
            marker=CELL_MARKER[cell],
            ms=4,
            lw=1,
            color=COLOURS.get(framework),
            label=label,
        )
        for i in steps_of.get(key, []):
            ax.axvline(i - 0.5, color=line.get_color(), ls=":", lw=1)
    ax.set(
        title="Tracked benchmarks: median relative to the first tracked run\n(colour: framework, marker: "
        "cell, dashed: train step; vertical dotted lines: detected steps)",
        xlabel="tracked run (oldest first)",
        ylabel="median / first run's median",
    )
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def findings(results: Results) -> list[Finding]:
    return regression_findings(results.of("ab"), STUDY.measures["ab"])


def sections(page: Report, results: Results) -> None:
    section_regression_gate(page, results.of("ab"))
    section_history(page, page.folder)
