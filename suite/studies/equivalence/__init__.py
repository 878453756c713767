"""Equivalence: does every implementation compute the NumPy reference's function, outputs, final states and
every gradient, from weights the check sets, and return exactly those weights?"""

from suite.studies.equivalence import command
from suite.study import Study

STUDY = Study(
    name="equivalence",
    question="Do they compute the same function?",
    kinds=("check",),
    commands=(("top", command.add_parser),),
    report="suite.studies.equivalence.report",
    measures={"check": "rnnbench check --json results/check-cpu.json"},
    docs="docs/equivalence.md",
    gpu_steps=command.gpu_steps,
)
