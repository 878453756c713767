"""The command line: the installed ``rnnbench`` command and ``python -m suite`` are the same program."""

import importlib.metadata
import subprocess
import sys

import pytest

from suite import cli as commands
from tests.conftest import run_cli


def test_the_rnnbench_console_script_is_the_command_line():
    (entry,) = importlib.metadata.entry_points(group="console_scripts", name="rnnbench")
    assert entry.load() is commands.main


def test_python_m_suite_runs_the_same_parser():
    out = subprocess.run(
        [sys.executable, "-m", "suite", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("usage: python -m suite") and "check" in out and "calibrate" in out


def test_every_subcommand_is_there(capsys):
    for argv in (["check"], ["run", "speed"], ["run", "memory"], ["run", "accuracy"], ["compare"], ["track"]):
        code, out = run_cli(capsys, *argv, "--help")
        assert code == 0 and "usage:" in out.out


def test_the_gpu_command_says_when_there_is_no_gpu(capsys, monkeypatch):
    from suite import gpu

    monkeypatch.setattr(gpu, "gpu_names", lambda: [])
    code, out = run_cli(capsys, "gpu")
    assert code == 2 and "no GPU here" in out.err


def test_the_gpu_command_runs_every_gpu_step_on_the_gpu_one_implementation_a_unit():
    from suite import gpu, gpu_plan

    units = gpu_plan.units(gpu.GPU_STEPS, ["torch", "jax-flax"], "results", 60.0)
    assert [(u.step, u.implementation) for u in units] == [
        (step, name) for step in gpu_plan.VALUE_ORDER for name in ("torch", "jax-flax")
    ]
    for u in units:  # each one a valid command line on the GPU, for its implementation, into its part file
        argv = list(u.argv)
        assert (
            argv[argv.index("--device") + 1] == "gpu" and argv[argv.index("--impls") + 1] == u.implementation
        )
        assert u.part == f"results/gpu-parts/{u.implementation}/{u.target.split('/')[-1]}"
        assert commands.build_parser().parse_args(argv).func
    assert sorted({u.target for u in units}) == [
        "results/capacity-gpu.json",
        "results/check-gpu-growth.json",
        "results/check-gpu-tf32.json",
        "results/check-gpu.json",
        "results/gradients-gpu.json",
        "results/memory-gpu-quick.json",
        "results/speed-gpu-quick.json",
        "results/speed-gpu-variants.json",
    ]
    some = gpu_plan.units(gpu.GPU_STEPS, ["torch"], "r", 1.0, ("capacity", "gradients"))
    assert [u.step for u in some] == ["gradients", "capacity"]  # the order of value


@pytest.mark.parametrize("argv", [["--only", "nope"], ["--impls", "numpy"]])
def test_the_gpu_command_refuses_unknown_steps_and_implementations(capsys, monkeypatch, argv):
    from suite import gpu

    monkeypatch.setattr(gpu, "gpu_names", lambda: ["NVIDIA H200"])
    code, out = run_cli(capsys, "gpu", *argv)
    assert code == 2 and "unknown" in out.err


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "accuracy", "--task", "adding"],
        ["run", "capacity", "--at", "10"],
        ["run", "gradients"],
    ],
)
def test_studies_that_train_refuse_an_inference_runtime_by_name(capsys, argv):
    pytest.importorskip("onnxruntime")
    code, out = run_cli(capsys, *argv, "--impls", "onnxruntime")
    assert code == 2 and "onnxruntime computes no gradients (an inference runtime)" in out.err
