"""The gradient diagnostic: a case with a known answer, the fit, the jobs, agreement across frameworks, and
the command line."""

import json

import numpy as np
import pytest

import impls
import tasks
from suite.cli import main
from suite.records import read_records
from suite.studies.gradients import diagnostic as gradients
from tests.conftest import framework_params, run_cli


def test_on_the_linear_regime_the_norm_follows_the_recurrent_matrixs_powers():
    """x = 0, zero biases and h_0 = 0 keep every pre-activation at 0, where tanh' = 1: the gradient reaching
    h_0 from h_k is exactly (W_hh^T)^k u."""
    model = impls.create("numpy", "rnn", 3, 5, dtype="float64", seed=1)
    params = model.get_params()
    params["bias_ih_l0"][:] = params["bias_hh_l0"][:] = 0
    params["weight_hh_l0"] *= 2.0  # some growth, some decay
    model.set_params(params)
    u = gradients.probe(5, 0)
    lags = (1, 2, 3, 8)
    norms, c_norms = gradients.gradient_norms(model, np.zeros((2, 8, 3)), lags, u)
    w = params["weight_hh_l0"]
    expected = [np.linalg.norm(np.linalg.matrix_power(w.T, k) @ u) for k in lags]
    np.testing.assert_allclose(norms, expected, rtol=1e-12)
    assert c_norms is None


def test_the_decay_is_the_fitted_ratio_per_step():
    lags = [1, 5, 10, 20, 40]
    assert gradients.decay_per_step(lags, [0.9**k for k in lags]) == pytest.approx(0.9)
    assert gradients.decay_per_step(lags, [1e-2, 0.5**5, 0.5**10, 0.5**20, 0.0]) == pytest.approx(0.5)
    assert gradients.decay_per_step([1, 2], [0.5, 0.25]) is None  # nothing from lag 5 on


def test_jobs_leave_out_gate_inits_for_the_tanh_rnn():
    jobs = gradients.job_specs(["numpy"], ["rnn", "lstm"], ["default", "chrono"], 2, 8, 300)
    assert [(j["cell"], j["init"]) for j in jobs] == [("rnn", "default")] * 2 + [("lstm", "default")] * 2 + [
        ("lstm", "chrono")
    ] * 2
    assert {j["t_max"] for j in jobs if j["init"] == "chrono"} == {300}
    assert {j["t_max"] for j in jobs if j["init"] == "default"} == {None}


def test_every_implementation_measures_the_same_norms(cell="lstm", init="chrono"):
    job = {
        "implementation": "numpy",
        "cell": cell,
        "init": init,
        "t_max": 100,
        "seed": 0,
        "hidden_size": 8,
        "task": "adding",
        "lags": [5, 10],  # each length compiles anew in the compiling variants
        "dtype": "float64",
        "batch": 3,
    }
    expected = gradients.measure(job)
    assert expected["step"] == 0 and 0 < expected["decay_per_step"] < 1.01
    assert (expected["c_norms"] is not None) == (cell == "lstm")
    for name in impls.available():
        impl = impls.get(name)
        if "cpu" in impl.devices and impl.differentiable and "float64" in impl.dtypes and name != "numpy":
            got = gradients.measure({**job, "implementation": name})
            np.testing.assert_allclose(got["norms"], expected["norms"], rtol=1e-9, err_msg=name)
            if cell == "lstm":
                np.testing.assert_allclose(got["c_norms"], expected["c_norms"], rtol=1e-9, err_msg=name)


@pytest.mark.parametrize(
    "name", framework_params([n for n in impls.registry.names() if "gpu" in impls.get(n).devices], "gpu")
)
def test_on_the_gpu_every_implementation_measures_the_cpu_references_norms(name):
    """Skips cleanly where the implementation is not installed or sees no GPU, or has no float64."""
    if "float64" not in impls.get(name).dtypes:
        pytest.skip(f"{name} has no float64: the diagnostic is float64")
    job = {
        "implementation": "numpy",
        "cell": "lstm",
        "init": "chrono",
        "t_max": 100,
        "seed": 0,
        "hidden_size": 8,
        "task": "adding",
        "lags": [5, 10],
        "dtype": "float64",
        "batch": 3,
    }
    expected = gradients.measure(job)
    try:
        got = gradients.measure({**job, "implementation": name, "device": "gpu"})
    except impls.DeviceUnavailableError as e:
        pytest.skip(str(e))
    np.testing.assert_allclose(got["norms"], expected["norms"], rtol=1e-9)
    np.testing.assert_allclose(got["c_norms"], expected["c_norms"], rtol=1e-9)


def test_the_command_writes_records_with_what_the_issue_asks(tmp_path):
    path = tmp_path / "g.json"
    argv = ["run", "gradients", "--impls", "numpy", "--cells", "rnn,lstm", "--init", "default,forget1"]
    assert main([*argv, "--seeds", "2", "--hidden-size", "8", "--lags", "1,5,10", "--json", str(path)]) == 0
    records = json.loads(path.read_text())["records"]
    assert len(records) == 6  # rnn default, lstm default and forget1, 2 seeds each
    for r in records:
        for key in ("implementation", "framework", "cell", "init", "seed", "hidden_size", "lags", "norms"):
            assert key in r
        assert r["step"] == 0 and r["decay_per_step"] is not None and r["lags"] == [1, 5, 10]
        assert r["device"] == "cpu"
        assert (r["c_norms"] is not None) == (r["cell"] == "lstm")


