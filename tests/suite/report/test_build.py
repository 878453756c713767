"""``python -m suite.report`` reads partial and broken results, writes Markdown, HTML and PNGs."""

import pytest

from suite.records import write_records
from suite.report.command import main

ENV = {
    "cpu": "Test CPU",
    "cores": 2,
    "gpus": [],
    "threads": 2,
    "versions": {"numpy": "2"},
    "git_commit": "abc123",
    "date": "2026-11-26T00:00:00+00:00",
}


def write(folder, name, records, **environment):
    env = {**ENV, **environment}
    records = [{"implementation": r["framework"], **r, "environment": env} for r in records]
    write_records(folder / name, records)


def speed_records():
    out = []
    for framework, scale in (("numpy", 3.0), ("torch", 1.0)):
        for cell in ("rnn", "lstm", "gru"):
            for mode in ("forward", "train"):
                base = {
                    "kind": "speed",
                    "status": "ok",
                    "framework": framework,
                    "cell": cell,
                    "mode": mode,
                    "batch": 16,
                    "input_size": 128,
                    "hidden_size": 128,
                    "num_layers": 1,
                    "dtype": "float32",
                    "device": "cpu",
                    "threads": 2,
                    "path": "x",
                    "flops": 1e9,
                    "gemm_gflops": 100.0,
                    "first_call_s": 0.5,
                    "iqr_s": 0.001,
                }
                out.append({**base, "group": "fastrnns", "seq_len": 100, "median_s": 0.1 * scale})
                for t in (25, 50, 100):
                    out.append({**base, "group": "seq_sweep", "seq_len": t, "median_s": t * 1e-3 * scale})
    return out


def accuracy_records():
    return [
        {
            "kind": "accuracy",
            "status": "ok",
            "task": "adding",
            "framework": f,
            "cell": c,
            "seq_len": t,
            "seed": s,
            "steps": 10,
            "hidden_size": 8,
            "optimizer": "adam",
            "lr": 1e-3,
            "test_loss": 0.1 / t + s,
            "baseline_loss": 1 / 6,
            "accuracy": 0.5,
            "solved": False,
            "wall_seconds": 1.0,
            "learning_curve": [[1, 0.3], [10, 0.2]],
        }
        for f in ("numpy", "jax")
        for c in ("rnn", "lstm", "gru")
        for t in (10, 20)
        for s in (0, 1)
    ]


def test_full_report(tmp_path, capsys):
    write(
        tmp_path,
        "check.json",
        [
            {
                "kind": "check",
                "framework": "torch",
                "cell": "gru",
                "dtype": "float64",
                "device": "cpu",
                "path": "aten",
                "errors": {"y": 1e-16, "h_n": 2e-16, "d_x": 3e-16},
                "max_error": 3e-16,
                "tolerance": 1e-10,
                "status": "pass",
                "test": "function",
            },
            {
                "kind": "check",
                "framework": "torch",
                "cell": "gru",
                "dtype": "float64",
                "device": "cpu",
                "test": "round_trip",
                "errors": {"weight_ih_l0": 0.0},
                "max_error": 0.0,
                "worst": None,
                "tolerance": 0.0,
                "status": "pass",
            },
        ],
    )
    write(tmp_path, "speed.json", speed_records())
    longer = [{**r, "steps": 20} for r in accuracy_records() if r["framework"] == "jax"]
    write(tmp_path, "accuracy.json", accuracy_records())
    write(tmp_path, "accuracy-longer.json", longer)  # other settings: drawn apart, not averaged in
    assert main(["--results", str(tmp_path)]) == 0
    md = (tmp_path / "report.md").read_text()
    for heading in ("## Where and when", "## Equivalence", "## Speed", "## Memory", "## Learning long"):
        assert heading in md
    assert "2 of 2 rows pass" in md and "Test CPU" in md and "abc123" in md
    assert "| 3.0e-16 | 1.0e-10 | pass | exact |" in md  # the round trip, in its own column
    assert "more than 2x slower than the fastest: 24." in md  # numpy, 3x slower than torch everywhere
    assert md.index("## Findings") < md.index("## Contents") < md.index("## Equivalence")
    assert "_Not measured: no memory results" in md and "rnnbench run memory" in md
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == [
        "accuracy_adding.png",
        "accuracy_adding_steps20.png",
        "curves_adding.png",
        "curves_adding_steps20.png",
        "settings_adding.png",
        "speed_fastrnns.png",
        "speed_vs_length.png",
    ]
    for png in pngs:
        assert f"]({png})" in md
    page = (tmp_path / "report.html").read_text()
    assert "### adding: steps 20," in md
    # seven plots; the speed and learning studies' first figures shown again over their findings
    assert page.count("data:image/png;base64,") == 9 and 'src="speed' not in page
    assert "<table class='data'>" in page and "<details id='speed'>" in page


