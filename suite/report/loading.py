"""Reading every results file of a folder, skipping (and naming) the broken and the foreign."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from suite.records import ResultsError, derived, read_records


@dataclass
class Results:
    """The records of a results folder, by kind, and the files that were skipped."""

    by_kind: dict[str, list[dict]] = field(default_factory=dict)
    files: dict[str, dict] = field(default_factory=dict)  # file name -> environment of its first record
    warnings: list[str] = field(default_factory=list)

    def of(self, kind: str) -> list[dict]:
        return self.by_kind.get(kind, [])

    def __bool__(self) -> bool:
        return any(self.by_kind.values())


def load_results(folder: Path) -> Results:
    """Every ``*.json`` directly in ``folder`` and in its ``ab/``; each record remembers its file, relative
    to ``folder``, as ``source``."""
    results = Results()
    for path in [*sorted(folder.glob("*.json")), *sorted(folder.glob("ab/*.json"))]:
        try:
            records = derived(read_records(path))
        except ResultsError as e:
            results.warnings.append(f"skipped {e}")
            continue
        name = path.relative_to(folder).as_posix()
        results.files[name] = {
            "kinds": sorted({r["kind"] for r in records}),
            **records[0]["environment"],
        }
        for r in records:
            results.by_kind.setdefault(r["kind"], []).append({**r, "source": name})
    return results
