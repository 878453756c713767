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
    x, _, _ = batches(tasks.get(task_name), 9, 0, 3, max(7, tasks.get(task_name).min_length))
    np.testing.assert_allclose(trainer.predict(x), ref_trainer.predict(x), rtol=1e-8, atol=1e-10)
    assert set(trainer.params()) == set(ref_trainer.params())


def _takes_lengths(name):
    return name in impls.available() and impls.get(name).takes_lengths


# each framework's default in every cell, the variants (the same mechanism for lengths) in the LSTM
LENGTH_CASES = [
    pytest.param(p.values[0], cell, marks=p.marks, id=f"{p.values[0]}-{cell}")
    for p in framework_params(gradients=True)
    if _takes_lengths(p.values[0]) and p.values[0] != "numpy"  # the reference itself
    for cell in (impls.CELLS if p.values[0] in impls.FRAMEWORKS else ("lstm",))
]


@pytest.mark.parametrize("name, cell", LENGTH_CASES)
def test_with_lengths_loss_trajectories_match_numpy(name, cell):
    """The adding problem in batches of different lengths (varadding): every implementation that takes
    lengths trains by its own mechanism (PackedSequence, a Keras mask, a masked scan, flax's seq_lengths)
    as the NumPy reference does sequence by sequence, float64."""
    expected, ref_trainer = trajectory("numpy", cell, "varadding", "adam", 0.01)
    got, trainer = trajectory(name, cell, "varadding", "adam", 0.01)
    assert expected[-1] < expected[0]
    np.testing.assert_allclose(got, expected, rtol=1e-8)
    x, _, lengths = batches(tasks.get("varadding"), 9, 0, 4, 7)
    assert len(set(lengths)) > 1  # the batch does hold different lengths
    np.testing.assert_allclose(trainer.predict(x, lengths), ref_trainer.predict(x, lengths), rtol=1e-8)


def test_with_lengths_the_readout_reads_each_sequences_own_last_step():
    """Padding after a sequence's end changes nothing it predicts: its output is read at its own end."""
    model = impls.create("numpy", "gru", 2, 4, 1, "float64")
    trainer = model.trainer(TrainConfig(loss="mse_last"), seed=0)
    x, _, lengths = batches(tasks.get("varadding"), 3, 0, 4, 9)
    noisy = x.copy()
    for b, n in enumerate(lengths):
        noisy[b, n:] = 7.0
    np.testing.assert_array_equal(trainer.predict(noisy, lengths), trainer.predict(x, lengths))
    alone = [trainer.predict(x[b : b + 1, :n]) for b, n in enumerate(lengths)]
    np.testing.assert_allclose(trainer.predict(x, lengths), np.concatenate(alone), rtol=1e-12)


def test_bad_lengths_in_training():
    model = impls.create("numpy", "gru", 2, 3)
    x = np.zeros((4, 5, 2), dtype="float32")
    mse = model.trainer(TrainConfig(loss="mse_last"))
    with pytest.raises(ValueError, match="between 1 and the time dimension 5"):
        mse.step(x, np.zeros((4, 1), dtype="float32"), np.array([1, 2, 6, 3]))
    with pytest.raises(ValueError, match="one per sequence"):
        mse.predict(x, np.array([1, 2]))
    ce = model.trainer(TrainConfig(loss="ce_all", output_size=9))
    with pytest.raises(ValueError, match="each sequence's last step"):
        ce.step(x, np.zeros((4, 5), dtype=np.int64), np.array([1, 2, 5, 3]))


@pytest.mark.parametrize("framework", framework_params(gradients=True))
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


def _runs_setup(framework, cell="lstm"):
    """Three runs that differ in seed, init and learning rate (RMSProp, clipped), float64."""
    task = tasks.get("adding")
    runs = [(0, "default", 1e-3), (1, "forget1", 3e-3), (2, "chrono", 1e-2)]
    models = [
        impls.create(framework, cell, 2, 6, 1, "float64", seed=seed, init=init, t_max=12)
        for seed, init, _ in runs
    ]
    configs = [TrainConfig(loss="mse_last", optimizer="rmsprop", lr=lr, clip=0.5) for *_, lr in runs]
    return task, runs, models, configs