@pytest.mark.parametrize(
    "extra",
    [
        ["--init", "orthogonal"],
        ["--cells", "rnn", "--init", "chrono"],
        ["--seeds", "0"],
        ["--lags", "0,5"],
        ["--lags", "a"],
        ["--impls", "nope"],
        ["--init", "chrono", "--t-max", "2"],
        ["--device", "tpu"],
        ["--device", "gpu"],  # numpy has no GPU path
    ],
)
def test_bad_arguments_exit_2(extra, capsys, tmp_path):
    with pytest.raises(SystemExit) as e:
        main(["run", "gradients", "--impls", "numpy", *extra, "--json", str(tmp_path / "g.json")])
    assert e.value.code == 2
    assert "error" in capsys.readouterr().err


def test_at_training_checkpoints_the_norms_are_those_of_the_saved_weights(capsys, tmp_path):
    path = tmp_path / "g.json"
    argv = ["--impls", "numpy", "--cells", "lstm", "--init", "forget1", "--seeds", "1", "--hidden-size", "4"]
    argv += ["--lags", "1,5,6", "--train-steps", "0,3", "--train-impl", "numpy", "--train-seq-len", "5"]
    code, cap = run_cli(capsys, "run", "gradients", *argv, "--json", str(path))
    assert code == 0, cap.err
    records = read_records(path)
    assert [r["step"] for r in records] == [0, 3]
    trained = records[1]
    assert trained["trained_on"]["implementation"] == "numpy" and trained["trained_on"]["seq_len"] == 5
    saved = np.load(trained["checkpoint"])
    model = impls.create("numpy", "lstm", 2, 4, dtype="float64", seed=0, init="forget1")
    model.set_params({n: saved[n].astype("float64") for n in model.shapes})
    x, _ = tasks.get("adding").batch(np.random.default_rng([0, 3]), trained["batch"], 6)
    norms, _ = gradients.gradient_norms(model, x, (1, 5, 6), gradients.probe(4, 0))
    np.testing.assert_allclose(trained["norms"], norms, rtol=1e-12)
    assert trained["norms"] != records[0]["norms"]  # three steps of Adam moved the weights


@pytest.mark.parametrize("steps", ["-1", "x", ","])
def test_bad_training_steps_exit_2(capsys, tmp_path, steps):
    code, cap = run_cli(
        capsys,
        "run",
        "gradients",
        "--impls",
        "numpy",
        "--train-steps",
        steps,
        "--json",
        str(tmp_path / "g.json"),
    )
    assert code == 2 and "--train-steps" in cap.err


def test_asking_for_the_gpu_without_one_exits_2(capsys, monkeypatch, tmp_path):
    from suite import options as common

    monkeypatch.setattr("suite.environment.gpu_names", lambda: [])
    with pytest.raises(SystemExit) as e:
        main(["run", "gradients", "--impls", "torch", "--device", "gpu", "--json", str(tmp_path / "g.json")])
    assert e.value.code == 2 and "no GPU here" in capsys.readouterr().err
    assert common.on_device(["numpy"], "cpu") == ["numpy"]


def test_agreement_sets_each_measurement_against_the_cpu_reference_at_the_same_case():
    base = {"status": "ok", "cell": "lstm", "init": "default", "seed": 0, "hidden_size": 8, "lags": [5, 10]}
    ref = {**base, "implementation": "numpy", "norms": [1.0, 0.5], "c_norms": [2.0, 1.0]}
    gpu = {**base, "implementation": "torch", "device": "gpu", "norms": [1.0, 0.5], "c_norms": [2.0, 1.001]}
    cpu = {**base, "implementation": "jax", "device": "cpu", "norms": [1.0 + 1e-12, 0.5]}
    cpu["c_norms"] = [2.0, 1.0]
    other_seed = {**gpu, "seed": 1, "norms": [9.0, 9.0]}  # no reference at seed 1: left out
    rows = {r["device"]: r for r in gradients.agreement_with_reference([ref, gpu, cpu, other_seed])}
    assert rows["gpu"]["n"] == 1 and rows["gpu"]["implementations"] == ["torch"]
    assert rows["gpu"]["max_rel_diff"] == pytest.approx(1e-3)
    assert rows["cpu"]["max_rel_diff"] == pytest.approx(1e-12)


def test_at_initialisation_each_seed_counts_once():
    diagnostic = [{"source": "gradients.json", "seed": s, "step": 0} for s in range(3)]
    training = [
        {"source": "gradients-trained.json", "seed": s, "step": step} for s in range(3) for step in (0, 300)
    ]
    assert gradients.at_initialisation(diagnostic + training) == diagnostic
    # a training run's first checkpoint when nothing else was measured at initialisation
    assert gradients.at_initialisation(training) == [r for r in training if r["step"] == 0]


def test_a_training_run_whose_checkpoints_are_on_disk_is_not_run_again(tmp_path):
    from suite.studies.gradients import diagnostic

    specs = diagnostic.training_specs("numpy", ["rnn"], ["default"], 1, 4, [2], 4, str(tmp_path))
    ran = []
    (first,) = diagnostic.train(specs, tmp_path, 1, 120.0, ran.append)
    assert len(ran) == 1 and first["status"] == "ok" and list(tmp_path.glob("*.npz"))
    assert diagnostic.train(specs, tmp_path, 1, 120.0, ran.append) == [first] and len(ran) == 1
    for checkpoint in tmp_path.glob("*.npz"):
        checkpoint.unlink()  # the weights are gone: the job runs again
    diagnostic.train(specs, tmp_path, 1, 120.0, ran.append)
    assert len(ran) == 2 and list(tmp_path.glob("*.npz"))
