"""The adding problem (Le et al. 2015, Arjovsky et al. 2016)."""

from __future__ import annotations

import numpy as np

from tasks.base import Task


class Adding(Task):
    """Two channels over T steps: values U[0, 1), and markers, exactly one in [0, T//2) and one in
    [T//2, T). The target, read at the last step, is the sum of the two marked values. Loss MSE."""

    name = "adding"
    input_size = 2
    output_size = 1
    loss = "mse_last"
    min_length = 2
    tolerance = 0.04  # an answer within this of the target counts as correct
    solved_below = 0.01  # test MSE
    criterion = "test MSE below 0.01"
    shortest = 2
    preset = "adding"
    anchors = {
        "lstm": "solved T=100/200/400 in ~5k/15k/15k steps of batch 20-50, plateau at T=750 (Arjovsky 2016, "
        "Fig. 2); H&S 1997 Table 7: T=100/500/1000 after 74k/209k/853k sequences (their form)",
        "rnn": "never beats the 0.167 baseline at T=100..750 (Arjovsky 2016)",
        "gru": "TCN paper (Bai 2018, Table 1): MSE 5.3e-5 at T=600 (recalled, unverified)",
    }

    def batch(self, rng: np.random.Generator, n: int, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
        self.check_length(seq_len)
        half = seq_len // 2
        x = np.zeros((n, seq_len, 2))
        x[:, :, 0] = rng.random((n, seq_len))
        rows = np.arange(n)
        first = rng.integers(0, half, n)
        second = rng.integers(half, seq_len, n)
        x[rows, first, 1] = 1.0
        x[rows, second, 1] = 1.0
        target = (x[rows, first, 0] + x[rows, second, 0])[:, None]
        return x, target

    def baseline(self, seq_len: int) -> float:
        return 1.0 / 6.0  # always predicting 1: Var(U + U)

    def metrics(self, output: np.ndarray, target: np.ndarray, seq_len: int) -> dict[str, float | bool]:
        err = output.reshape(-1) - target.reshape(-1)
        mse = float(np.mean(err**2))
        return {
            "test_loss": mse,
            "accuracy": float(np.mean(np.abs(err) < self.tolerance)),
            "solved": mse < self.solved_below,
        }
