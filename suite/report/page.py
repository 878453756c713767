"""The report's page: Markdown with figures saved beside it, and the findings a study opens it with."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from suite.report.style import plt
from suite.table import fmt


def md_table(rows: list[dict], columns: Sequence[str]) -> str:
    """A Markdown table."""
    if not rows:
        return ""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c)).replace("|", "/") for c in columns) + " |" for r in rows]
    return "\n".join(lines)


class Report:
    """Markdown text with figures saved beside it."""

    def __init__(self, out: Path, folder: Path | None = None, measures: dict[str, str] | None = None) -> None:
        self.out = out
        self.folder = folder or out
        self.measures = measures or {}  # record kind -> the command line that measures it
        self.parts: list[str] = []
        self.figures: list[str] = []
        self.captions: dict[str, str] = {}
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
        self.add(
            f"_Not measured: no {what} in the results. "
            f"Measure it with `{self.measures.get(kind, 'rnnbench --help')}`._"
        )

    def figure(self, fig, name: str, caption: str) -> None:
        if fig is None:
            return
        path = self.out / f"{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        self.figures.append(path.name)
        self.captions[path.name] = caption
        self.add(f"![{caption}]({path.name})")

    def markdown(self) -> str:
        return "\n\n".join(self.parts) + "\n"


@dataclass
class Finding:
    """One headline: the question it answers (``topic``), its short answer (a table cell, opening the
    report and the README), its full sentence (Markdown, at the top of its section), where it comes from."""

    topic: str
    text: str
    section: str  # the anchor of the report section holding the detail
    sources: list[str] = field(default_factory=list)
    answer: str = ""


def listed(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def sources_of(records: list[dict]) -> list[str]:
    return sorted({r["source"] for r in records if r.get("source")})


def missing_finding(topic: str, section: str, what: str, command: str) -> Finding:
    text = f"not measured: no {what} in the results. Measure it with `{command}`."
    return Finding(topic, text, section, answer=f"not measured: `{command}`")
