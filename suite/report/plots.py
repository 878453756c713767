"""The report's figures. Each function returns a matplotlib Figure, or None when there is nothing to draw."""

from __future__ import annotations

import statistics
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import tasks as task_defs  # noqa: E402
from suite import capacity  # noqa: E402
from suite.stability import is_unstable  # noqa: E402
from suite.table import CELL_NAMES  # noqa: E402

COLOURS = {"numpy": "#4d4d4d", "torch": "#d62728", "tensorflow": "#ff7f0e", "jax": "#1f77b4"}  # per framework
OTHER_COLOUR = "#2ca02c"  # a plugin's framework
VARIANT_MARKERS = ("o", "s", "^", "D", "v", "P")
VARIANT_HATCHES = ("", "//", "..", "xx", "\\\\", "--")
CELLS = ("rnn", "lstm", "gru")
MODE_STYLE = {"forward": "-", "train": "--"}
CELL_MARKER = {"rnn": "o", "lstm": "s", "gru": "^"}
CURVE_STYLE = {"numpy": "-", "torch": "--", "tensorflow": "-.", "jax": ":"}
CURVE_WIDTH = {"numpy": 3.0, "torch": 2.0, "tensorflow": 1.5, "jax": 1.5}


def _ok(records: list[dict]) -> list[dict]:
    return [r for r in records if r.get("status") == "ok"]


def _name(r: dict) -> str:
    return r.get("implementation") or r["framework"]


def _variant(name: str) -> int:
    """The implementation's variant number (0: a framework's default), from the registry where known."""
    from impls import registry

    try:
        return registry.get(name).variant
    except ValueError:  # recorded by a plugin that is not installed here
        return 1


def implementations(records: list[dict]) -> list[tuple[str, str]]:
    """(implementation, framework) of the records, frameworks in COLOURS order, defaults first."""
    found = {(_name(r), r["framework"]) for r in records}
    order = list(COLOURS)
    return sorted(
        found, key=lambda p: (order.index(p[1]) if p[1] in order else len(order), _variant(p[0]), p[0])
    )


def colour(framework: str) -> str:
    """One hue per framework."""
    return COLOURS.get(framework, OTHER_COLOUR)


def _panels(n: int, title: str, width: float = 5.0, height: float = 4.0) -> tuple[Figure, list]:
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False)
    fig.suptitle(title)
    return fig, list(axes[0])


def _log_axes(ax, title: str, ylabel: str) -> None:
    """Log-log axes against sequence length, with a grid and a legend."""
    ax.set(xscale="log", yscale="log", title=title, xlabel="sequence length T (steps)", ylabel=ylabel)
    ax.grid(True, which="both", alpha=0.3)
    _legend(ax)


def _legend(ax) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)


def speed_vs_length(records: list[dict], device: str) -> Figure | None:
    """Median time against T on the sequence sweep, one panel per cell, log-log."""
    sweep = [r for r in _ok(records) if r.get("group") == "seq_sweep" and r["device"] == device]
    if not sweep:
        return None
    r0 = sweep[0]
    fig, axes = _panels(
        3,
        f"Time per call against sequence length ({device}, {r0['dtype']}, batch {r0['batch']}, "
        f"input = hidden = {r0['hidden_size']}; solid forward, dashed train step)",
    )
    for ax, cell in zip(axes, CELLS, strict=True):
        for name, framework in implementations(sweep):
            for mode, style in MODE_STYLE.items():
                pts = sorted(
                    (r["seq_len"], r["median_s"] * 1e3)
                    for r in sweep
                    if r["cell"] == cell and _name(r) == name and r["mode"] == mode
                )
                if pts:
                    ax.plot(
                        *zip(*pts, strict=True),
                        style,
                        marker=VARIANT_MARKERS[_variant(name) % len(VARIANT_MARKERS)],
                        ms=3,
                        color=colour(framework),
                        label=f"{name} {mode}",
                    )
                shaky = [
                    (r["seq_len"], r["median_s"] * 1e3)
                    for r in sweep
                    if r["cell"] == cell and _name(r) == name and r["mode"] == mode and is_unstable(r)
                ]
                if shaky:
                    ax.plot(*zip(*shaky, strict=True), "o", ms=7, mfc="white", mec=colour(framework))
        _log_axes(ax, cell.upper(), "median time per call (ms)")
    _note_unstable(fig, sweep)
    fig.tight_layout()
    return fig


