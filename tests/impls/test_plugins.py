"""Third-party implementations through the ``rnnbench.impls`` entry points: the demo plugin under
tests/plugins/ is pip-installed into a temporary folder and seen by a fresh process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "tests" / "plugins" / "rnnbench-demo"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("jax")  # the demo plugin is written in JAX
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
        + ["--target", str(target), str(PLUGIN)],
        check=True,
        capture_output=True,
    )
    return target


def run(site, *argv):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO)])}
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env, cwd=REPO)


def test_a_correct_plugin_passes_the_check(site):
    out = run(site, "-m", "suite", "check", "--impls", "demo-gru")
    assert out.returncode == 0, out.stdout + out.stderr
    rows = [line.split()[-1] for line in out.stdout.splitlines() if line.startswith("demo-gru ")]
    assert sorted(rows) == ["pass", "pass", "skip", "skip", "skip", "skip"]  # gru in float32 and float64
    # the cells it does not declare are skipped, with the reason
    assert "skip: demo-gru lstm float32: demo-gru does not support cell 'lstm'; it supports gru" in out.stdout


def test_a_subtly_wrong_plugin_fails_and_the_rows_are_named(site):
    out = run(site, "-m", "suite", "check", "--impls", "demo-gru-textbook", "--cells", "gru")
    assert out.returncode == 1
    assert "fail: demo-gru-textbook gru float32: " in out.stdout
    assert "fail: demo-gru-textbook gru float64: " in out.stdout
    assert "2 failed" in out.stdout


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
    from suite import check

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
    assert [(r["cell"], r["dtype"], r["status"]) for r in rows] == [
        ("gru", "float64", "pass"),
        ("gru", "float32", "pass"),
        ("lstm", "float64", "skip"),
        ("lstm", "float32", "skip"),
    ]
