"""The precision study's report, its "Which precision" section: each low-precision dtype and mixed policy at
the reference points beside the same run's float32 (time, memory, the kernel that ran), its error against
float64 in the check, and what training in it learns."""

from __future__ import annotations

from impls import registry
from impls.layout import LOW_PRECISION
from suite.measurement.grids import PRECISION_GROUP
from suite.measurement.stability import is_unstable
from suite.measurement.workloads import POINTS
from suite.report.loading import Results
from suite.report.machines import by_machine
from suite.report.page import Finding, Report, md_table, missing_finding
from suite.studies.precision import STUDY, learning
from suite.studies.precision.learning import precision_of

TITLE = "Which precision"
SECTION = "which-precision"


def precision_rows(speed: list[dict], value: str = "median_s") -> list[dict]:
    """Per results file, implementation, cell, point and mode measured in a low-precision dtype: the same
    file's float32 ``value`` at that point over its own (``x``: above 1, faster or smaller; ``value``
    ``median_s`` for speed records, ``peak_bytes`` for memory ones) and the kernel of each."""
    cpu = [r for r in speed if r.get("device", "cpu") == "cpu" and r.get(value) is not None]
    ok = [r for r in cpu if r.get("status") == "ok" and not is_unstable(r)]
    rows = []
    for low in (r for r in ok if r.get("group") == PRECISION_GROUP):
        point = next((name for name, shape in POINTS.items() if _at(low, shape)), None)
        base = next(
            (
                r
                for r in ok
                if r.get("group") == point
                and r.get("dtype") == "float32"
                and (r["source"], r["implementation"], r["cell"], r["mode"])
                == (low["source"], full_precision_twin(low["implementation"]), low["cell"], low["mode"])
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
                "dtype": precision_of(low),
                "float32": base[value],
                "low": low[value],
                "x": base[value] / low[value],
                "float32_path": base.get("path", ""),
                "path": low.get("path", ""),
                "source": low["source"],
                "date": low.get("environment", {}).get("date", ""),
            }
        )
    return rows


def full_precision_twin(name: str) -> str:
    """The implementation a mixed-precision one runs under its policy (torch for torch-autocast); else
    ``name`` itself."""
    impl = registry.find(name)
    return impl.policy_of if impl and impl.policy_of else name


def _at(record: dict, shape: dict) -> bool:
    return all(record.get(k) == v for k, v in shape.items())


def error_rows(checks: list[dict]) -> list[dict]:
    """The check's low-precision function rows (CPU): each one's error on the outputs, its largest error and
    what rounding the exact outputs once to the dtype costs."""
    return [
        {
            "implementation": r["implementation"],
            "cell": r["cell"],
            "dtype": precision_of(r),
            "y_error": r["errors"]["y"],
            "max_error": r["max_error"],
            "worst": r.get("worst", ""),
            "rounding_floor": r.get("rounding_floor"),
            "tolerance": r["tolerance"],
            "status": r["status"],
        }
        for r in checks
        if (r.get("dtype") in LOW_PRECISION or r.get("computes_in"))
        and r.get("test", "function") == "function"
        and r.get("device", "cpu") == "cpu"
        and r.get("status") in ("pass", "fail")
    ]


def section_precision(
    rep: Report, speed: list[dict], checks: list[dict], memory: list[dict] = (), accuracy: list[dict] = ()
) -> None:
    """Speed and memory against float32, error against float64 and what is learned, per low precision."""
    timed, errors, learned = precision_rows(speed), error_rows(checks), learning.learning_rows(accuracy)
    if not timed and not errors and not learned:
        return
    rep.section(
        TITLE,
        "bfloat16 and float16, pure (weights, inputs, states and arithmetic in the dtype) and as a mixed "
        "policy (`mixed bfloat16`: float32 weights, inputs and outputs, bfloat16 arithmetic: "
        "torch.autocast, Keras's mixed_bfloat16, flax's dtype apart from param_dtype), against float32 in "
        "the same run, and their error against the float64 reference.",
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
        "without a fast GEMM (time it on purpose with `rnnbench run speed --dtype float16`)."
    )
    _section_learning(rep, accuracy, learned)