def _note_unstable(fig: Figure, records: list[dict]) -> None:
    """Say under the figure how unstable timings are drawn, when there are any."""
    if any(is_unstable(r) for r in records):
        fig.text(
            0.01, 0.005, "hollow: an unstable timing (its rounds spread or drift; not a finding)", fontsize=7
        )


def _bars(
    ax,
    groups: list[str],
    series: dict[tuple[str, str], list[float | None]],
    ylabel: str,
    hollow: dict[tuple[str, str], list[bool]] | None = None,
) -> None:
    """Grouped bars, one series per (implementation, framework): hue by framework, hatch by variant; the
    bars ``hollow`` names drawn as outlines (unstable timings)."""
    width = 0.8 / max(1, len(series))
    for i, ((name, framework), values) in enumerate(series.items()):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        hatch = VARIANT_HATCHES[_variant(name) % len(VARIANT_HATCHES)]
        empty = (hollow or {}).get((name, framework)) or [False] * len(values)
        filled = [0 if e else v or 0 for v, e in zip(values, empty, strict=True)]
        ax.bar(xs, filled, width, color=colour(framework), hatch=hatch, label=name)
        if any(empty):  # outlines, apart from the filled bars so that the legend shows the fill
            outline = [v or 0 if e else 0 for v, e in zip(values, empty, strict=True)]
            ax.bar(xs, outline, width, fill=False, edgecolor=colour(framework), linestyle="--", hatch=hatch)
    ax.set_xticks(range(len(groups)), groups, fontsize=8)
    ax.set_ylabel(ylabel)
    ax.grid(True, axis="y", alpha=0.3)
    _legend(ax)


