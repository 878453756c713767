"""Learning: does each cell learn the long-dependency tasks in every framework, against sequence length, with
the same trajectory from the same weights and batches?"""

from suite.studies.learning import command
from suite.study import Study

STUDY = Study(
    name="learning",
    question="Does each cell learn the tasks?",
    kinds=("accuracy",),
    commands=(("run", command.add_parser),),
    report="suite.studies.learning.report",
    measures={"accuracy": "rnnbench run accuracy --task adding --profile full"},
    docs="docs/learning.md",
)