def test_broken_and_foreign_files_are_named_and_skipped(tmp_path, capsys):
    write(tmp_path, "speed.json", speed_records())
    (tmp_path / "cut.json").write_text('[{"kind": "speed"')
    (tmp_path / "pytest-benchmark.json").write_text('{"benchmarks": []}')
    assert main(["--results", str(tmp_path), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "cut.json" in err and "pytest-benchmark.json" in err
    assert "warning: skipped" in (tmp_path / "out" / "report.md").read_text()


@pytest.mark.parametrize("content", [None, '{"benchmarks": []}'])
def test_no_results_is_exit_2(tmp_path, capsys, content):
    if content:
        (tmp_path / "x.json").write_text(content)
    assert main(["--results", str(tmp_path)]) == 2
    assert "no rnnbench results" in capsys.readouterr().err
    assert main(["--results", str(tmp_path / "missing")]) == 2


def test_settings_groups_that_differ_only_in_lr_get_their_own_plots(tmp_path):
    write(tmp_path, "accuracy.json", accuracy_records())
    for lr in (0.01, 0.1):
        write(
            tmp_path,
            f"accuracy-lr{lr}.json",
            [{**r, "steps": 20, "lr": lr} for r in accuracy_records() if r["seed"] == 0],
        )
    assert main(["--results", str(tmp_path)]) == 0
    assert (tmp_path / "settings_adding.png").exists()  # the three settings' curves on shared panels
    assert "### adding: the settings compared" in (tmp_path / "report.md").read_text()
    names = {p.name for p in tmp_path.glob("curves_*.png")}
    assert names == {
        "curves_adding.png",
        "curves_adding_steps20_lr0.01.png",
        "curves_adding_steps20_lr0.1.png",
    }


def test_the_full_profile_run_is_the_main_one_even_when_smaller(tmp_path):
    full = {"steps": 6000, "batch_size": 50, "hidden_size": 128, "clip": 1.0, "dtype": "float32"}
    records = accuracy_records()  # 24 records with other settings
    write(tmp_path, "accuracy.json", [{**r, "clip": 1.0, "dtype": "float32"} for r in records])
    write(tmp_path, "accuracy-full.json", [{**r, **full} for r in records if r["framework"] == "jax"][:3])
    assert main(["--results", str(tmp_path)]) == 0
    md = (tmp_path / "report.md").read_text()
    first = md.index("### adding: steps 6000")
    assert "(the full profile)" in md[first:].splitlines()[0] and first < md.index("### adding: steps 10")
    assert "![adding: learning curves](curves_adding.png)" in md[first : md.index("### adding: steps 10")]


def capacity_records():
    """A search (torch) that reaches T=20 on the LSTM, with the GRU at T=10 compared on two frameworks."""
    from suite.studies.capacity import search as capacity

    out = []
    for impl, cell, reach in (
        ("torch", "lstm", 20),
        ("torch", "rnn", 0),
        ("torch", "gru", 10),
        ("jax", "gru", 10),
    ):
        for t in (10, 20, 40) if impl == "torch" and cell != "gru" else (10,):
            for s in range(5):
                solved = t <= reach and s < 3
                spec = capacity.spec(
                    ("adding", cell, "default"), "torch", t, s, capacity.settings_for("adding")
                )
                out.append(
                    {
                        **spec,
                        "kind": "capacity",
                        "framework": impl,
                        "implementation": impl,
                        "status": "ok",
                        "solved": solved,
                        "solved_step": 300 if solved else None,
                        "accuracy": 0.9 if solved else 0.2,
                        "test_loss": 0.009 if solved else 0.1,
                    }
                )
    return out


def test_the_capacity_search_leads_with_the_longest_length_solved(tmp_path):
    earlier = [{**r, "steps": 2000, "eval_every": 100, "solved": False} for r in capacity_records()]
    write(tmp_path, "capacity.json", capacity_records() + earlier)
    assert main(["--results", str(tmp_path)]) == 0
    md = (tmp_path / "report.md").read_text()
    published, before = [
        line for line in md.splitlines() if line.startswith("- **longest T solved by at least half")
    ]
    assert "at the published budgets (adding 400,000 sequences (20,000 steps); batch 20)" in published
    assert "adding: tanh RNN <10 (default), LSTM 20 (default), GRU >=10 (default)" in published
    assert "within 2000 steps of batch 20 (the earlier budget)" in before and "LSTM <10 (default)" in before
    assert md.index(published) < md.index(before)
    assert "## How far each cell reaches" in md and "![test accuracy against T" in md
    assert "| adding | lstm | default | torch | 400,000 | 20 | 20 | 10:3/5@300 20:3/5@300 40:0/5 |" in md
    assert "### The earlier search: 2000 steps a job" in md
    assert "| adding | lstm | default | torch | 40,000 | <10 | <10 | 10:0/5 20:0/5 40:0/5 |" in md
    assert "### Does the framework change the outcome?" in md
    assert "| adding | gru | default | 10 | jax | 5 | 3 |" in md
    assert (tmp_path / "capacity.png").exists()


# one gradient measurement, as the diagnostic records it
GRADIENT = {
    "kind": "gradients",
    "status": "ok",
    "framework": "numpy",
    "init": "default",
    "seed": 0,
    "hidden_size": 8,
    "lags": [1, 5, 10],
    "task": "adding",
    "dtype": "float64",
    "batch": 2,
}


def test_gradients_after_training_get_their_own_plot_and_sentence(tmp_path):
    base = {**GRADIENT, "cell": "lstm"}
    trained_on = {
        "task": "adding",
        "implementation": "torch",
        "seq_len": 50,
        "batch_size": 20,
        "optimizer": "adam",
        "lr": 1e-3,
        "clip": 1.0,
        "dtype": "float32",
    }
    records = [
        {**base, "step": 0, "norms": [0.5, 0.1, 0.01], "decay_per_step": 0.6},
        {**base, "step": 500, "norms": [0.9, 0.8, 0.7], "decay_per_step": 0.95, "trained_on": trained_on},
    ]
    write(tmp_path, "gradients.json", records)
    assert main(["--results", str(tmp_path)]) == 0
    md = (tmp_path / "report.md").read_text()
    assert "After 500 training steps on adding at T=50 (c path for the LSTM): LSTM default 0.950." in md
    assert (tmp_path / "gradients.png").exists() and (tmp_path / "gradients_trained.png").exists()


def test_gradients_measured_on_a_gpu_are_set_against_the_cpu_reference_not_pooled_with_it(tmp_path):
    base = {**GRADIENT, "cell": "rnn", "step": 0}
    cpu = {**base, "implementation": "numpy", "framework": "numpy", "norms": [0.5, 0.1, 0.01]}
    gpu = {**base, "implementation": "torch", "framework": "torch", "device": "gpu"}
    write(tmp_path, "gradients.json", [{**cpu, "decay_per_step": 0.6}])
    gpu_records = [{**gpu, "norms": [0.5, 0.1, 0.01 * (1 + 2e-15)], "decay_per_step": 0.6}]
    write(tmp_path, "gradients-gpu.json", gpu_records, gpus=["NVIDIA H200"])
    assert main(["--results", str(tmp_path)]) == 0
    md = (tmp_path / "report.md").read_text()
    finding = next(line for line in md.splitlines() if line.startswith("- **gradient decay per step**"))
    assert "tanh RNN default 0.600" in finding and "1 implementations" in finding  # the CPU's alone
    assert "On the GPU (NVIDIA H200), torch matches the CPU NumPy reference's norms in all 1" in finding
    assert "| torch | gpu | rnn | default | 0 | 1 |" in md


def test_unstable_timings_are_drawn_hollow_and_named(tmp_path):
    from suite.studies.speed import report as plots

    records = speed_records()
    shaky = next(r for r in records if r["group"] == "fastrnns" and r["framework"] == "torch")
    shaky["unstable"], shaky["rel_iqr"], shaky["drift"] = True, 0.9, 0.4
    sweep = next(r for r in records if r["group"] == "seq_sweep")
    sweep["unstable"], sweep["rel_iqr"], sweep["drift"] = True, 0.5, 0.0
    fig = plots.fastrnns_point(records, "cpu")
    hollow = [p for p in fig.axes[0].patches if not p.get_fill() and p.get_height() > 0]
    assert len(hollow) == 1  # that one timing's throughput
    assert all(c.patches[0].get_fill() for c in fig.axes[0].get_legend_handles_labels()[0])  # legend: fills
    assert any("hollow: an unstable timing" in t.get_text() for t in fig.texts)
    fig = plots.speed_vs_length(records, "cpu")
    assert any(line.get_markerfacecolor() == "white" for ax in fig.axes for line in ax.lines)
    write(tmp_path, "speed.json", records)
    assert main(["--results", str(tmp_path)]) == 0
    md = (tmp_path / "report.md").read_text()
    assert "**2 of 48 timings in this run are unstable**" in md and "UNSTABLE (IQR 90% of the median" in md
