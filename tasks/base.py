"""What a long-dependency task provides: seeded batches, its analytic baseline and its metrics."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Anchor:
    """A published result on a task, read in the paper's own text (../shared/reference/tasks.md), and, where
    rnnbench reruns it, the setting it was trained at: ``lengths``, ``settings`` (hidden size, batch size,
    optimizer, learning rate, clipping), ``inits`` and the budget in training sequences."""

    name: str  # short and unique within its task: "arjovsky2016"
    source: str  # the citation
    cells: tuple[str, ...]  # the cells it reports
    result: str  # what it reports
    lengths: tuple[int, ...] = ()  # where rnnbench reruns it (none: quoted only)
    settings: dict[str, Any] = field(default_factory=dict)
    inits: tuple[str, ...] = ("default",)
    sequences: int = 0  # the training budget, in sequences
    mapping: str = ""  # how the paper's setup maps onto rnnbench's, where it differs
    # a probe of a difference between rnnbench's rerun and the paper: its own setting, no GRU beside it
    probe: bool = False


class Task(ABC):
    name: str = ""
    input_size: int = 0
    output_size: int = 0
    loss: str = ""  # an impls.training loss: "mse_last" or "ce_all"
    min_length: int = 1
    variable_length: bool = False  # its batches hold sequences of different lengths (:meth:`sample`)
    test_size: int = 1000  # sequences the trained model is scored on
    chance: float | None = None  # the accuracy of guessing, where accuracy is a share of classes right
    criterion: str = ""  # when a trained model counts as solving the task (metrics' ``solved``), in words
    shortest: int = 1  # the shortest length worth training at (a search halves down to it, no further)
    optimizer: str = "adam"  # the optimizer its published anchors train with
    preset: str = ""  # the training preset it uses in a profile (suite.studies.learning.presets)
    anchors: tuple[Anchor, ...] = ()  # what the papers report, with their settings

    @property
    def budget(self) -> int:
        """The training budget in sequences at the published scale: the largest of the budgets its rerun
        anchors trained with (0 when none is rerun)."""
        return max((a.sequences for a in self.anchors if a.lengths), default=0)

    def anchor_text(self, cell: str) -> str:
        """What the papers report for ``cell`` on this task, with their citations."""
        return "; ".join(f"{a.result} ({a.source})" for a in self.anchors if cell in a.cells)

    def check_length(self, seq_len: int) -> None:
        if (
            isinstance(seq_len, bool)
            or not isinstance(seq_len, (int, np.integer))
            or seq_len < self.min_length
        ):
            raise ValueError(
                f"{self.name}: sequence length must be an integer >= {self.min_length}, got {seq_len!r}"
            )

    @abstractmethod
    def batch(self, rng: np.random.Generator, n: int, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
        """(x float64 (n, time, input_size), target) for ``n`` sequences of the task at ``seq_len``."""

    def sample(
        self, rng: np.random.Generator, n: int, seq_len: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(x, target, lengths): as :meth:`batch`, with each sequence's length where they differ in the
        batch (x then right-padded), else None. What training and testing read."""
        return (*self.batch(rng, n, seq_len), None)

    @abstractmethod
    def baseline(self, seq_len: int) -> float:
        """The loss of the best model that remembers nothing."""

    @abstractmethod
    def metrics(self, output: np.ndarray, target: np.ndarray, seq_len: int) -> dict[str, float | bool]:
        """test_loss, accuracy and solved, from the model's output on a test set."""
