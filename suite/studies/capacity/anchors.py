"""The published anchors, rerun at their own settings: each task's anchors (tasks.Anchor) at their lengths,
cells and inits, with the GRU added where a paper has none (rnnbench's own contribution), several seeds,
each job on the implementation a search would pick; and the table that sets each anchor beside rnnbench's
outcome at the same budget."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable

import tasks
from impls.layout import KEEP_GATE, KEEP_GATE_INITS
from suite.records import device_of
from suite.studies.capacity import search
from suite.training import spec as spec_mod
from suite.training.spec import finished
from tasks.base import Anchor

SEEDS = search.SEEDS  # seeds per anchor point
GPU_LENGTH = 500  # points at this length and longer are queued for a GPU (the report gives their CPU cost)


def points(task_names: Iterable[str], cells: Iterable[str] | None = None) -> list[tuple]:
    """Every point the anchors of ``task_names`` are rerun at: (task, anchor, cell, init, length), the
    paper's cells and the GRU beside them (unless the anchor is a probe)."""
    out = []
    for task in task_names:
        for anchor in tasks.get(task).anchors:
            with_gru = anchor.cells if anchor.probe else [*anchor.cells, "gru"]
            run_cells = [c for c in dict.fromkeys(with_gru) if cells is None or c in cells]
            for cell in run_cells:
                for init in _inits(anchor.inits, cell):
                    out += [(task, anchor, cell, init, seq_len) for seq_len in anchor.lengths]
    return out


AnchorChooser = Callable[[str, str, str, int], str]  # (task:anchor, cell, init, length) -> implementation


def specs(
    task_names: Iterable[str],
    seeds: int,
    choose: AnchorChooser,
    cells: Iterable[str] | None = None,
    device: str = "cpu",
) -> list[dict]:
    """Every rerun job of the anchors of ``task_names``: per point (:func:`points`) and seed, on the
    implementation ``choose`` names for the point."""
    out = []
    for task, anchor, cell, init, seq_len in points(task_names, cells):
        settings = budget(anchor.settings, anchor.sequences, device)
        name = f"{task}:{anchor.name}"
        for seed in range(seeds):
            job = search.spec((task, cell, init), choose(name, cell, init, seq_len), seq_len, seed, settings)
            out.append({**job, "anchor": name})
    return out


def throughput_specs(
    task_names: Iterable[str],
    names: list[str],
    cells: Iterable[str] | None = None,
    device: str = "cpu",
    at: Iterable[int] | None = None,
) -> list[dict]:
    """Jobs that time the training step at each anchor's own settings (hidden size, optimizer, batch) and
    lengths (``at`` only, where given), per implementation and cell: what its jobs are chosen from. A
    step's cost at hidden 128 does not follow the search's ranking at hidden 50."""
    out, seen = [], set()
    for task, anchor, cell, _, seq_len in points(task_names, cells):
        if (anchor.name, cell, seq_len) in seen or (at is not None and seq_len not in at):
            continue
        seen.add((anchor.name, cell, seq_len))
        settings = budget(anchor.settings, anchor.sequences, device)
        jobs = search.throughput_specs([cell], names, device, [seq_len], task=task, settings=settings)
        out += [{**job, "anchor": f"{task}:{anchor.name}"} for job in jobs]
    return out


def resumed_on(records: Iterable[dict], choose: AnchorChooser, device: str = "cpu") -> AnchorChooser:
    """The implementation an anchor point resumes on, on ``device``: the one most of its finished seeds
    there ran on (a point stays on one implementation), else ``choose``'s."""
    ran: dict[tuple, list[str]] = {}
    for r in finished_runs(records):
        if device_of(r) == device:
            ran.setdefault(_point(r), []).append(r["implementation"])

    def resume(name: str, cell: str, init: str, seq_len: int) -> str:
        names = ran.get((name, cell, init, seq_len))
        return search.most_run(names) if names else choose(name, cell, init, seq_len)

    return resume


def unfinished(jobs: Iterable[dict], records: Iterable[dict]) -> list[dict]:
    """The ``jobs`` whose seed has no finished run at its point yet, on any implementation or device: a
    point needs its seeds once each, wherever they trained."""
    done = {(*_point(r), r["seed"]) for r in finished_runs(records)}
    return [j for j in jobs if (*_point(j), j["seed"]) not in done]


def is_run(record: dict) -> bool:
    """Whether ``record`` is a training run of an anchor point (not a timing at an anchor's settings)."""
    return bool(record.get("anchor")) and not record.get("throughput")


def finished_runs(records: Iterable[dict]) -> list[dict]:
    """The finished training runs of anchor points among ``records``."""
    return [r for r in records if is_run(r) and finished(r)]


