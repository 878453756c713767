"""Evidence for the A/B gate on this machine: A/A comparisons (HEAD against the working tree, same code) and
comparisons with a slowdown injected by the test-only ``slowdown`` implementation (tests/plugins/
rnnbench-slowdown): 10 % in its LSTM and 20 % in its GRU, its RNN left alone as a control.

    python -m tests.suite.studies.regression.ab_evidence [--aa 10] [--injected 10]
        [--out results/ab/evidence.json]

Records are appended to the results file after every benchmark, and comparisons already in it are kept, so
an interrupted run resumes. :func:`summary` reads them back (the test of the committed file uses it too)."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]
PLUGIN = REPO / "tests" / "plugins" / "rnnbench-slowdown"
INJECTED = {"lstm": 1.10, "gru": 1.20}  # the control: rnn
CELLS = ("rnn", "lstm", "gru")


def install_plugin(target: Path) -> None:
    """pip-install the test-only plugin into ``target`` and make this process see it."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
        + ["--target", str(target), str(PLUGIN)],
        check=True,
        capture_output=True,
    )
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    from impls import registry

    registry.registry.cache_clear()


def workloads() -> list:
    from suite.measurement.workloads import SMALL, Workload

    return [
        Workload(framework="numpy", implementation="slowdown", cell=c, mode="forward", **SMALL) for c in CELLS
    ]


def summary(records: list[dict]) -> dict:
    """False alarms of the A/A comparisons; detection of each injected slowdown, named on the right
    benchmark; the time each comparison took."""
    runs: dict[str, list[dict]] = {}
    for r in records:
        runs.setdefault(r["comparison"], []).append(r)
    aa = [rows for name, rows in runs.items() if name.startswith("aa-")]
    injected = [rows for name, rows in runs.items() if name.startswith("injected-")]
    out: dict = {
        "aa_comparisons": len(aa),
        "aa_alarms": sum(any(r["regressed"] for r in rows) for rows in aa),
        "aa_decisions": _count([r["decision"] for rows in aa for r in rows]),
        "injected_comparisons": len(injected),
        "control_alarms": sum(any(r["regressed"] and r["cell"] == "rnn" for r in rows) for rows in injected),
        "seconds_per_comparison": {
            "aa": [round(sum(r["seconds"] for r in rows), 1) for rows in aa],
            "injected": [round(sum(r["seconds"] for r in rows), 1) for rows in injected],
        },
    }
    for cell, f in INJECTED.items():
        caught = [next(r for r in rows if r["cell"] == cell) for rows in injected]
        out[f"caught_{round((f - 1) * 100)}pct"] = sum(r["regressed"] for r in caught)
        out[f"ratios_{round((f - 1) * 100)}pct"] = [round(r["ratio"], 3) for r in caught]
    return out


def _count(values: list[str]) -> dict[str, int]:
    return {v: values.count(v) for v in sorted(set(values))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aa", type=int, default=10)
    parser.add_argument("--injected", type=int, default=10)
    parser.add_argument("--out", default=str(REPO / "results" / "ab" / "evidence.json"))
    args = parser.parse_args(argv)
    from suite.environment import environment
    from suite.records import read_records, write_records
    from suite.studies.regression import ab

    out = Path(args.out)
    records = read_records(out) if out.exists() else []
    site = Path(tempfile.mkdtemp(prefix="rnnbench-slowdown-"))
    install_plugin(site)
    settings = ab.Settings()
    env = environment(settings.threads)
    plan = [(f"aa-{i + 1}", {}) for i in range(args.aa)]
    slowdown = ",".join(f"{c}={f}" for c, f in INJECTED.items())
    injected = {"RNNBENCH_SLOWDOWN": slowdown, "RNNBENCH_SLOWDOWN_TREE": str(REPO)}  # the candidate only
    plan += [(f"injected-{i + 1}", injected) for i in range(args.injected)]
    with ab.worktree(REPO, "HEAD") as tree:
        base = ab.Side("base HEAD", tree, {"PYTHONPATH": str(site)})
        for name, extra in plan:
            done = {r["cell"] for r in records if r["comparison"] == name}
            candidate = ab.Side("candidate: working tree", REPO, {"PYTHONPATH": str(site), **extra})
            for w in workloads():
                if w.cell in done:
                    continue
                row = ab.compare_benchmark(w, base, candidate, settings)
                records.append(
                    {"kind": "ab", "comparison": name, "base": base.label, "candidate": candidate.label}
                    | {
                        "injected": extra.get("RNNBENCH_SLOWDOWN", ""),
                        "status": "ok",
                        **row,
                        "environment": env,
                    }
                )
                write_records(out, records)
                print(
                    f"{name} {row['benchmark']}: {row['decision']} ratio {row['ratio']:.3f} "
                    f"[{row['ci_low']:.3f}, {row['ci_high']:.3f}] {row['n_pairs']} pairs"
                    f" {row['seconds']:.0f} s",
                    flush=True,
                )
    print(summary(records))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
