"""Synthetic long-dependency tasks: ``tasks.get(name)``."""

from __future__ import annotations

from tasks.adding import Adding, VariableAdding
from tasks.base import Task
from tasks.copy import Copy, VariableCopy
from tasks.temporal_order import TemporalOrder, TemporalOrder3

TASKS: dict[str, type[Task]] = {
    "adding": Adding,
    "varadding": VariableAdding,
    "copy": Copy,
    "varcopy": VariableCopy,
    "temporal2": TemporalOrder,
    "temporal3": TemporalOrder3,
}

__all__ = ["TASKS", "Task", "get"]


def get(name: str) -> Task:
    """The task called ``name``; a ValueError naming the choices otherwise."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")
    return TASKS[name]()
