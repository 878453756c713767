"""The four frameworks train by one definition: float64 loss trajectories agree step for step."""

import numpy as np
import pytest

import impls
import tasks
from impls.layout import init_params
from impls.training import TrainConfig
from suite.training.job import batches
from tests.conftest import framework_params

STEPS = 50


def trajectory(framework, cell, task_name, optimizer, lr):
    task = tasks.get(task_name)
    model = impls.create(framework, cell, task.input_size, 6, num_layers=2, dtype="float64")
    model.set_params(init_params(cell, task.input_size, 6, 2, "float64", seed=4))  # drawn here, not read back
    config = TrainConfig(loss=task.loss, output_size=task.output_size, optimizer=optimizer, lr=lr, clip=0.5)
    trainer = model.trainer(config, seed=4)
    length = max(7, task.min_length)
    losses = [trainer.step(*batches(task, 4, step, 5, length)) for step in range(STEPS)]
    return np.array(losses), trainer


@pytest.mark.parametrize(
    "task_name, optimizer, lr",
    [
        ("adding", "sgd", 0.1),
        ("adding", "adam", 0.01),
        ("adding", "rmsprop", 0.01),
        ("copy", "adam", 0.01),
        ("temporal2", "adam", 0.01),
    ],
)
@pytest.mark.parametrize("cell", impls.CELLS)
@pytest.mark.parametrize("framework", framework_params(("torch", "tensorflow", "jax")))
def test_loss_trajectories_match_numpy(framework, cell, task_name, optimizer, lr):
    expected, ref_trainer = trajectory("numpy", cell, task_name, optimizer, lr)
    got, trainer = trajectory(framework, cell, task_name, optimizer, lr)
    assert expected[-1] < expected[0]  # it learns something, so the comparison means something
    np.testing.assert_allclose(got, expected, rtol=1e-8)
    # and the parameters at the end are the same function (Keras splits merged-bias changes evenly)
    x, _ = batches(tasks.get(task_name), 9, 0, 3, max(7, tasks.get(task_name).min_length))
    np.testing.assert_allclose(trainer.predict(x), ref_trainer.predict(x), rtol=1e-8, atol=1e-10)
    assert set(trainer.params()) == set(ref_trainer.params())


@pytest.mark.parametrize("framework", framework_params())
def test_bad_targets(framework):
    model = impls.create(framework, "gru", 2, 3)
    mse = model.trainer(TrainConfig(loss="mse_last", output_size=1))
    x = np.zeros((4, 5, 2), dtype="float32")
    with pytest.raises(ValueError, match=r"target has shape \(4, 2\), expected \(4, 1\)"):
        mse.step(x, np.zeros((4, 2), dtype="float32"))
    with pytest.raises(ValueError, match="NaN or inf"):
        mse.step(x, np.full((4, 1), np.nan, dtype="float32"))
    ce = model.trainer(TrainConfig(loss="ce_all", output_size=9))
    with pytest.raises(ValueError, match="integer classes"):
        ce.step(x, np.zeros((4, 5), dtype="float32"))
    with pytest.raises(ValueError, match=r"lie in \[0, 9\)"):
        ce.step(x, np.full((4, 5), 9))
    last = model.trainer(TrainConfig(loss="ce_last", output_size=4))
    with pytest.raises(ValueError, match=r"integer classes of shape \(4,\)"):
        last.step(x, np.zeros((4, 5), dtype=np.int64))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"loss": "hinge"}, "unknown loss"),
        ({"optimizer": "lion"}, "unknown optimizer"),
        ({"lr": 0}, "lr must be > 0"),
        ({"clip": -1.0}, "clip must be > 0"),
    ],
)
def test_bad_train_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


@pytest.mark.parametrize("framework", framework_params(("torch", "tensorflow", "jax")))
def test_with_subnormals_flushed_float64_jobs_still_train_as_the_reference_does(framework):
    """A training job flushes subnormals where its framework can (suite.training.job); its float64 learning
    curve still equals the NumPy job's, whose arithmetic keeps them."""
    from suite.training import scheduler, spec

    def job(name):
        settings = dict(steps=40, batch_size=5, hidden_size=6, optimizer="adam", lr=0.01, clip=1.0)
        s = spec.make("adding", name, "lstm", 30, 0, dtype="float64", threads=1, **settings)
        return scheduler.run_in_subprocess(s, 300.0)

    reference, other = job("numpy"), job(framework)
    assert (reference["status"], other["status"]) == ("ok", "ok")
    assert (reference["denormals"], other["denormals"]) == ("kept", "flushed")
    expected = np.array([loss for _, loss in reference["learning_curve"]])
    got = np.array([loss for _, loss in other["learning_curve"]])
    np.testing.assert_allclose(got, expected, rtol=1e-10)
