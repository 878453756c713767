"""Regression tracking: baselines per machine fingerprint, and a history of tracked runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from suite.environment import REPO, environment, machine_fingerprint
from suite.studies.regression.compare import Entry

RESULTS = REPO / "results"


def baseline_path(name: str, fingerprint: str | None = None, root: Path = RESULTS) -> Path:
    """Where this machine's baseline called ``name`` lives."""
    return root / "baselines" / (fingerprint or machine_fingerprint()) / f"{name}.json"


def history_path(fingerprint: str | None = None, root: Path = RESULTS) -> Path:
    return root / "history" / f"{fingerprint or machine_fingerprint()}.jsonl"


def save_baseline(current: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(current, target)
    return target


def append_history(path: Path, name: str, entries: dict[str, Entry], rows: list[dict]) -> dict:
    """Add one tracked run (its medians and decisions) to the history file."""
    env = environment()
    decisions = {r["benchmark"]: r["decision"] for r in rows}
    line = {
        "name": name,
        "date": env["date"],
        "git_commit": env["git_commit"],
        "versions": env["versions"],
        "medians": {k: (e.median if e.samples else e.peak_bytes) for k, e in entries.items()},
        "decisions": decisions,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(line) + "\n")
    return line


def read_history(path: Path) -> list[dict]:
    """The tracked runs, oldest first; lines that are not valid JSON are skipped."""
    runs = []
    for line in path.read_text().splitlines():
        try:
            runs.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return runs


def detect_steps(values: list[float], threshold: float, window: int = 3) -> list[int]:
    """Indices where the median of the next ``window`` values differs from the median of the
    previous ``window`` by more than ``threshold`` (relative): a lasting step, not one noisy run."""
    import statistics

    steps = []
    for i in range(window, len(values) - window + 1):
        before = statistics.median(values[i - window : i])
        after = statistics.median(values[i : i + window])
        if before > 0 and abs(after / before - 1) > threshold:
            if not steps or i - steps[-1] >= window:
                steps.append(i)
    return steps