def fastrnns_point(records: list[dict], device: str, group: str = "fastrnns") -> Figure | None:
    """Throughput, efficiency against the measured GEMM peak and first-call time at one point of the grid
    (the fastrnns point, T100 B64 I=H=512, by default)."""
    point = [r for r in _ok(records) if r.get("group") == group and r["device"] == device]
    if not point:
        return None
    groups = [f"{c} {m}" for c in CELLS for m in ("forward", "train")]
    series = implementations(point)

    def values(field: str, scale: float = 1.0) -> dict[tuple[str, str], list[float | None]]:
        table = {(_name(r), f"{r['cell']} {r['mode']}"): r.get(field) for r in point}
        return {s: [(table.get((s[0], g)) or 0) * scale for g in groups] for s in series}

    peak = max(r.get("peak_gflops") or 0 for r in point)
    shaky = {(_name(r), f"{r['cell']} {r['mode']}") for r in point if is_unstable(r)}
    hollow = {s: [(s[0], g) in shaky for g in groups] for s in series}
    r0 = point[0]
    fig, axes = _panels(
        3,
        f"{group} point: T={r0['seq_len']}, batch {r0['batch']}, input {r0['input_size']}, hidden "
        f"{r0['hidden_size']} ({device}, {r0['dtype']}, {r0['threads']} threads)",
        width=6.0 if len(series) <= 4 else 7.5,
    )
    batch = r0["batch"]
    _bars(
        axes[0],
        groups,
        {s: [batch / t if t else 0 for t in v] for s, v in values("median_s").items()},
        "throughput (sequences / s)",
        hollow,
    )
    axes[0].set_title("throughput")
    _bars(axes[1], groups, values("efficiency", 100.0), "% of the measured GEMM peak", hollow)
    axes[1].set_title(f"efficiency (GEMM peak {peak:.0f} GFLOP/s)")
    _bars(axes[2], groups, values("first_call_s"), "first call (s), tracing and compilation included")
    axes[2].set_title("first-call time")
    axes[2].set_yscale("log")
    # one legend under the panels, so that it hides no bar
    handles, labels = axes[0].get_legend_handles_labels()
    for ax in axes:
        if ax.get_legend():
            ax.get_legend().remove()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 9), fontsize=8, frameon=False)
    _note_unstable(fig, point)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def memory_vs_length(records: list[dict], device: str) -> Figure | None:
    """Measured peak against T beside the analytic activation size, one panel per cell."""
    sweep = [r for r in _ok(records) if r.get("group") == "seq_sweep" and r["device"] == device]
    if not sweep:
        return None
    mode = "train" if any(r["mode"] == "train" for r in sweep) else "forward"
    sweep = [r for r in sweep if r["mode"] == mode]
    fig, axes = _panels(
        3,
        f"Peak memory of one {mode} call (dotted: the first call) against sequence length ({device}, "
        f"{sweep[0]['dtype']}, batch {sweep[0]['batch']}, hidden {sweep[0]['hidden_size']})",
    )
    for ax, cell in zip(axes, CELLS, strict=True):
        analytic = sorted({(r["seq_len"], r["analytic_bytes"] / 2**20) for r in sweep if r["cell"] == cell})
        if analytic:
            ax.plot(*zip(*analytic, strict=True), "k:", lw=2, label="analytic activations")
        for name, framework in implementations(sweep):
            mine = [r for r in sweep if r["cell"] == cell and _name(r) == name]
            pts = sorted((r["seq_len"], max(r["peak_bytes"], 1) / 2**20) for r in mine)
            marker = VARIANT_MARKERS[_variant(name) % len(VARIANT_MARKERS)]
            if pts:
                ax.plot(*zip(*pts, strict=True), marker=marker, ms=3, color=colour(framework), label=name)
            first = sorted(
                (r["seq_len"], r["first_call_peak_bytes"] / 2**20)
                for r in mine
                if r.get("first_call_peak_bytes")
            )
            if first:
                ax.plot(
                    *zip(*first, strict=True), ":", lw=1, color=colour(framework), label=f"{name} first call"
                )
        _log_axes(ax, cell.upper(), "peak memory of the call (MiB)")
    fig.tight_layout()
    return fig


def accuracy_vs_length(records: list[dict], task: str) -> Figure | None:
    """Test loss against T per cell: mean and min-max over seeds, per framework; the baseline as a line."""
    rows = [r for r in records if r["task"] == task and r.get("test_loss") is not None]
    if not rows:
        return None
    fig, axes = _panels(3, f"{task}: test loss against sequence length (mean and range over seeds)")
    for ax, cell in zip(axes, CELLS, strict=True):
        base = sorted({(r["seq_len"], r["baseline_loss"]) for r in rows if r["cell"] == cell})
        if len({b for _, b in base}) == 1:  # the adding baseline does not depend on T
            ax.axhline(base[0][1], color="k", ls="--", lw=1.5, label="memoryless baseline")
        elif base:
            ax.plot(*zip(*base, strict=True), "k--", marker="_", ms=12, lw=1.5, label="memoryless baseline")
        series = implementations(rows)
        for i, (name, framework) in enumerate(series):
            groups = defaultdict(list)
            for r in rows:
                if r["cell"] == cell and _name(r) == name:
                    groups[r["seq_len"]].append(r["test_loss"])
            if not groups:
                continue
            ts = sorted(groups)
            # a small offset keeps overlapping markers visible
            x = [t * (1 + 0.03 * (i - (len(series) - 1) / 2)) for t in ts]
            mean = [statistics.mean(groups[t]) for t in ts]
            err = [
                [m - min(groups[t]) for m, t in zip(mean, ts, strict=True)],
                [max(groups[t]) - m for m, t in zip(mean, ts, strict=True)],
            ]
            marker = VARIANT_MARKERS[_variant(name) % len(VARIANT_MARKERS)]
            ax.errorbar(
                x, mean, yerr=err, marker=marker, ms=4, color=colour(framework), label=name, capsize=3
            )
        if task == "adding":
            ax.axhline(0.01, color="green", lw=0.8, ls=":", label="solved (MSE 0.01)")
        _log_axes(
            ax, cell.upper(), "test loss (" + ("MSE" if task == "adding" else "cross-entropy, nats") + ")"
        )
        lengths = sorted({r["seq_len"] for r in rows})
        ax.set_xticks(lengths, [str(t) for t in lengths])
        ax.set_xticks([], minor=True)
        ax.set_xlim(min(lengths) / 1.3, max(lengths) * 1.3)
    fig.tight_layout()
    return fig


