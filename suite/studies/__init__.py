"""The studies, in the order the command line and the report show them. A new study is a folder here whose
``__init__`` defines ``STUDY``, and its name in NAMES (docs/adding-a-study.md)."""

from importlib import import_module

from suite.study import Study

NAMES: tuple[str, ...] = (
    "equivalence",
    "speed",
    "precision",
    "learning",
    "capacity",
    "gradients",
    "regression",
)
STUDIES: tuple[Study, ...] = tuple(import_module(f"suite.studies.{name}").STUDY for name in NAMES)


def kinds() -> dict[str, Study]:
    """Every record kind, with the study that writes it."""
    return {kind: study for study in STUDIES for kind in study.kinds}
