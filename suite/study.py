"""What a study is: one question rnnbench answers, described once. The command line and the report loop over
``suite.studies.STUDIES``; nothing else names a study."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

# where a subcommand hangs: ``rnnbench NAME`` or ``rnnbench run NAME``
Place = Literal["top", "run"]
AddParser = Callable[[argparse._SubParsersAction], None]
# the subcommands a GPU run is made of: (implementations, output folder, timeout per job) -> {step: argv}
GpuSteps = Callable[[list[str], str, float], dict[str, list[str]]]


@dataclass(frozen=True)
class Study:
    """One study: the record kinds it writes, its subcommands, and its part of the report.

    ``report`` names a module (imported only when a report is built, so that the command line needs no
    plotting library) holding ``findings(results) -> list[Finding]`` and ``sections(page, results)``; the
    first figure its sections draw is the one its findings open the report under. ``measures`` maps each
    record kind to the command line that measures it (shown wherever the results have none)."""

    name: str
    question: str
    kinds: tuple[str, ...]
    commands: tuple[tuple[Place, AddParser], ...]
    report: str
    measures: dict[str, str]
    docs: str
    gpu_steps: GpuSteps | None = None
