"""The report's "Deploying" section: per framework and runtime, its fastest implementation one step at a time
at batch 1 and at the fastrnns point, with its error against float64 from the check."""

from __future__ import annotations

from suite.measurement.stability import is_unstable
from suite.report.machines import by_machine, main_run
from suite.report.page import Finding, Report, md_table
from suite.studies.speed.analysis import stream_rows

TITLE = "Deploying"
SECTION = "deploying"
CELL = "lstm"


def deploy_rows(speed: list[dict], checks: list[dict]) -> list[dict]:
    """One row per framework of one CPU run holding the streaming group: its fastest ``CELL`` at batch 1
    one step at a time (p50, p99, cold start), its fastest forward at the fastrnns point in the same results
    file, and the float32 check's largest error of each against the float64 reference."""
    cpu = [r for r in speed if r.get("device", "cpu") == "cpu"]
    run = main_run(cpu, "stream")
    if not run:
        return []
    same_file = [r for r in cpu if r.get("source") == run[0]["source"] and r.get("status") == "ok"]
    # stable rows first: a framework whose every streaming row is unstable is shown, marked, not dropped
    streamed = sorted(
        (r for r in stream_rows(run) if r["cell"] == CELL and r["batch"] == 1), key=lambda r: r["unstable"]
    )
    forward = [
        r
        for r in same_file
        if (r.get("group"), r.get("mode"), r.get("cell")) == ("fastrnns", "forward", CELL)
        and not is_unstable(r)
    ]
    framework_of = {r["implementation"]: r["framework"] for r in same_file}
    rows = []
    for framework in dict.fromkeys(framework_of[s["implementation"]] for s in streamed):
        step = next(s for s in streamed if framework_of[s["implementation"]] == framework)  # stable, fastest
        of = [r for r in forward if r["framework"] == framework]
        best = min(of, key=lambda r: r["median_s"]) if of else None
        rows.append(
            {
                "framework": framework,
                "streaming": step["implementation"],
                "p50_us": step["p50_us"],
                "p99_us": step["p99_us"],
                "unstable": step["unstable"],
                "cold_start_ms": step["cold_start_ms"],
                "stream_error": _check_error(checks, step["implementation"]),
                "fastrnns": best["implementation"] if best else None,
                "fastrnns_ms": 1e3 * best["median_s"] if best else None,
                "fastrnns_error": _check_error(checks, best["implementation"]) if best else None,
                "path": step["path"],
                "source": run[0]["source"],
            }
        )
    return sorted(rows, key=lambda r: (r["unstable"], r["p50_us"]))


def _check_error(checks: list[dict], implementation: str) -> float | None:
    """The float32 ``CELL`` function row's largest error (outputs, states, gradients where it has them) on
    the CPU, from the latest check that ran it."""
    rows = [
        r
        for r in checks
        if r.get("implementation") == implementation
        and (r.get("test", "function"), r.get("cell"), r.get("dtype"), r.get("device", "cpu"))
        == ("function", CELL, "float32", "cpu")
        and r.get("status") in ("pass", "fail")
    ]
    return rows[-1]["max_error"] if rows else None


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _err(value: float | None) -> str:
    return "not checked" if value is None else f"{value:.1e}"


def section_deploying(rep: Report, speed: list[dict], checks: list[dict]) -> None:
    """Per framework and runtime: the fastest option streaming at batch 1 and at the fastrnns point."""
    rows = deploy_rows(speed, checks)
    if not rows:
        return
    rep.section(
        TITLE,
        "per framework and deployment runtime, the fastest way to run an LSTM one step at a time (batch 1) "
        "and a whole batch at the fastrnns point, and its error against the float64 reference.",
    )
    rep.add(
        f"From {rep.link(rows[0]['source'])} (one run) and the equivalence check. ONNX Runtime and OpenVINO "
        "run the `nn.LSTM` exported by `torch.onnx` (forward and `step` only; the ONNX operators the export "
        "produced and the runtime's version are in `path`); their cold start is export + compile + first "
        "step. The state between calls is the caller's in every framework (inputs `h0`/`c0` and outputs "
        "`hn`/`cn` of the exported graph). `error`: the float32 check's largest relative error against the "
        "float64 reference (outputs, final states, and gradients where the implementation has them)."
    )
    shown = [
        {
            "framework": r["framework"],
            "streaming (batch 1)": r["streaming"],
            "p50_us": f"{r['p50_us']:.0f}" + (" (unstable)" if r["unstable"] else ""),
            "p99_us": f"{r['p99_us']:.0f}",
            "cold_start_ms": f"{r['cold_start_ms']:.0f}",
            "error": _err(r["stream_error"]),
            "fastrnns forward": r["fastrnns"] or "not measured",
            "ms": _ms(r["fastrnns_ms"]),
            "error ": _err(r["fastrnns_error"]),
            "path (streaming)": r["path"],
        }
        for r in rows
    ]
    rep.add(md_table(shown, list(shown[0])))


def deploying_findings(speed: list[dict]) -> list[Finding]:
    """Per CPU: the fastest runtime one step at a time and at the fastrnns point, against eager PyTorch."""
    found = []
    for where, recs in by_machine([r for r in speed if r.get("device", "cpu") == "cpu"]).items():
        every = deploy_rows(recs, [])
        rows = [r for r in every if not r["unstable"]]  # a finding states stable figures only
        runtimes = [r for r in rows if r["framework"] in ("onnxruntime", "openvino")]
        torch = next((r for r in rows if r["framework"] == "torch"), None)
        if not runtimes or torch is None:
            continue
        parts = []
        for r in runtimes:
            x = torch["p50_us"] / r["p50_us"]
            part = f"{r['framework']} {r['p50_us']:.0f} us per step ({x:.1f}x torch's {torch['streaming']})"
            if r["fastrnns_ms"] and torch["fastrnns_ms"]:
                x = torch["fastrnns_ms"] / r["fastrnns_ms"]
                part += f", {r['fastrnns_ms']:.0f} ms at the fastrnns point ({x:.2f}x)"
            parts.append(part)
        unstable = [r["framework"] for r in every if r["unstable"]]
        if unstable:
            parts.append(f"{', '.join(unstable)}: unstable at batch 1, not stated (rerun on quiet cores)")
        fastest = rows[0]
        text = (
            f"**{where}**, an LSTM deployed one step at a time (batch 1): fastest {fastest['streaming']} "
            f"({fastest['p50_us']:.0f} us p50); " + "; ".join(parts) + " (x: speed relative to torch, "
            "above 1 faster)."
        )
        question = f"Which runtime to deploy an LSTM on, {where}?"
        found.append(Finding(question, text, SECTION, [every[0]["source"]], "; ".join(parts)))
    return found
