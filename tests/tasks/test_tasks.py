"""The task generators follow the published definitions and leak nothing."""

import numpy as np
import pytest

import tasks
from tasks.copy import DELIMITER


def test_adding_has_one_marker_in_each_half_and_sums_them():
    x, target = tasks.get("adding").batch(np.random.default_rng(0), 500, 11)
    assert x.shape == (500, 11, 2) and target.shape == (500, 1)
    markers = x[:, :, 1]
    assert np.all(markers.sum(axis=1) == 2)
    assert np.all(markers[:, :5].sum(axis=1) == 1) and np.all(markers[:, 5:].sum(axis=1) == 1)
    np.testing.assert_allclose(target[:, 0], (x[:, :, 0] * markers).sum(axis=1))
    assert 0 <= x[:, :, 0].min() and x[:, :, 0].max() < 1


def test_adding_baseline_is_the_variance_of_the_target():
    task = tasks.get("adding")
    _, target = task.batch(np.random.default_rng(1), 200_000, 20)
    assert task.baseline(20) == pytest.approx(1 / 6)
    assert task.metrics(np.ones_like(target), target, 20)["test_loss"] == pytest.approx(1 / 6, rel=0.01)
    perfect = task.metrics(target, target, 20)
    assert perfect["test_loss"] == 0 and perfect["accuracy"] == 1 and perfect["solved"]


def test_copy_layout():
    x, target = tasks.get("copy").batch(np.random.default_rng(0), 50, 7)
    assert x.shape == (50, 27, 10) and target.shape == (50, 27)
    tokens = x.argmax(-1)
    assert np.all((tokens[:, :10] >= 1) & (tokens[:, :10] <= 8))
    assert (
        np.all(tokens[:, 10:16] == 0) and np.all(tokens[:, 16] == DELIMITER) and np.all(tokens[:, 17:] == 0)
    )
    assert np.all(target[:, :17] == 0)
    np.testing.assert_array_equal(target[:, 17:], tokens[:, :10])


def test_copy_memoryless_baseline_matches_the_published_numbers():
    task = tasks.get("copy")
    assert task.baseline(100) == pytest.approx(0.173, abs=1e-3)
    assert task.baseline(200) == pytest.approx(0.0945, abs=1e-3)
    assert task.baseline(500) == pytest.approx(0.040, abs=1e-3)
    # the memoryless predictor (blank before the delimiter, uniform 1..8 after) scores the baseline
    x, target = task.batch(np.random.default_rng(0), 100, 30)
    logits = np.full(target.shape + (9,), -1e9)
    logits[:, :40, 0] = 0
    logits[:, 40:, 1:] = 0
    metrics = task.metrics(logits, target, 30)
    assert metrics["test_loss"] == pytest.approx(task.baseline(30))
    assert metrics["accuracy"] < 0.3 and not metrics["solved"]


def test_varcopy_delays_vary_and_recall_follows_the_delimiter():
    x, target = tasks.get("varcopy").batch(np.random.default_rng(0), 300, 12)
    tokens = x.argmax(-1)
    delimiter_at = (tokens == DELIMITER).argmax(axis=1)
    assert delimiter_at.min() == 10 and delimiter_at.max() == 21  # delays 1..T
    for row, d in enumerate(delimiter_at):
        np.testing.assert_array_equal(target[row, d + 1 : d + 11], tokens[row, :10])
        assert target[row].astype(bool).sum() == 10


def test_same_seed_same_data():
    a = tasks.get("copy").batch(np.random.default_rng(5), 4, 9)
    b = tasks.get("copy").batch(np.random.default_rng(5), 4, 9)
    np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.parametrize("name, length", [("adding", 1), ("copy", 0), ("varcopy", -3), ("adding", 2.5)])
def test_bad_lengths(name, length):
    with pytest.raises(ValueError, match="sequence length must be an integer"):
        tasks.get(name).batch(np.random.default_rng(0), 2, length)


def test_unknown_task():
    with pytest.raises(ValueError, match="unknown task 'parity'"):
        tasks.get("parity")


