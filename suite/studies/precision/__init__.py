"""Precision: what bfloat16 and float16, pure or under a framework's mixed policy, cost and buy against
float32 (speed, memory, error against float64, what is learned), from the other studies' records."""

from suite.study import Study

STUDY = Study(
    name="precision",
    question="Which precision?",
    kinds=(),  # it writes none: it reads the speed, memory, check and accuracy records of the others
    commands=(),
    report="suite.studies.precision.report",
    # the records are the other studies' kinds: this names the speed run it needs under its own name
    measures={"precision": "rnnbench run speed --profile full --groups fastrnns,small,precision"},
    docs="docs/speed-and-memory.md",
)