def _point(job_or_record: dict) -> tuple:
    """(task:anchor, cell, init, length): the anchor point a job or record belongs to."""
    r = job_or_record
    return r["anchor"], r["cell"], r.get("init", "default"), r["seq_len"]


def missing(records: Iterable[dict], seeds: int = SEEDS) -> list[dict]:
    """The anchor points with fewer than ``seeds`` finished seeds: task, anchor, cell, init, T, the seeds
    finished there and the anchor's budget in steps."""
    finished_at: dict[tuple, int] = {}
    for r in finished_runs(records):
        finished_at[_point(r)] = finished_at.get(_point(r), 0) + 1
    out = []
    for task, anchor, cell, init, seq_len in points(search.TASKS):
        done = finished_at.get((f"{task}:{anchor.name}", cell, init, seq_len), 0)
        if done < seeds:
            out.append(
                {
                    "task": task,
                    "anchor": f"{task}:{anchor.name}",
                    "probe": anchor.probe,
                    "cell": cell,
                    "init": init,
                    "T": seq_len,
                    "seeds": done,
                    "steps": budget(anchor.settings, anchor.sequences)["steps"],
                }
            )
    return out


def anchor_of(name: str) -> Anchor:
    """The anchor a record names (``task:anchor``)."""
    task, _, anchor_name = name.partition(":")
    return next(a for a in tasks.get(task).anchors if a.name == anchor_name)


def _inits(inits: tuple[str, ...], cell: str) -> list[str]:
    """An anchor's inits that apply to ``cell`` (those setting a keep gate's bias need a gated cell)."""
    return [i for i in inits if cell in KEEP_GATE or i not in KEEP_GATE_INITS] or ["default"]


def budget(settings: dict, sequences: int, device: str = "cpu") -> dict:
    """An anchor's training settings with its budget in steps (its sequences over its batch, rounded up) and
    a validation check every 1 % of them (at least every 100 steps)."""
    merged = {**spec_mod.DEFAULTS, **settings}
    steps, checks = search.in_steps(sequences, merged["batch_size"])
    merged.update(steps=steps, eval_every=checks)
    if device != "cpu":
        merged["device"] = device
    return {k: merged[k] for k in (*search.SETTINGS, "device") if k in merged}


def rows(records: Iterable[dict]) -> list[dict]:
    """Per anchor, cell, init and length: the paper's setting, budget and result beside rnnbench's seeds,
    solved, median solve step (and sequences), median final test loss, the memoryless baseline and how
    many seeds ended below it (what a paper reports where nothing solves: copy's T=100)."""
    points: dict[tuple, list[dict]] = {}
    for r in finished_runs(records):
        points.setdefault(_point(r), []).append(r)
    out = []
    for (name, cell, init, seq_len), recs in sorted(points.items()):
        task = name.partition(":")[0]
        anchor = anchor_of(name)
        summary = search.point_summary(recs)
        step = summary["median_solve_step"]
        batch = recs[0]["batch_size"]
        out.append(
            {
                "task": task,
                "source": anchor.source,
                "probe": anchor.probe,
                "paper_init": init in _inits(anchor.inits, cell),
                "cell": cell,
                "init": init if init in _inits(anchor.inits, cell) else f"{init} (not the paper's)",
                "T": seq_len,
                "setting": setting_text(recs[0]),
                "budget": f"{anchor.sequences:,} sequences ({recs[0]['steps']:,} steps)",
                "published": anchor.result
                if cell in anchor.cells
                else "no published anchor (rnnbench's own)",
                "seeds": summary["seeds"],
                "solved": summary["solved"],
                "median_solve_step": step,
                "solve_steps": ", ".join(str(s) for s in summary["solve_steps"]) or "-",
                "median_solve_sequences": None if step is None else int(step * batch),
                "median_test_loss": statistics.median(summary["losses"]) if summary["losses"] else None,
                "baseline": recs[0].get("baseline_loss"),
                "below_baseline": _below_baseline(recs),
                "implementations": ", ".join(sorted({search.where(r) for r in recs})),
            }
        )
    return out


def setting_text(record: dict) -> str:
    """A job's training setting in words."""
    clip = f"clip {record['clip']}" if record.get("clip") else "no clipping"
    return (
        f"hidden {record['hidden_size']}, batch {record['batch_size']}, "
        f"{record['optimizer']} {record['lr']}, {clip}, {record['dtype']}"
    )


def _below_baseline(records: list[dict]) -> int | None:
    """How many seeds ended with a test loss under the task's memoryless baseline (5 % under, so that
    noise around it does not count)."""
    if any(r.get("baseline_loss") is None for r in records):
        return None
    return sum(r.get("test_loss") is not None and r["test_loss"] < 0.95 * r["baseline_loss"] for r in records)
