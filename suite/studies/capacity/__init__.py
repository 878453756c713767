"""Capacity: the longest dependency each cell learns within a step budget, per task, init and seed, and
whether the frameworks agree on it."""

from suite.studies.capacity import command
from suite.study import Study

STUDY = Study(
    name="capacity",
    question="How far does each cell reach?",
    kinds=("capacity",),
    commands=(("run", command.add_parser),),
    report="suite.studies.capacity.report",
    measures={"capacity": "rnnbench run capacity --jobs 2"},
    docs="docs/capacity.md",
    gpu_steps=command.gpu_steps,
)
