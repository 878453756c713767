"""The environment block names what decides the kernels that ran."""

from pathlib import Path

from suite import environment


def test_the_block_names_the_blas_and_the_kernel_variables(monkeypatch):
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    env = environment.environment(threads=1)
    assert {"cpu", "cores", "threads", "versions", "git_commit", "date", "blas", "kernel_variables"} <= set(
        env
    )
    openblas = [b for b in env["blas"] if b["internal_api"] == "openblas"]
    assert openblas and openblas[0]["version"] and openblas[0]["architecture"]  # NumPy's, and its kernels
    assert env["kernel_variables"]["TF_ENABLE_ONEDNN_OPTS"] == "0"
    assert "XLA_FLAGS" not in env["kernel_variables"]


def test_openblas_coretype_is_recorded_as_the_environment_has_it():
    import os

    recorded = environment.kernel_variables()
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        assert recorded.get(name) == os.environ.get(name)


def test_git_commit_outside_git_comes_from_the_environment(monkeypatch):
    """A copy of the tree without .git (the GPU machine) records the commit it was copied from."""
    monkeypatch.setattr(environment, "REPO", Path("/"))
    monkeypatch.setenv("RNNBENCH_GIT_COMMIT", "abc123")
    assert environment.git_commit() == "abc123"
    monkeypatch.delenv("RNNBENCH_GIT_COMMIT")
    assert environment.git_commit() == "unknown"


def test_a_named_commit_wins_over_a_copys_stale_git(monkeypatch):
    """The GPU machine's copy holds a .git of an older commit: the commit named for the copy is recorded."""
    monkeypatch.setenv("RNNBENCH_GIT_COMMIT", "abc123")
    assert environment.git_commit() == "abc123"
    monkeypatch.delenv("RNNBENCH_GIT_COMMIT")
    assert environment.git_commit() not in ("abc123", "unknown")