def learning_curves(records: list[dict], task: str) -> Figure | None:
    """Training loss against step for every framework, overlaid: one panel per (cell, T), seed 0."""
    rows = [r for r in records if r["task"] == task and r.get("learning_curve") and r.get("seed", 0) == 0]
    lengths = sorted({r["seq_len"] for r in rows})
    if not rows:
        return None
    fig, axes = plt.subplots(len(lengths), 3, figsize=(15, 3.2 * len(lengths)), squeeze=False)
    fig.suptitle(f"{task}: training loss against step, the frameworks overlaid (same weights, same batches)")
    for row, t in zip(axes, lengths, strict=True):
        for ax, cell in zip(row, CELLS, strict=True):
            for r in rows:
                if r["seq_len"] == t and r["cell"] == cell:
                    pts = [(s, v) for s, v in r["learning_curve"] if v is not None]
                    if pts:
                        # identical curves would hide each other: widths and dashes tell them apart
                        fw = r["framework"]
                        ax.plot(
                            *zip(*pts, strict=True),
                            CURVE_STYLE.get(fw, "-"),
                            color=colour(fw),
                            lw=CURVE_WIDTH.get(fw, 1.5),
                            label=_name(r),
                        )
            base = [r["baseline_loss"] for r in rows if r["seq_len"] == t]
            if base:
                ax.axhline(base[0], color="k", ls="--", lw=1, label="baseline")
            ax.set(
                yscale="log", title=f"{cell.upper()}, T={t}", xlabel="training step", ylabel="training loss"
            )
            ax.grid(True, which="both", alpha=0.3)
            _legend(ax)
    fig.tight_layout()
    return fig


def settings_compared(groups: dict[str, list[dict]], task: str) -> Figure | None:
    """Training loss against step, one line per settings group: a panel per (cell, T) run under more than one
    setting, seed 0, one framework (the first of COLOURS that every group ran there)."""
    by_panel: dict[tuple, dict[str, dict[str, dict]]] = defaultdict(lambda: defaultdict(dict))
    for label, recs in groups.items():
        for r in recs:
            if r["task"] == task and r.get("learning_curve") and r.get("seed", 0) == 0:
                by_panel[(r["cell"], r["seq_len"])][label][_name(r)] = r
    panels = sorted((k for k, v in by_panel.items() if len(v) > 1), key=lambda k: (k[1], CELLS.index(k[0])))
    if not panels:
        return None
    lengths = sorted({t for _, t in panels})
    legend_rows = (len(groups) + 2) // 2  # below the panels: two entries a row, the baseline one
    fig, grid = plt.subplots(
        len(lengths), 3, figsize=(15, 3.2 * len(lengths) + 0.22 * legend_rows), squeeze=False
    )
    fig.suptitle(f"{task}: training loss against step under each setting")
    axes = []
    for (cell, t), ax in zip(
        [(c, t) for t in lengths for c in CELLS], [ax for row in grid for ax in row], strict=True
    ):
        if (cell, t) not in panels:
            ax.set_axis_off()
            continue
        axes.append(ax)
        runs = by_panel[(cell, t)]
        common = [fw for fw in COLOURS if all(fw in by_fw for by_fw in runs.values())]
        shown: set[str] = set()
        for i, label in enumerate(groups):
            by_fw = runs.get(label, {})
            fw = next((f for f in common if f in by_fw), next(iter(by_fw), None))
            pts = [(s, v) for s, v in by_fw[fw]["learning_curve"] if v is not None] if fw else []
            if not pts:
                continue
            ax.plot(*zip(*pts, strict=True), color=f"C{i}", lw=1.5, label=label)
            shown.add(fw)
        baseline = next(r["baseline_loss"] for by_fw in runs.values() for r in by_fw.values())
        ax.axhline(baseline, color="k", ls="--", lw=1, label="baseline")
        title = f"{cell.upper()}, T={t} ({', '.join(sorted(shown))})"
        ax.set(yscale="log", title=title, xlabel="training step", ylabel="training loss")
        ax.grid(True, which="both", alpha=0.3)
    handles = {label: h for ax in axes for h, label in zip(*ax.get_legend_handles_labels(), strict=True)}
    bottom = 0.22 * legend_rows / fig.get_figheight() + 0.02
    fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    return fig


