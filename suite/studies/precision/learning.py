"""Learning in low precision: the same jobs (task, length, cell, seeds, batches) in float32, under a mixed
policy (bfloat16 arithmetic, float32 weights) and in pure bfloat16, from one results file. Its table and plot
stand in the report's "Which precision" section; the learning section leaves this file out."""

from __future__ import annotations

import statistics
from collections import defaultdict

from impls import registry
from impls.layout import CELLS
from suite.report.page import Finding
from suite.report.style import Figure, plt

SOURCE = "accuracy-precision.json"
# what wrote it: each precision is one accuracy sweep into the same file (its jobs' batches depend on the
# task, length and seed only, so every precision trains on the same batches)
_RUN = f"rnnbench run accuracy --profile full --jobs 2 --json results/{SOURCE}"
_PRECISIONS = ("--seeds 5 --impls torch,torch-autocast", "--seeds 5 --impls torch --dtype bfloat16")
COMMANDS: tuple[str, ...] = (
    *(f"{_RUN} --task adding --lengths 100 --cells lstm,gru {p}" for p in _PRECISIONS),
    *(f"{_RUN} --task temporal2 --lengths 50 --cells lstm,gru {p}" for p in _PRECISIONS),
    # the LSTM learns nothing at T=50 in 5000 steps in float32 either: T=40, where it does
    *(f"{_RUN} --task temporal2 --lengths 40 --cells lstm {p}" for p in _PRECISIONS),
    # pure bfloat16 in another framework: is a failure PyTorch's kernel or the arithmetic?
    f"{_RUN} --task adding --lengths 100 --cells lstm --impls jax --dtype bfloat16 --seeds 2",
)
ORDER = ("float32", "mixed bfloat16", "bfloat16", "float16")


def precision_of(record: dict) -> str:
    """A record's precision as the report names it: its dtype, or ``mixed bfloat16`` for a mixed-precision
    implementation's (float32 in and out, bfloat16 arithmetic)."""
    impl = registry.find(record.get("implementation", ""))
    computes_in = record.get("computes_in") or (impl.computes_in if impl else "")
    return f"mixed {computes_in}" if computes_in else record.get("dtype", "")


def of_file(records: list[dict]) -> list[dict]:
    """The accuracy records of the precision comparison."""
    return [r for r in records if r.get("source") == SOURCE]


def learning_rows(records: list[dict]) -> list[dict]:
    """Per task, length, cell and precision: runs solved, the median test loss over the baseline's, the
    median accuracy, and the spread of the loss over seeds."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in of_file(records):
        groups[(r["task"], r["seq_len"], r["cell"], precision_of(r), r["implementation"])].append(r)
    rows = []
    for (task, t, cell, precision, implementation), recs in groups.items():
        ok = [r for r in recs if r.get("status") == "ok" and r.get("test_loss") is not None]
        losses = [r["test_loss"] / r["baseline_loss"] for r in ok]
        rows.append(
            {
                "task": task,
                "seq_len": t,
                "cell": cell,
                "precision": precision,
                "implementation": implementation,
                "solved": f"{sum(bool(r.get('solved')) for r in ok)}/{len(recs)}",
                "n_solved": sum(bool(r.get("solved")) for r in ok),
                "runs": len(recs),
                "loss_vs_baseline": statistics.median(losses) if losses else None,
                "loss_range": (min(losses), max(losses)) if losses else None,
                "accuracy": statistics.median(r["accuracy"] for r in ok) if ok else None,
                "steps": recs[0]["steps"],
                "source": SOURCE,
            }
        )
    return sorted(rows, key=_order)


def _order(row: dict) -> tuple:
    """Task, length, cell, precision; PyTorch's row before another framework's."""
    framework = row["implementation"].split("-")[0]
    cell = CELLS.index(row["cell"])
    return (row["task"], row["seq_len"], cell, _rank(row["precision"]), framework != "torch", framework)


def _rank(precision: str) -> int:
    return ORDER.index(precision) if precision in ORDER else len(ORDER)


def learning_finding(records: list[dict], section: str) -> list[Finding]:
    """Whether reduced precision changed what was learned: runs solved per task, cell and precision."""
    rows = learning_rows(records)
    if not rows:
        return []
    parts = []
    for (task, t, cell), of_point in _by_point(rows).items():
        solved = ", ".join(f"{_who(r)} {r['solved']}" for r in of_point)
        parts.append(f"{task} T={t} {cell.upper()}: {solved}")
    text = (
        "**Learning in low precision** (the same seeds and batches; runs solved): " + "; ".join(parts) + "."
    )
    return [Finding("Does bfloat16 change what is learned?", text, section, [SOURCE], "; ".join(parts))]


def _who(row: dict) -> str:
    """The precision, with the framework where it is not PyTorch (every comparison has PyTorch's runs)."""
    framework = row["implementation"].split("-")[0]
    return row["precision"] if framework == "torch" else f"{row['precision']} ({framework})"


def _label(record: dict) -> str:
    return _who({"precision": precision_of(record), "implementation": record["implementation"]})


def _by_point(rows: list[dict]) -> dict[tuple, list[dict]]:
    points: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        points[(r["task"], r["seq_len"], r["cell"])].append(r)
    return points


def learning_figure(records: list[dict]) -> Figure:
    """Each run's test loss over the baseline's, per task, cell and precision (one dot per seed)."""
    recs = [r for r in of_file(records) if r.get("status") == "ok" and r.get("test_loss") is not None]
    points = sorted({(r["task"], r["seq_len"]) for r in recs})
    fig, axes = plt.subplots(1, len(points), figsize=(5.5 * len(points), 3.8), squeeze=False)
    for ax, (task, t) in zip(axes[0], points, strict=True):
        at = [r for r in recs if (r["task"], r["seq_len"]) == (task, t)]
        cells = sorted({r["cell"] for r in at}, key=CELLS.index)
        labels = sorted({_label(r) for r in at}, key=lambda label: (_rank(label.split(" (")[0]), label))
        for j, label in enumerate(labels):
            for i, cell in enumerate(cells):
                runs = [r for r in at if r["cell"] == cell and _label(r) == label]
                ys = [r["test_loss"] / r["baseline_loss"] for r in runs]
                x = i + (j - (len(labels) - 1) / 2) * 0.22
                ax.scatter([x] * len(ys), ys, color=f"C{j}", s=22, label=label if i == 0 else None)
        ax.axhline(1.0, color="k", ls="--", lw=1, label="baseline (remembers nothing)")
        ax.set_xticks(range(len(cells)), [c.upper() for c in cells])
        ax.set(yscale="log", title=f"{task}, T={t}", ylabel="test loss / baseline")
        ax.grid(True, axis="y", which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Learning in low precision: each seed's test loss (same batches)")
    fig.tight_layout()
    return fig
