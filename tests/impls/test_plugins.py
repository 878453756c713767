"""Third-party implementations through the ``rnnbench.impls`` entry points: the demo plugin under
tests/plugins/ is pip-installed into a temporary folder and seen by a fresh process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGINS = REPO / "tests" / "plugins"


def install(tmp_path_factory, *plugins: str) -> Path:
    """A folder with the plugin packages under tests/plugins/ installed into it."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
        + ["--target", str(target), *(str(PLUGINS / p) for p in plugins)],
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("jax")  # the demo plugin is written in JAX
    return install(tmp_path_factory, "rnnbench-demo")


@pytest.fixture(scope="module")
def numpy_site(tmp_path_factory):
    """Plugins on the NumPy reference: three that alter the weights on loading, one honest."""
    return install(tmp_path_factory, "rnnbench-fooling", "rnnbench-slowdown")


def run(site, *argv):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO)])}
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env, cwd=REPO)


def test_a_correct_plugin_passes_the_check(site):
    out = run(site, "-m", "suite", "check", "--impls", "demo-gru", "--dtype", "float32,float64")
    assert out.returncode == 0, out.stdout + out.stderr
    rows = [line.split()[-1] for line in out.stdout.splitlines() if line.startswith("demo-gru ")]
    # gru in float32 and float64, the function and the round trip
    assert sorted(rows) == ["pass"] * 4 + ["skip"] * 8
    # the cells it does not declare are skipped, with the reason
    assert "skip: demo-gru lstm float32: demo-gru does not support cell 'lstm'; it supports gru" in out.stdout


def test_a_subtly_wrong_plugin_fails_and_the_rows_are_named(site):
    out = run(site, "-m", "suite", "check", "--impls", "demo-gru-textbook", "--cells", "gru")
    assert out.returncode == 1
    assert "fail: demo-gru-textbook gru float32 function: " in out.stdout
    assert "fail: demo-gru-textbook gru float64 function: " in out.stdout
    assert _failures(out) == ["gru float32 function", "gru float64 function"]  # it holds what it was given
    assert "2 failed" in out.stdout


def _failures(out: subprocess.CompletedProcess) -> list[str]:
    """The rows that failed, as 'cell dtype test'."""
    lines = [line.partition(": ")[2] for line in out.stdout.splitlines() if line.startswith("fail: ")]
    return sorted(" ".join(line.partition(":")[0].split()[1:]) for line in lines)


def test_a_plugin_that_scales_a_weight_on_loading_fails_both_tests(numpy_site):
    out = run(numpy_site, "-m", "suite", "check", "--impls", "fool-scale")
    assert out.returncode == 1, out.stdout + out.stderr
    assert _failures(out) == sorted(
        f"{cell} {dtype} {test}"
        for cell in ("rnn", "lstm", "gru")
        for dtype in ("float32", "float64")
        for test in ("function", "round trip", "lengths", "bidirectional", "bidirectional lengths")
    )
    assert (
        "fail: fool-scale gru float32 round trip: get_params is not what was set: weight_hh_l" in out.stdout
    )


def test_a_plugin_that_drops_b_hn_and_reports_zero_fails_both_tests(numpy_site):
    out = run(numpy_site, "-m", "suite", "check", "--impls", "fool-drop-bhn", "--cells", "gru")
    assert out.returncode == 1, out.stdout + out.stderr
    assert _failures(out) == sorted(
        f"gru {dtype} {test}"
        for dtype in ("float32", "float64")
        for test in ("function", "round trip", "lengths", "bidirectional", "bidirectional lengths")
    )
    assert "get_params is not what was set: bias_hh_l" in out.stdout


def test_a_plugin_that_swaps_gates_and_swaps_them_back_fails_the_function(numpy_site):
    """Its get_params returns exactly what was set: only the function shows the bug."""
    out = run(numpy_site, "-m", "suite", "check", "--impls", "fool-swap-gates", "--cells", "lstm")
    assert out.returncode == 1, out.stdout + out.stderr
    assert _failures(out) == sorted(  # the lengths and bidirectional rows compute the same function
        f"lstm {dtype} {test}"
        for dtype in ("float32", "float64")
        for test in ("function", "lengths", "bidirectional", "bidirectional lengths")
    )
    assert "8 failed" in out.stdout


def test_an_honest_numpy_plugin_passes(numpy_site):
    out = run(numpy_site, "-m", "suite", "check", "--impls", "slowdown")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 failed" in out.stdout and "fail:" not in out.stdout


def test_broken_plugins_are_named_and_everything_else_runs(site):
    out = run(site, "-m", "suite", "check", "--impls", "numpy", "--cells", "rnn", "--dtype", "float32")
    assert out.returncode == 0
    for name, why in (
        ("demo-broken", "failed to import"),
        ("demo-function", "is not a RecurrentModel subclass"),
        ("'jax'", "already taken"),
    ):
        assert name in out.stderr and why in out.stderr, (name, out.stderr)


def test_plugins_are_listed_with_what_they_declare(site):
    code = "import impls; print(impls.available()); d = impls.get('demo-gru')"
    code += "; print(d.framework, d.cells, d.plugin)"
    out = run(site, "-W", "ignore", "-c", code)
    assert out.returncode == 0, out.stderr
    names, declared = out.stdout.splitlines()
    assert "'demo-gru'" in names and "'demo-gru-textbook'" in names and "demo-broken" not in names
    assert declared == "jax ('gru',) rnnbench-demo"


def test_the_readme_plugin_passes_the_check(monkeypatch):
    """The plugin the README shows, run as it is written there."""
    pytest.importorskip("jax")
    import re
    import types

    import impls
    from impls import registry
    from suite.studies.equivalence import check

    text = (REPO / "README.md").read_text()
    (source,) = [block for block in re.findall(r"```python\n(.*?)```", text, re.S) if "class MyGRU" in block]
    module = types.ModuleType("readme_plugin")
    exec(compile(source, "README.md", "exec"), module.__dict__)
    monkeypatch.setitem(sys.modules, "readme_plugin", module)
    found = dict(registry.registry())
    found["my-gru"] = impls.Implementation(
        "my-gru", "jax", "readme_plugin:MyGRU", ("jax",), "my-gru", "README", cells=("gru",), plugin="my-gru"
    )
    monkeypatch.setattr(registry, "registry", lambda: found)
    rows, _ = check.run(["my-gru"], ["gru", "lstm"], ["float64", "float32"])
    skipped = ("lengths", "bidirectional", "bidirectional_lengths")  # its own stack takes neither
    assert [(r["cell"], r["dtype"], r["test"], r["status"]) for r in rows] == [
        (cell, dtype, test, "pass" if cell == "gru" and test not in skipped else "skip")
        for cell in ("gru", "lstm")
        for dtype in ("float64", "float32")
        for test in check.TESTS
    ]
