"""The copying memory task (Arjovsky et al. 2016) and its variable-delay form (Henaff et al. 2016)."""

from __future__ import annotations

import numpy as np

from tasks.base import Anchor, Task

SYMBOLS = 10  # symbols to remember
BLANK, DELIMITER, CLASSES = 0, 9, 10  # inputs one-hot over 10; data symbols are 1..8


class Copy(Task):
    """Input (length T+20): 10 symbols from 1..8, T-1 blanks, the delimiter, 10 blanks. Target: T+10
    blanks, then the 10 symbols. Loss: cross-entropy over all positions; accuracy on the 10 recalled
    positions only (chance 1/8)."""

    name = "copy"
    input_size = CLASSES
    output_size = 9  # blank + 8 symbols
    loss = "ce_all"
    solved_above = 0.99  # recall accuracy
    chance = 1 / 8  # a recalled position holds one of the 8 data symbols
    criterion = "recall accuracy above 99 %"
    # the sequence holds 10 symbols through T + 10 steps: below T = 10 the length hardly changes the task
    shortest = 10
    optimizer = "rmsprop"  # the papers' RMSProp 1e-3; Adam learns copy several times slower here
    preset = "copy"
    anchors = (
        Anchor(
            "arjovsky2016",
            "Arjovsky et al. 2016, Fig. 1",
            ("lstm",),
            "LSTM (40 units): below the memoryless baseline only at T=100, slowly, after ~1M sequences; "
            "T>=200 at the baseline [fig]",
            lengths=(100, 200),
            settings={"hidden_size": 40, "batch_size": 20, "optimizer": "rmsprop", "lr": 1e-3, "clip": 1.0},
            inits=("glorot",),
            sequences=1_000_000,
            mapping="their code (amarshah/complex_RNN, models.py) draws the LSTM's weights Glorot-uniform, "
            "its biases 0 and its forget bias 1: glorot here",
        ),
        Anchor(
            "arjovsky2016-rnn",
            "Arjovsky et al. 2016, Fig. 1",
            ("rnn",),
            "tanh RNN (80 units): at the memoryless baseline from T=100 on",
        ),
        Anchor(
            "tallec2018",
            "Tallec & Ollivier 2018, Fig. 1",
            ("lstm",),
            "T=500: forget bias 1 plateaus at the memoryless loss, chrono (T_max = 3T/2) learns, within 60k "
            "iterations",
            lengths=(500,),
            settings={"hidden_size": 128, "batch_size": 20, "optimizer": "rmsprop", "lr": 1e-3, "clip": None},
            inits=("forget1", "chrono"),
            sequences=500_000,
            mapping="the batch size is not stated: 20 here; no clipping, as in the paper",
        ),
    )

    def delays(self, rng: np.random.Generator, n: int, seq_len: int) -> np.ndarray:
        """The number of steps from the last symbol to the delimiter, per sequence."""
        return np.full(n, seq_len)

    def batch(self, rng: np.random.Generator, n: int, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
        self.check_length(seq_len)
        length = seq_len + 2 * SYMBOLS
        symbols = rng.integers(1, 9, (n, SYMBOLS))
        delays = self.delays(rng, n, seq_len)
        tokens = np.zeros((n, length), dtype=np.int64)
        target = np.zeros((n, length), dtype=np.int64)
        tokens[:, :SYMBOLS] = symbols
        rows = np.arange(n)
        tokens[rows, SYMBOLS - 1 + delays] = DELIMITER
        recall = self.recall_positions(delays)
        target[rows[:, None], recall] = symbols
        return np.eye(CLASSES)[tokens], target

    @staticmethod
    def recall_positions(delays: np.ndarray) -> np.ndarray:
        """(n, 10) positions where each sequence's symbols are to be recalled: right after its delimiter."""
        return SYMBOLS + delays[:, None] + np.arange(SYMBOLS)

    def baseline(self, seq_len: int) -> float:
        return SYMBOLS * np.log(8) / (seq_len + 2 * SYMBOLS)

    def metrics(self, output: np.ndarray, target: np.ndarray, seq_len: int) -> dict[str, float | bool]:
        shifted = output - output.max(axis=-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        loss = float(-np.take_along_axis(log_probs, target[..., None], axis=-1).mean())
        recall = target != BLANK  # the recalled positions hold the symbols 1..8, never blank
        accuracy = float(np.mean(output.argmax(axis=-1)[recall] == target[recall]))
        return {"test_loss": loss, "accuracy": accuracy, "solved": accuracy > self.solved_above}


class VariableCopy(Copy):
    """As copy, with the delay to the delimiter uniform in 1..T per sequence (Henaff et al. 2016);
    the positions after the recall window are blanks."""

    name = "varcopy"

    def delays(self, rng: np.random.Generator, n: int, seq_len: int) -> np.ndarray:
        return rng.integers(1, seq_len + 1, n)
