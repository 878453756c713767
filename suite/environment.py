"""Where and when a measurement ran: machine, devices, versions, threads, the BLAS and the environment
variables that choose kernels, git commit, date."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_PACKAGES = (
    "numpy",
    "torch",
    "tensorflow-cpu",
    "tensorflow",
    "keras",
    "jax",
    "jaxlib",
    "flax",
    "onnx",
    "onnxruntime",
    "openvino",
    "cupy-cuda12x",
    "cupy-cuda13x",
)
# environment variables that change which kernels run (or how many threads they get)
KERNEL_VARIABLES: tuple[str, ...] = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "MKL_ENABLE_INSTRUCTIONS",
    "MKL_DEBUG_CPU_TYPE",
    "ONEDNN_MAX_CPU_ISA",
    "DNNL_MAX_CPU_ISA",
    "TF_ENABLE_ONEDNN_OPTS",
    "TF_XLA_FLAGS",
    "XLA_FLAGS",
    "KERAS_BACKEND",
    "JAX_ENABLE_X64",
    "JAX_PLATFORMS",
    "CUDA_VISIBLE_DEVICES",
)


def cpu_model() -> str:
    """The CPU's model name, from /proc/cpuinfo where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_names() -> list[str]:
    """Names of the NVIDIA GPUs nvidia-smi lists; empty without one."""
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def git_commit() -> str:
    """What ``RNNBENCH_GIT_COMMIT`` says, when set: a copy of the tree on another machine names the commit
    it was made from (the copy's own .git, if any, can be older). Else HEAD's commit, with ``-dirty`` when
    the work tree has uncommitted changes; outside git, ``unknown``."""
    if os.environ.get("RNNBENCH_GIT_COMMIT"):
        return os.environ["RNNBENCH_GIT_COMMIT"]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def versions() -> dict[str, str]:
    """Installed versions of Python and the frameworks (read from package metadata, not imported)."""
    found = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def blas() -> list[dict]:
    """The BLAS and OpenMP libraries loaded in this process, as threadpoolctl reports them: library,
    version, the CPU architecture whose kernels it selected, threading layer and threads."""
    import numpy  # noqa: F401  (loads NumPy's BLAS, the one the reference runs on)
    import threadpoolctl

    keep = ("user_api", "internal_api", "version", "architecture", "threading_layer", "num_threads", "prefix")
    return [{k: info.get(k) for k in keep} for info in threadpoolctl.threadpool_info()]


def kernel_variables() -> dict[str, str]:
    """The KERNEL_VARIABLES that are set, with their values."""
    return {name: os.environ[name] for name in KERNEL_VARIABLES if name in os.environ}


def environment(threads: int | None = None) -> dict:
    """The environment block stored with every result."""
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "gpus": gpu_names(),
        "threads": threads,
        "versions": versions(),
        "blas": blas(),
        "kernel_variables": kernel_variables(),
        "git_commit": git_commit(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def machine_fingerprint() -> str:
    """A readable name for this kind of machine (CPU model, cores, GPUs): baselines are kept per name."""
    text = "-".join([cpu_model(), f"{os.cpu_count()}cores", *gpu_names()]).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:80]