def history_trends(runs: list[dict], steps_of: dict[str, list[int]], limit: int = 24) -> Figure | None:
    """Each tracked benchmark's median over the tracked runs, detected steps marked."""
    keys = sorted({k for run in runs for k in run.get("medians", {})})[:limit]
    if len(runs) < 2 or not keys:
        return None
    fig, ax = plt.subplots(figsize=(15, 6))
    for key in keys:
        values = [run["medians"].get(key) for run in runs]
        first = next((v for v in values if v), None)
        if not first:
            continue
        rel = [v / first if v else None for v in values]
        framework = next((f for f in COLOURS if f in key), None)
        cell = next((c for c in CELLS if f"/{c}/" in key or f"-{c}-" in key), "rnn")
        style = MODE_STYLE["train" if "train" in key else "forward"]
        label = key.split("::")[-1].removeprefix("speed:")[:60]
        (line,) = ax.plot(
            range(len(rel)),
            rel,
            style,
            marker=CELL_MARKER[cell],
            ms=4,
            lw=1,
            color=COLOURS.get(framework),
            label=label,
        )
        for i in steps_of.get(key, []):
            ax.axvline(i - 0.5, color=line.get_color(), ls=":", lw=1)
    ax.set(
        title="Tracked benchmarks: median relative to the first tracked run\n(colour: framework, marker: "
        "cell, dashed: train step; vertical dotted lines: detected steps)",
        xlabel="tracked run (oldest first)",
        ylabel="median / first run's median",
    )
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


INIT_COLOURS = {"default": "#4d4d4d", "forget1": "#1f77b4", "chrono": "#d62728"}


def gradient_norms(records: list[dict], trained: bool = False) -> Figure | None:
    """Gradient norm against lag on a log scale, one panel per cell, the inits overlaid: the median over
    seeds and implementations with its min-max band; the LSTM's cell-state path dashed. At initialisation,
    or (``trained``) at each training checkpoint, the later steps darker."""
    records = [r for r in _ok(records) if r.get("norms") and (r.get("step", 0) > 0) == trained]
    cells = [c for c in CELLS if any(r["cell"] == c for r in records)]
    if not cells:
        return None
    title = "gradient reaching the state k steps back, |d(u.h_T)/d h_(T-k)|"
    fig, axes = _panels(len(cells), title + (": after training" if trained else ": at initialisation"))
    steps = sorted({r.get("step", 0) for r in records})
    for ax, cell in zip(axes, cells, strict=True):
        for init, colour_ in INIT_COLOURS.items():
            for i, step in enumerate(steps):
                of = [
                    r for r in records if r["cell"] == cell and r["init"] == init and r.get("step", 0) == step
                ]
                alpha = 0.4 + 0.6 * (i + 1) / len(steps)
                for key, style, label in (("norms", "-", "h"), ("c_norms", "--", "c")):
                    series = [r for r in of if r.get(key)]
                    if not series:
                        continue
                    lags = series[0]["lags"]
                    values = [[r[key][i] for r in series if r["lags"] == lags] for i in range(len(lags))]
                    middle = [statistics.median(v) for v in values]
                    at = f", step {step}" if trained else ""
                    ax.plot(
                        lags,
                        middle,
                        style,
                        color=colour_,
                        alpha=alpha,
                        label=f"{init} ({label}{at}, {len(series)} runs)",
                    )
                    low, high = [min(v) for v in values], [max(v) for v in values]
                    ax.fill_between(lags, low, high, color=colour_, alpha=0.1)
        ax.set(yscale="log", title=CELL_NAMES[cell], xlabel="lag k (steps)", ylabel="gradient norm")
        ax.grid(True, which="both", alpha=0.3)
        _legend(ax)
    return fig