@pytest.mark.parametrize("framework", framework_params(("jax", "jax-flax", "torch", "numpy")))
def test_runs_trained_together_follow_their_single_run_trajectories(framework):
    """K runs in one step (JAX: jax.vmap over parameters, slots, rates and batches) compute what each run's
    own trainer computes: losses every step and parameters at the end, float64, to 1e-12."""
    task, runs, models, configs = _runs_setup(framework)
    together = type(models[0]).train_together(models, configs, [seed for seed, *_ in runs])
    assert together.fused == impls.get(framework).trains_together
    _, _, singles, _ = _runs_setup(framework)
    trainers = [m.trainer(c, seed) for m, c, (seed, *_) in zip(singles, configs, runs, strict=True)]
    for step in range(20):
        xs, targets, _ = zip(*(batches(task, seed, step, 5, 12) for seed, *_ in runs), strict=True)
        got = together.step(list(xs), list(targets))
        expected = [t.step(x, y) for t, x, y in zip(trainers, xs, targets, strict=True)]
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    for k, trainer in enumerate(trainers):
        expected = trainer.params()
        for name, value in together.params(k).items():
            np.testing.assert_allclose(value, expected[name], rtol=1e-12, atol=1e-14, err_msg=name)
        np.testing.assert_allclose(together.predict(k, xs[0]), trainer.predict(xs[0]), rtol=1e-12)


@pytest.mark.parametrize("framework", framework_params(("jax", "numpy")))
def test_runs_trained_together_with_lengths_follow_their_single_runs(framework):
    """Runs stepped together on batches of different lengths (JAX: the masked scan under jax.vmap)."""
    task, runs, models, configs = _runs_setup(framework, "gru")
    together = type(models[0]).train_together(models, configs, [seed for seed, *_ in runs])
    _, _, singles, _ = _runs_setup(framework, "gru")
    trainers = [m.trainer(c, seed) for m, c, (seed, *_) in zip(singles, configs, runs, strict=True)]
    varadding = tasks.get("varadding")
    for step in range(10):
        xs, targets, lengths = zip(*(batches(varadding, seed, step, 5, 12) for seed, *_ in runs), strict=True)
        got = together.step(list(xs), list(targets), None, list(lengths))
        expected = [t.step(x, y, n) for t, x, y, n in zip(trainers, xs, targets, lengths, strict=True)]
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(
        together.predict(1, xs[0], lengths[0]), trainers[1].predict(xs[0], lengths[0]), rtol=1e-12
    )


def test_runs_trained_together_must_share_a_shape_and_all_but_the_rate():
    _, _, models, configs = _runs_setup("numpy")
    cls = type(models[0])
    with pytest.raises(ValueError, match="one config and one seed per model"):
        cls.train_together(models, configs[:2], [0, 1, 2])
    with pytest.raises(ValueError, match="share one shape"):
        cls.train_together(
            [models[0], impls.create("numpy", "lstm", 2, 7, 1, "float64")], configs[:2], [0, 1]
        )
    with pytest.raises(ValueError, match="learning rate only"):
        cls.train_together(models[:2], [configs[0], TrainConfig(loss="mse_last", optimizer="adam")], [0, 1])
    with pytest.raises(TypeError, match="train_together got a"):
        cls.train_together([impls.create("torch", "lstm", 2, 6, 1, "float64")], configs[:1], [0])
    together = cls.train_together(models, configs, [0, 1, 2])
    x = np.zeros((5, 12, 2))
    with pytest.raises(ValueError, match="3 runs need 3 batches"):
        together.step([x, x], [np.zeros((5, 1))] * 2)
    with pytest.raises(ValueError, match="one shape"):
        together.step([x, x, np.zeros((5, 11, 2))], [np.zeros((5, 1))] * 3)


@pytest.mark.parametrize("name", framework_params(gradients=True))
def test_an_implementation_declares_whether_its_runs_train_together(name):
    model = impls.create(name, "gru", 2, 3, 1, "float64")
    config = TrainConfig(loss="mse_last")
    together = type(model).train_together([model], [config], [0])
    assert together.fused == impls.get(name).trains_together
