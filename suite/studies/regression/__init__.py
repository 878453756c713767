"""Regression: is a change slower? A same-job A/B of two source trees, comparisons of results files, and the
history of a machine's runs."""

from suite.studies.regression import ab_command, calibrate_command, compare_command, track_command
from suite.study import Study

STUDY = Study(
    name="regression",
    question="Did a change make it slower?",
    kinds=("ab",),
    commands=(
        ("top", compare_command.add_parser),
        ("top", ab_command.add_parser),
        ("top", track_command.add_parser),
        ("top", calibrate_command.add_parser),
    ),
    report="suite.studies.regression.report",
    measures={
        "ab": "rnnbench ab BASE --json results/ab/latest.json",
        "history": "rnnbench track BENCHMARK.json (docs/regression.md)",
    },
    docs="docs/regression.md",
)
