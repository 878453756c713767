"""Do instruction counts repeat? Count, under valgrind's callgrind, the instructions of one forward call of an
implementation at one thread, several times, and time how long that takes.

One call's count is the difference between a process making 3 calls and one making 1 (after the same
set-up and warm-up), so start-up and compilation cancel. Hardware counters are not exposed on these virtual
machines; callgrind counts in software, deterministically for deterministic single-threaded code.

    python -m suite.studies.speed.callgrind [--impls numpy,torch] [--repeats 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from suite.environment import REPO, environment
from suite.records import write_atomic

SNIPPET = """
import sys
import numpy as np
import impls
impls.configure_threads(sys.argv[1], 1)
m = impls.create(sys.argv[1], "lstm", 32, 128)
x = np.random.default_rng(0).standard_normal((32, 100, 32)).astype("float32")
fn = m.prepare_forward(x)
fn(); fn()
for _ in range(int(sys.argv[2])):
    fn()
"""
ENV = {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def count(implementation: str, calls: int) -> tuple[int, float]:
    """(instructions of the whole process, its wall seconds) under callgrind."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        started = time.perf_counter()
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-c", SNIPPET]
            + [implementation, str(calls)],
            check=True,
            capture_output=True,
            cwd=REPO,
            env={**os.environ, **ENV},
        )
        seconds = time.perf_counter() - started
        totals = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.M)
        if totals is None:
            raise RuntimeError(f"no instruction total in {out}")
        return int(totals.group(1)), seconds


def measure(implementation: str, repeats: int) -> dict:
    """Per repeat, one forward call's instruction count; whether they repeat exactly; the time it took."""
    per_call, seconds = [], []
    for _ in range(repeats):
        one, s1 = count(implementation, 1)
        three, s3 = count(implementation, 3)
        per_call.append((three - one) // 2)
        seconds.append(s1 + s3)
    spread = (max(per_call) - min(per_call)) / min(per_call)
    return {
        "implementation": implementation,
        "instructions_per_call": per_call,
        "repeats_exactly": len(set(per_call)) == 1,
        "relative_spread": spread,
        "seconds_per_measurement": seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--impls", default="numpy,torch,jax,tensorflow")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--json", default=str(REPO / "results" / "analysis" / "callgrind" / "lstm-forward.json")
    )
    args = parser.parse_args()
    rows = []
    for name in args.impls.split(","):
        try:
            rows.append(measure(name, args.repeats))
        except (subprocess.CalledProcessError, RuntimeError) as e:
            rows.append({"implementation": name, "error": str(e)[-300:]})
        print(json.dumps(rows[-1]), flush=True)
        result = {
            "what": "LSTM forward, T100 B32 I32 H128, float32, 1 thread",
            "rows": rows,
            "environment": environment(1),
        }
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        write_atomic(args.json, json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
