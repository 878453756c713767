"""The learning study's presets: per profile and task family, and how overrides resolve."""

import pytest

from suite.studies.learning import presets


def test_unknown_profile():
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        presets.training("huge", "adding")


def test_training_presets_and_overrides():
    full_copy = presets.resolve_training("full", "copy")
    assert full_copy["optimizer"] == "rmsprop" and full_copy["steps"] == 15000 and full_copy["clip"] == 1.0
    assert presets.resolve_training("full", "varcopy") == full_copy  # varcopy shares copy's preset
    assert presets.resolve_training("full", "adding")["optimizer"] == "adam"
    changed = presets.resolve_training("quick", "adding", steps=7, clip=0, lr=None, lengths=[3])
    assert (changed["steps"], changed["clip"], changed["lr"], changed["lengths"]) == (7, None, 1e-3, [3])
    settings = (7, 32, 32, "adam", 1e-3, None, "float32", "default", None)
    assert presets.training_settings_of(changed) == settings
    assert presets.training_settings_of({"steps": 7})[-2:] == ("default", None)  # records from before init


@pytest.mark.parametrize(
    "overrides, match",
    [
        ({"steps": 0}, "steps must be > 0"),
        ({"batch_size": -1}, "batch-size must be > 0"),
        ({"lr": 0.0}, "lr must be > 0"),
        ({"clip": -1.0}, "clip must be >= 0"),
        ({"optimizer": "lbfgs"}, "unknown optimizer 'lbfgs'"),
        ({"momentum": 0.9}, "unknown training setting"),
        ({"init": "orthogonal"}, "unknown init 'orthogonal'"),
        ({"t_max": 2}, "t-max must be >= 3"),
    ],
)
def test_bad_overrides(overrides, match):
    with pytest.raises(ValueError, match=match):
        presets.resolve_training("quick", "adding", **overrides)
