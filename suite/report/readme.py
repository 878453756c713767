"""The README's findings block: the report's findings, as short rows, rebuilt from the results by the same
code (``rnnbench report --readme README.md``); a test fails when the committed block differs."""

from __future__ import annotations

import os
from pathlib import Path

from suite.report.build import all_findings, findings_table
from suite.report.loading import Results

START = "<!-- findings: generated from results/ by `rnnbench report --readme README.md`; do not edit -->"
END = "<!-- end of findings -->"


class MissingBlock(ValueError):
    """The README has no findings block (its two marker lines)."""


def block(results: Results, folder: Path, readme: Path) -> str:
    """The findings of every study as short rows, linked relative to ``readme``."""
    base = Path(os.path.relpath(folder, readme.parent)).as_posix()

    def link(target: str) -> str:
        if target.startswith("#"):
            return f"[details]({base}/report.md{target})"
        return f"[{target}]({base}/{target})"

    parts = []
    for study, found in all_findings(results):
        if found:
            parts += [f"**{study.question}** ([{study.docs}]({study.docs}))", findings_table(found, link)]
    return "\n\n".join(parts)


def current(text: str) -> str:
    """The block between the markers of a README's text."""
    if START not in text or END not in text:
        raise MissingBlock(f"no findings block: the lines {START!r} and {END!r} are missing")
    return text.split(START, 1)[1].split(END, 1)[0].strip()


def rewrite(readme: Path, results: Results, folder: Path) -> None:
    """Replace the block of ``readme`` with the one ``results`` give."""
    text = readme.read_text()
    old = current(text)
    new = block(results, folder, readme)
    readme.write_text(text.replace(f"{START}\n{old}" if old else START, f"{START}\n{new}", 1))
