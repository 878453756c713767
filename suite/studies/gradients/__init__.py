"""Gradients: how fast the gradient reaching back k steps decays, per cell and init, at initialisation and
during training: the why behind the reach."""

from suite.studies.gradients import command
from suite.study import Study

STUDY = Study(
    name="gradients",
    question="Why: how fast does the gradient vanish?",
    kinds=("gradients",),
    commands=(("run", command.add_parser),),
    report="suite.studies.gradients.report",
    measures={"gradients": "rnnbench run gradients --init default,forget1,chrono"},
    docs="docs/gradients.md",
    gpu_steps=command.gpu_steps,
)