@pytest.mark.parametrize(
    "name, windows",
    [("temporal2", [(0.1, 0.2), (0.5, 0.6)]), ("temporal3", [(0.1, 0.2), (0.3, 0.4), (0.6, 0.7)])],
)
def test_temporal_order_layout(name, windows):
    """Distractors everywhere but one mark (A or B) in each window; the class is the marks in binary."""
    task = tasks.get(name)
    seq_len = 50
    x, target = task.batch(np.random.default_rng(0), 2000, seq_len)
    assert x.shape == (2000, seq_len, 6) and np.all(x.sum(-1) == 1)
    tokens = x.argmax(-1)
    is_mark = tokens <= 1
    assert np.all(is_mark.sum(axis=1) == len(windows))
    bits = []
    for a, b in windows:
        window = is_mark[:, int(a * seq_len) : int(b * seq_len)]
        assert np.all(window.sum(axis=1) == 1)  # exactly one mark in each window
        bits.append(tokens[:, int(a * seq_len) : int(b * seq_len)][window])
    expected = sum(bit * 2 ** (len(windows) - 1 - i) for i, bit in enumerate(bits))
    np.testing.assert_array_equal(target, expected)
    assert task.output_size == 2 ** len(windows) and task.loss == "ce_last" and task.test_size == 10_000
    assert sorted(np.bincount(target) / len(target))[0] > 0.8 / task.output_size  # classes near uniform
    # positions inside a window are all used, the windows' ends excluded
    first = np.argmax(is_mark, axis=1)
    assert first.min() == int(windows[0][0] * seq_len) and first.max() == int(windows[0][1] * seq_len) - 1


@pytest.mark.parametrize("name", ["temporal2", "temporal3"])
def test_temporal_order_leaks_nothing_a_memoryless_model_could_use(name):
    """The best prediction from the last input alone (or any single position outside the windows) is
    chance: its loss is the baseline ln(classes) and its error the chance error."""
    task = tasks.get(name)
    x, target = task.batch(np.random.default_rng(1), 40_000, 40)
    assert task.baseline(40) == pytest.approx(np.log(task.output_size))
    last = x[:, -1].argmax(-1)
    for symbol in range(2, 6):  # given the last symbol, the class distribution stays uniform
        freq = np.bincount(target[last == symbol], minlength=task.output_size) / np.sum(last == symbol)
        np.testing.assert_allclose(freq, 1 / task.output_size, atol=0.02)
    chance = task.metrics(np.zeros((len(target), task.output_size)), target, 40)
    assert chance["test_loss"] == pytest.approx(task.baseline(40)) and not chance["solved"]
    perfect = task.metrics(np.eye(task.output_size)[target] * 50, target, 40)
    assert perfect["accuracy"] == 1 and perfect["solved"]


def test_temporal_order_needs_ten_steps():
    with pytest.raises(ValueError, match="integer >= 10"):
        tasks.get("temporal2").batch(np.random.default_rng(0), 2, 9)


def test_varadding_lengths_vary_and_the_marks_lie_within_each_sequence():
    x, target, lengths = tasks.get("varadding").sample(np.random.default_rng(0), 400, 20)
    assert lengths.min() >= 10 and lengths.max() == 20 and len(set(lengths)) > 5
    steps = np.arange(20)[None, :]
    assert not x[steps >= lengths[:, None]].any()  # right-padded with zeros
    assert (x[:, :, 1].sum(axis=1) == 2).all()
    first, second = (np.argwhere(x[:, :, 1])[:, 1].reshape(-1, 2)).T
    assert (first < lengths // 2).all() and (second >= lengths // 2).all() and (second < lengths).all()
    np.testing.assert_allclose(target[:, 0], (x[:, :, 0] * x[:, :, 1]).sum(axis=1))
    padded, same_target = tasks.get("varadding").batch(np.random.default_rng(0), 400, 20)
    np.testing.assert_array_equal(padded, x)
    np.testing.assert_array_equal(same_target, target)
    assert tasks.get("adding").sample(np.random.default_rng(0), 3, 8)[2] is None