def _section_learning(rep: Report, accuracy: list[dict], rows: list[dict]) -> None:
    commands = "\n".join(learning.COMMANDS)
    if not rows:
        rep.add(
            "Learning in low precision is not measured in these results; this measures it:"
            f"\n\n```sh\n{commands}\n```"
        )
        return
    rep.add(
        f"**Does reduced precision change what is learned?** From {rep.link(learning.SOURCE)}: the same "
        "jobs (task, length, cell, seed, hence the same batches and initial weights) in float32, under "
        "torch.autocast (`mixed bfloat16`: float32 weights and optimizer, bfloat16 arithmetic) and in pure "
        "bfloat16 (weights, Adam's moments and arithmetic; Adam's step count in float32, as torch.optim "
        "keeps it), at the full profile's settings. `loss_vs_baseline`: the median test loss over the "
        "loss of a model that remembers nothing (range over seeds beside it). What pure bfloat16 does to "
        "Adam: its second moment cannot decay, since beta2 * v rounds back to v (1 - 0.999 is below half "
        "of bfloat16's relative spacing, 2**-9) and a squared gradient far below v adds nothing; a JAX row "
        "(the same update rule on another kernel) tells that arithmetic from PyTorch's bf16 kernel."
    )
    shown = [
        {
            **r,
            "loss_vs_baseline": _ratio(r["loss_vs_baseline"]),
            "range": ""
            if r["loss_range"] is None
            else f"{_ratio(r['loss_range'][0])}-{_ratio(r['loss_range'][1])}",
            "accuracy": "" if r["accuracy"] is None else f"{r['accuracy']:.3f}",
        }
        for r in rows
    ]
    columns = ["task", "seq_len", "cell", "precision", "implementation", "steps", "solved"]
    rep.add(md_table(shown, [*columns, "loss_vs_baseline", "range", "accuracy"]))
    rep.figure(
        learning.learning_figure(accuracy),
        "precision_learning",
        "each seed's test loss over the baseline, per precision",
    )
    rep.add(f"Measured by:\n\n```sh\n{commands}\n```")


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2g}"


def precision_findings(speed: list[dict]) -> list[Finding]:
    """Per CPU: each implementation's LSTM forward at the fastrnns point in each low-precision dtype."""
    found = []
    for where, recs in by_machine(speed).items():
        newest: dict[tuple, dict] = {}  # a dtype timed in several runs: the newest run's ratio
        for r in sorted(precision_rows(recs), key=lambda r: r["date"]):
            if (r["cell"], r["point"], r["mode"]) == ("lstm", "fastrnns", "forward"):
                newest[(r["implementation"], r["dtype"])] = r
        rows = list(newest.values())
        if not rows:
            continue
        parts = [
            f"{r['implementation']} {r['dtype']} {r['x']:.2f}x float32 ({_kernel(r['path'])})"
            for r in sorted(rows, key=lambda r: -r["x"])
        ]
        text = (
            f"**{where}**, LSTM forward at the fastrnns point in low precision, against float32 in the same "
            "run (above 1: faster; the newest run of each): " + "; ".join(parts) + "."
        )
        question = f"Does bfloat16 or float16 pay, {where}?"
        found.append(Finding(question, text, SECTION, sorted({r["source"] for r in rows}), "; ".join(parts)))
    return found


def _kernel(path: str) -> str:
    return path.split(",")[0] or "kernel not reported"


def findings(results: Results) -> list[Finding]:
    found = [
        *precision_findings(results.of("speed")),
        *learning.learning_finding(results.of("accuracy"), SECTION),
    ]
    return found or [missing_finding(TITLE, SECTION, "low-precision results", STUDY.measures["precision"])]


def sections(page: Report, results: Results) -> None:
    section_precision(
        page, results.of("speed"), results.of("check"), results.of("memory"), results.of("accuracy")
    )
