"""A training job, alone or with others in one process: each run keeps its own batches, early stop and
record."""

import numpy as np
import pytest

from suite.training import job, spec
from tests.conftest import framework_params

SETTINGS = dict(
    steps=400, batch_size=8, hidden_size=8, optimizer="adam", clip=1.0, dtype="float64", eval_every=20
)
# seed, learning rate, init: the first two solve at different steps, the third runs its whole budget
RUNS = [(0, 0.03, "default"), (1, 0.01, "forget1"), (2, 0.001, "default")]


def specs(implementation):
    return [
        spec.make("adding", implementation, "gru", 4, seed, lr=lr, init=init, **SETTINGS)
        for seed, lr, init in RUNS
    ]


@pytest.mark.parametrize("implementation", framework_params(("jax", "numpy")))
def test_runs_together_give_each_run_the_record_its_own_job_gives(implementation):
    together = job.run_job({"runs": specs(implementation)})["runs"]
    alone = [job.run_job(s) for s in specs(implementation)]
    solved = [r["solved_step"] for r in alone]
    assert solved[0] and solved[1] and solved[0] != solved[1] and solved[2] is None  # early stops differ
    for got, expected in zip(together, alone, strict=True):
        assert (got["status"], got["solved_step"], got["steps_run"], got["solved"]) == (
            expected["status"],
            expected["solved_step"],
            expected["steps_run"],
            expected["solved"],
        )
        assert got["test_loss"] == pytest.approx(expected["test_loss"], rel=1e-12)
        for a, b in [("learning_curve", 1), ("validation_curve", 2)]:
            np.testing.assert_allclose(
                [p[b] for p in got[a]], [p[b] for p in expected[a]], rtol=1e-12, err_msg=a
            )
            assert [p[0] for p in got[a]] == [p[0] for p in expected[a]]
        assert got["train_seconds"] > 0 and got["path"] == expected["path"]
    assert together[0]["train_seconds"] < together[2]["train_seconds"]  # a run's time ends at its stop
    fused = implementation == "jax"
    assert [r.get("runs_per_step") for r in together] == [3 if fused else None] * 3


def test_a_run_that_diverges_stops_alone():
    runs = [
        {**s, "optimizer": "sgd", "clip": None, "lr": lr}
        for s, lr in zip(specs("numpy"), [0.1, 1e6, 0.1], strict=True)
    ]
    records = job.run_job({"runs": runs})["runs"]
    assert [r["status"] for r in records] == ["ok", "diverged", "ok"]
    assert records[1]["test_loss"] is None and records[1]["steps_run"] < 400
    assert records[0]["steps_run"] == records[2]["steps_run"] == 400
