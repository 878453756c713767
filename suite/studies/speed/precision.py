"""The report's "Which precision" section: each low-precision dtype at the reference points beside the same
run's float32 (time, the kernel that ran) and its error against float64 in the check."""

from __future__ import annotations

from impls.layout import LOW_PRECISION
from suite.measurement.stability import is_unstable
from suite.measurement.workloads import POINTS
from suite.report.machines import by_machine
from suite.report.page import Finding, Report, md_table

TITLE = "Which precision"
SECTION = "which-precision"


def precision_rows(speed: list[dict], value: str = "median_s") -> list[dict]:
    """Per results file, implementation, cell, point and mode measured in a low-precision dtype: the same
    file's float32 ``value`` at that point over its own (``x``: above 1, faster or smaller; ``value``
    ``median_s`` for speed records, ``peak_bytes`` for memory ones) and the kernel of each."""
    cpu = [r for r in speed if r.get("device", "cpu") == "cpu" and r.get(value) is not None]
    ok = [r for r in cpu if r.get("status") == "ok" and not is_unstable(r)]
    rows = []
    for low in (r for r in ok if r.get("group") == "precision"):
        point = next((name for name, shape in POINTS.items() if _at(low, shape)), None)
        base = next(
            (
                r
                for r in ok
                if r.get("group") == point
                and r.get("dtype") == "float32"
                and (r["source"], r["implementation"], r["cell"], r["mode"])
                == (low["source"], low["implementation"], low["cell"], low["mode"])
            ),
            None,
        )
        if point is None or base is None:
            continue
        rows.append(
            {
                "implementation": low["implementation"],
                "cell": low["cell"],
                "point": point,
                "mode": low["mode"],
                "dtype": low["dtype"],
                "float32": base[value],
                "low": low[value],
                "x": base[value] / low[value],
                "float32_path": base.get("path", ""),
                "path": low.get("path", ""),
                "source": low["source"],
            }
        )
    return rows


def _at(record: dict, shape: dict) -> bool:
    return all(record.get(k) == v for k, v in shape.items())


def error_rows(checks: list[dict]) -> list[dict]:
    """The check's low-precision function rows (CPU): each one's error on the outputs, its largest error and
    what rounding the exact outputs once to the dtype costs."""
    return [
        {
            "implementation": r["implementation"],
            "cell": r["cell"],
            "dtype": r["dtype"],
            "y_error": r["errors"]["y"],
            "max_error": r["max_error"],
            "worst": r.get("worst", ""),
            "rounding_floor": r.get("rounding_floor"),
            "tolerance": r["tolerance"],
            "status": r["status"],
        }
        for r in checks
        if r.get("dtype") in LOW_PRECISION
        and r.get("test", "function") == "function"
        and r.get("device", "cpu") == "cpu"
        and r.get("status") in ("pass", "fail")
    ]


def section_precision(rep: Report, speed: list[dict], checks: list[dict], memory: list[dict] = ()) -> None:
    """Speed and memory against float32 and error against float64, per low-precision dtype."""
    timed, errors = precision_rows(speed), error_rows(checks)
    if not timed and not errors:
        return
    rep.section(
        TITLE,
        "bfloat16 and float16 (pure: weights, inputs, states and arithmetic in the dtype) against float32 "
        "in the same run, and their error against the float64 reference.",
    )
    if timed:
        rep.add(
            f"From {', '.join(rep.link(s) for s in sorted({r['source'] for r in timed}))}: `x` is float32's "
            "time over the dtype's (above 1: faster), `path` the kernel each ran (a bf16 oneDNN kernel, or "
            "a fallback)."
        )
        shown = [
            {
                **r,
                "float32_ms": f"{1e3 * r['float32']:.2f}",
                "ms": f"{1e3 * r['low']:.2f}",
                "x": f"{r['x']:.2f}",
            }
            for r in timed
        ]
        columns = ["implementation", "cell", "point", "mode", "dtype", "float32_ms", "ms", "x"]
        rep.add(md_table(shown, [*columns, "float32_path", "path"]))
    held = precision_rows(memory, "peak_bytes")
    if held:
        files = ", ".join(rep.link(s) for s in sorted({r["source"] for r in held}))
        rep.add(
            f"Peak memory of one call, from {files}: `x` is float32's peak over the dtype's (2: every "
            "byte halved)."
        )
        shown = [
            {
                **r,
                "float32_MiB": f"{r['float32'] / 2**20:.1f}",
                "MiB": f"{r['low'] / 2**20:.1f}",
                "x": f"{r['x']:.2f}",
            }
            for r in held
        ]
        rep.add(
            md_table(shown, ["implementation", "cell", "point", "mode", "dtype", "float32_MiB", "MiB", "x"])
        )
    if errors:
        rep.add(
            "The equivalence check in each dtype (the check's shape, weights rounded to the dtype; the "
            "reference computes in float64 from the same rounded values): `y_error` on the outputs, "
            "`max_error` over outputs, states and gradients, `rounding_floor` what rounding the exact "
            "outputs once costs (no implementation can do better), `tolerance` measured and stated in "
            "`suite/studies/equivalence/check.py`."
        )
        shown = [
            {
                **r,
                **{k: f"{r[k]:.1e}" for k in ("y_error", "max_error", "rounding_floor", "tolerance")},
            }
            for r in errors
        ]
        columns = ["implementation", "cell", "dtype", "y_error", "max_error", "worst", "rounding_floor"]
        rep.add(md_table(shown, [*columns, "tolerance", "status"]))
    rep.add(
        "The speed group times bfloat16 only: PyTorch's CPU LSTM and GRU in float16 fall back to ATen "
        "without a fast GEMM (time it on purpose with `rnnbench run speed --dtype float16`). Learning in low "
        "precision (the adding problem and temporal order, bfloat16 against float32) is not measured yet: "
        "the trainers run float32 and float64."
    )


def precision_findings(speed: list[dict]) -> list[Finding]:
    """Per CPU: each implementation's LSTM forward at the fastrnns point in each low-precision dtype."""
    found = []
    for where, recs in by_machine(speed).items():
        rows = [
            r
            for r in precision_rows(recs)
            if (r["cell"], r["point"], r["mode"]) == ("lstm", "fastrnns", "forward")
        ]
        if not rows:
            continue
        parts = [
            f"{r['implementation']} {r['dtype']} {r['x']:.2f}x float32 ({_kernel(r['path'])})"
            for r in sorted(rows, key=lambda r: -r["x"])
        ]
        text = (
            f"**{where}**, LSTM forward at the fastrnns point in low precision, against float32 in the same "
            "run (above 1: faster): " + "; ".join(parts) + "."
        )
        question = f"Does bfloat16 or float16 pay, {where}?"
        found.append(Finding(question, text, SECTION, sorted({r["source"] for r in rows}), "; ".join(parts)))
    return found


def _kernel(path: str) -> str:
    return path.split(",")[0] or "kernel not reported"
