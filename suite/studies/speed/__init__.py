"""Speed and memory: how fast is each implementation at each shape, how far from the machine's peak, with
how much memory, and what its kernel choice costs."""

from suite.studies.speed import command
from suite.study import Study

STUDY = Study(
    name="speed",
    question="How fast, and with how much memory?",
    kinds=("speed", "memory"),
    commands=(("run", command.add_parsers),),
    report="suite.studies.speed.report",
    measures={
        "speed": "rnnbench run speed --profile full",
        "memory": "rnnbench run memory --profile full",
    },
    docs="docs/speed-and-memory.md",
    gpu_steps=command.gpu_steps,
)