def capacity_vs_length(rows: list[dict]) -> Figure | None:
    """The capacity search's outcome against T, a row of panels per task and a panel per cell, the inits
    overlaid: every seed as a dot, the median joined, the min-max band shaded, the seeds solved out of those
    run written at each length. Classification tasks show test accuracy (solve line at 0.99, chance
    dotted); the adding problem, a regression, its test MSE (solved below 0.01, baseline 1/6).
    ``rows``: suite.capacity.reach rows."""
    task_names = [t for t in capacity.TASKS if any(r["task"] == t for r in rows)]
    cells = [c for c in CELLS if any(r["cell"] == c for r in rows)]
    if not task_names:
        return None
    fig, grid = plt.subplots(
        len(task_names), len(cells), figsize=(5.0 * len(cells), 3.6 * len(task_names)), squeeze=False
    )
    fig.suptitle("how far each cell reaches (dots: seeds; k/n: seeds solved at that T)")
    for axes, task in zip(grid, task_names, strict=True):
        regression = task_defs.get(task).loss == "mse_last"
        field = "losses" if regression else "accuracies"
        for ax, cell in zip(axes, cells, strict=True):
            lengths_tried: set[int] = set()
            for row in (r for r in rows if r["task"] == task and r["cell"] == cell):
                colour_ = INIT_COLOURS.get(row["init"], "black")
                ts = [t for t, p in row["by_length"].items() if p[field]]
                lengths_tried.update(ts)
                values = [row["by_length"][t][field] for t in ts]
                label = f"{row['init']} ({row['implementation']})"
                ax.plot(ts, [statistics.median(v) for v in values], "-", color=colour_, label=label)
                ax.fill_between(
                    ts, [min(v) for v in values], [max(v) for v in values], color=colour_, alpha=0.1
                )
                for t, v in zip(ts, values, strict=True):
                    p = row["by_length"][t]
                    ax.scatter([t] * len(v), v, s=8, color=colour_, alpha=0.6)
                    ax.annotate(
                        f"{p['solved']}/{p['seeds']}",
                        (t, max(v) if not regression else min(v)),
                        textcoords="offset points",
                        xytext=(0, 5 if not regression else -11),
                        ha="center",
                        fontsize=7,
                        color=colour_,
                    )
            definition = task_defs.get(task)
            if regression:
                solved, baseline = definition.solved_below, definition.baseline(1)
                ax.axhline(solved, color="green", ls="--", lw=0.8, label=f"solved below {solved:g}")
                ax.axhline(baseline, color="grey", ls=":", lw=0.8, label=f"baseline {baseline:.3g}")
                ax.set(yscale="log", ylabel="test MSE")
            else:
                solved, chance = definition.solved_above, definition.chance
                ax.axhline(solved, color="green", ls="--", lw=0.8, label=f"solved above {solved:g}")
                ax.axhline(chance, color="grey", ls=":", lw=0.8, label=f"chance {chance:.3g}")
                ax.set(ylim=(0, 1.08), ylabel="test accuracy")
            if lengths_tried:
                ax.set_xscale("log", base=2)
                ticks = sorted(lengths_tried)
                ax.set_xticks(ticks, [str(t) for t in ticks])
                ax.set_xlim(min(ticks) / 1.4, max(ticks) * 1.4)
            ax.set(title=f"{task}: {CELL_NAMES[cell]}", xlabel="T (steps)")
            ax.grid(True, which="both", alpha=0.3)
            _legend(ax)
    fig.tight_layout()
    return fig
