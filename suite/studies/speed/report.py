"""The speed and memory study's part of the report: findings, sections (speed, memory, machines side by
side) and plots."""

from __future__ import annotations

import statistics
from pathlib import Path

from impls.registry import FRAMEWORKS
from suite.measurement import stability
from suite.measurement.stability import is_unstable
from suite.measurement.workloads import POINTS, describe_point
from suite.records import benchmark_key
from suite.report.loading import Results
from suite.report.machines import by_machine, machine, main_run, side_by_side
from suite.report.page import Finding, Report, listed, md_table, missing_finding, sources_of
from suite.report.style import (
    CELLS,
    MODE_STYLE,
    VARIANT_HATCHES,
    VARIANT_MARKERS,
    Figure,
    colour,
    implementations,
    legend,
    log_axes,
    ok_records,
    panels,
    shown_name,
    variant_index,
)
from suite.studies.speed import STUDY
from suite.studies.speed.analysis import (
    PROJECTION_PAIRS,
    best_implementations,
    bidirectional_rows,
    determinism_costs,
    device_time_rows,
    fastpath_rows,
    kernel_of,
    length_rows,
    per_step_costs,
    projection_rows,
    seq_slopes,
    stream_rows,
    subnormal_costs,
)
from suite.studies.speed.deploying import deploying_findings, section_deploying
from suite.table import CELL_NAMES


def speed_findings(
    records: list[dict], command: str, cell: str = "lstm", mode: str = "train"
) -> list[Finding]:
    """Per machine and reference point: the fastest implementation of each framework (one run), its share
    of that machine's measured GEMM peak, and the spread between the frameworks' best. Unstable timings are
    left out, and said to be."""
    found = []
    for where, recs in by_machine(records).items():
        for point in POINTS:
            measured = [r for r in main_run(recs, point) if r["cell"] == cell and r["mode"] == mode]
            run = [r for r in measured if not is_unstable(r)]
            if not run:
                continue
            best: dict[str, dict] = {}
            for r in sorted(run, key=lambda r: r["median_s"]):
                best.setdefault(r["framework"], r)
            ranked = sorted(best.values(), key=lambda r: r["median_s"])
            fastest = ", ".join(
                f"{r['implementation']} {r['median_s'] * 1e3:.3g} ms"
                + (f" ({r['efficiency']:.0%} of peak)" if r.get("efficiency") is not None else "")
                for r in ranked
            )
            spread = ranked[-1]["median_s"] / ranked[0]["median_s"]
            text = (
                f"**{where}, {point} point** ({describe_point(point)}), {CELL_NAMES[cell]} {mode} step, "
                "fastest per "
                f"framework: {fastest}; the frameworks' best differ by {spread:.1f}x."
            )
            shaky = sorted(r["implementation"] for r in measured if is_unstable(r))
            if shaky:
                text += f" Left out as unstable timings: {listed(shaky)}."
            top = ranked[0]
            answer = (
                f"{top['implementation']} {top['median_s'] * 1e3:.3g} ms"
                + (f" ({top['efficiency']:.0%} of peak)" if top.get("efficiency") is not None else "")
                + f"; the frameworks' best within {spread:.1f}x"
            )
            question = f"Fastest {CELL_NAMES[cell]} {mode} step, {point} point, {where}?"
            found.append(Finding(question, text, "speed", sources_of(run), answer))
    return found or [missing_finding("Speed", "speed", "speed results at the reference points", command)]


def projection_findings(records: list[dict], command: str) -> list[Finding]:
    """Per machine: how many times faster hoisting the input projection out of the loop is than a matmul per
    step, per framework that lets you choose (one run per point; unstable timings left out)."""
    found = []
    for where, recs in by_machine(records).items():
        rows = [r for point in POINTS for r in projection_rows(main_run(recs, point)) if not r["unstable"]]
        if not rows:
            continue
        parts = []
        for framework in PROJECTION_PAIRS:
            xs = sorted(r["hoisting_x"] for r in rows if r["framework"] == framework)
            if xs:
                hoisted, in_step = PROJECTION_PAIRS[framework]
                parts.append(f"{framework} ({hoisted} against {in_step}) {xs[0]:.2f}-{xs[-1]:.2f}x")
        text = (
            f"**{where}**: hoisting the input projection out of the loop is this many times faster than a "
            "matmul per step (below 1: slower), over both points, cells and modes, stable timings only: "
            f"{'; '.join(parts)}."
        )
        names = {r["hoisted"] for r in rows} | {r["in_step"] for r in rows}
        sources = sources_of(
            [r for r in recs if r.get("implementation") in names and r.get("group") in POINTS]
        )
        question = f"Hoist the input projection out of the loop, {where}?"
        answer = (
            "; ".join(p.split(" (")[0] + " " + p.rsplit(" ", 1)[1] for p in parts) + " (x faster hoisted)"
        )
        found.append(Finding(question, text, "speed", sources, answer))
    return found


def memory_findings(records: list[dict], command: str, cell: str = "lstm") -> list[Finding]:
    """Per machine: one training step's peak against the analytic size of what it must keep."""
    found = []
    for where, recs in by_machine(records).items():
        run = [r for r in main_run(recs, "fastrnns") if r["cell"] == cell and r["mode"] == "train"]
        run = [r for r in run if r.get("peak_bytes") and r.get("analytic_bytes")]
        if not run:
            continue
        run.sort(key=lambda r: r["peak_bytes"] / r["analytic_bytes"])
        low, high = run[0], run[-1]
        text = (
            f"**{where}**, fastrnns point, {CELL_NAMES[cell]} train step: the peak is "
            f"{low['peak_bytes'] / low['analytic_bytes']:.1f}x ({low['implementation']}) to "
            f"{high['peak_bytes'] / high['analytic_bytes']:.1f}x ({high['implementation']}) the analytic "
            f"{low['analytic_bytes'] / 2**20:.0f} MiB the step must keep ({len(run)} implementations)."
        )
        answer = (
            f"{low['peak_bytes'] / low['analytic_bytes']:.1f}-"
            f"{high['peak_bytes'] / high['analytic_bytes']:.1f}x "
            f"the {low['analytic_bytes'] / 2**20:.0f} MiB it must keep ({low['implementation']} least)"
        )
        question = f"Peak memory of one {CELL_NAMES[cell]} train step, fastrnns point, {where}?"
        found.append(Finding(question, text, "memory", sources_of(run), answer))
    return found or [missing_finding("Memory", "memory", "memory results at the fastrnns point", command)]


def _runs(records: list[dict]) -> list[tuple[str, str, list[dict]]]:
    """(file, device, records) per results file and device: CPU first, so CPU and GPU sit side by side."""
    keys = sorted({(r["source"], r["device"]) for r in records}, key=lambda k: (k[1] != "cpu", k[0]))
    return [
        (src, dev, [r for r in records if r["source"] == src and r["device"] == dev]) for src, dev in keys
    ]


def section_speed(rep: Report, records: list[dict]) -> None:
    runs = _runs(records)
    if not rep.measured_section(
        "Speed",
        f"{_count(len(runs), 'run')} on {_count(len(by_machine(records)), 'machine')}; per run: the "
        "reference points, which implementation to use, time against sequence length, per-step overhead.",
        bool(records),
        "speed results",
        "speed",
    ):
        return
    failed = [r for r in records if r.get("status") != "ok"]
    for source, device, recs in runs:
        name = Path(source).stem
        rep.add(f"### {machine(recs[0])}: {source}")
        rep.add(f"From {rep.link(source)}.")
        rep.figure(fastrnns_point(recs, device), f"{name}_fastrnns", f"fastrnns point on {device}")
        rep.figure(fastrnns_point(recs, device, "small"), f"{name}_small", f"small point on {device}")
        choice = best_implementations(recs)
        if any(r["others"] for r in choice):
            rep.add(
                "Which implementation to use: per framework, point, cell and mode, the fastest "
                "implementation measured in this run, its share of the run's GEMM peak, and how much slower "
                "the framework's other implementations are."
            )
            rep.add(
                md_table(
                    [{**r, "efficiency": _percent(r["efficiency"])} for r in choice],
                    ["framework", "point", "cell", "mode", "best", "median_ms", "efficiency", "others"],
                )
            )
        pairs = projection_rows(recs)
        if pairs:
            rep.add(
                "Where the input projection goes, where a framework lets you choose: `hoisted`, every "
                "step's input matmul in one GEMM before the loop (cuDNN's form); `in_step`, a matmul per "
                "step inside it (what a cell called in a loop does). `hoisting_x`: the in-step time over "
                "the hoisted one (above 1: hoisting is faster), measured in this run."
            )
            columns = ["framework", "point", "cell", "mode", "hoisted", "hoisted_ms", "in_step", "in_step_ms"]
            rows = [
                {**r, "hoisting_x": f"{r['hoisting_x']:.2f}" + (" (unstable)" if r["unstable"] else "")}
                for r in pairs
            ]
            rep.add(md_table(rows, [*columns, "hoisting_x"]))
        rep.figure(speed_vs_length(recs, device), f"{name}_vs_length", f"time against T on {device}")
        point = [r for r in recs if r.get("group") == "fastrnns" and r.get("status") == "ok"]
        best = {}
        for r in point:
            key = (r["cell"], r["mode"])
            best[key] = min(best.get(key, float("inf")), r["median_s"])
        rows = [
            {
                **r,
                "median_ms": r["median_s"] * 1e3,
                "IQR_ms": r["iqr_s"] * 1e3,
                "vs_fastest": f"{r['median_s'] / best[(r['cell'], r['mode'])]:.2f}x",
                "efficiency": f"{r.get('efficiency', 0):.0%}",
                "GFLOP/s": f"{r['gflops']:.0f}" if r.get("gflops") else None,
                "first_call_s": r["first_call_s"],
                "timing": f"UNSTABLE ({stability.describe(r)})" if stability.is_unstable(r) else "stable",
            }
            for r in point
        ]
        if rows:
            rep.add(f"fastrnns point ({describe_point('fastrnns')}):")
        rep.add(
            md_table(
                rows,
                [
                    "implementation",
                    "cell",
                    "mode",
                    "path",
                    "median_ms",
                    "IQR_ms",
                    "vs_fastest",
                    "GFLOP/s",
                    "efficiency",
                    "first_call_s",
                    "timing",
                ],
            )
        )
        timed = [r for r in recs if r.get("status") == "ok"]
        shaky = [r for r in timed if stability.is_unstable(r)]
        if shaky:
            named = ", ".join(f"`{benchmark_key(r)}`" for r in shaky)
            rep.add(
                f"**{len(shaky)} of {len(timed)} timings in this run are unstable** (IQR over "
                f"{stability.MAX_REL_IQR:.0%} of the median, or the rounds' halves {stability.MAX_DRIFT:.0%} "
                f"apart): drawn hollow, marked in the tables, left out of the findings: {named}."
            )
        slow = _more_than_twice(recs)
        rep.add(
            f"Sizes where an implementation is more than 2x slower than the fastest: {len(slow)}."
            if slow
            else "Every implementation is within 2x of the fastest at every size measured."
        )
        rep.add(md_table(slow, ["implementation", "cell", "mode", "T", "batch", "hidden", "vs_fastest"]))
        steps = per_step_costs(recs)
        if steps:
            r0 = next(r for r in recs if r.get("group") == "seq_sweep")
            rep.add(
                f"Cost per time step on the sequence sweep (batch {r0['batch']}, hidden {r0['hidden_size']}; "
                "a straight-line fit of time against T) beside the time the step's FLOPs need at the "
                "measured GEMM peak. `overhead_x` far above 1 means per-step overhead (dispatch, loop "
                "machinery), not arithmetic, sets the speed at small sizes: this is what puts an adapter "
                "over 2x the fastest there."
            )
            rep.add(
                md_table(
                    steps,
                    ["implementation", "cell", "mode", "per_step_us", "flop_time_us", "overhead_x"]
                    + ["fixed_ms"],
                )
            )
        section_subnormals(rep, recs)
        section_determinism(rep, recs)
        section_device_time(rep, recs)
        section_lengths(rep, recs)
        section_bidirectional(rep, recs)
        section_fastpath(rep, recs)
        section_stream(rep, recs)
        slopes = seq_slopes(recs, "median_s")
        if slopes:
            rep.add("Log-log slope of time against T over the sequence sweep (1 = linear):")
            rep.add(md_table(slopes, ["implementation", "cell", "mode", "T", "slope"]))
    if failed:
        rep.add(md_table(failed, ["implementation", "cell", "mode", "seq_len", "status", "error"]))


def section_subnormals(rep: Report, records: list[dict]) -> None:
    """What subnormal floats cost a training step whose loss reads the last step only."""
    rows = subnormal_costs(records)
    if not rows:
        return
    r0 = next(r for r in records if r.get("group") == "subnormals")
    rep.add(
        "What subnormal floats cost: a training step whose loss reads the last step only, as the adding and "
        "temporal-order losses do (batch {b}, input {i}, hidden {h}): the gradient flowing back decays into "
        "subnormals at long T, and x86 arithmetic on them is slow. `as_left_ms`: subnormals as the framework "
        "leaves them by default; `flushed_ms`: after asking it to flush them (what every training job does); "
        "`asked_to_flush`: what its arithmetic then did (`kept`: it has no switch). `cost_x` above 1 is what "
        "keeping them costs.".format(b=r0["batch"], i=r0["input_size"], h=r0["hidden_size"])
    )
    shown = [{**r, "cost_x": f"{r['cost_x']:.2f}" + (" (unstable)" if r["unstable"] else "")} for r in rows]
    rep.add(
        md_table(
            shown, ["implementation", "cell", "T", "as_left_ms", "flushed_ms", "cost_x", "asked_to_flush"]
        )
    )


def section_lengths(rep: Report, records: list[dict]) -> None:
    """Sequences of different lengths in one batch: does each framework's length-aware path pay off?"""
    rows = length_rows(records)
    if not rows:
        return
    r0 = next(r for r in records if r.get("group") == "lengths")
    rep.add(
        f"Sequences of different lengths in one batch (T={r0['seq_len']}, batch {r0['batch']}, input "
        f"{r0['input_size']}, hidden {r0['hidden_size']}, forward): `padded_ms` runs every sequence to T "
        "and ignores the padding; `length_aware_ms` uses the framework's own mechanism (PyTorch's packed "
        "sequence, Keras's mask, JAX's masked scan, flax's `seq_lengths`, the NumPy reference sequence by "
        "sequence) at two length distributions: `uniform` in [T/2, T] (speech-like) and `skewed` (most "
        "sequences short). `padding_share`: the share of the batch's steps that are padding. `aware_x` "
        "below 1: the length-aware path pays off."
    )
    shown = [
        {
            **r,
            "padding_share": f"{r['padding_share']:.0%}" if r["padding_share"] is not None else None,
            "aware_x": f"{r['aware_x']:.2f}" + (" (unstable)" if r["unstable"] else ""),
        }
        for r in rows
    ]
    columns = ["implementation", "cell", "device", "lengths", "padding_share", "padded_ms", "length_aware_ms"]
    rep.add(md_table(shown, [*columns, "aware_x", "path"]))


def section_bidirectional(rep: Report, records: list[dict]) -> None:
    """Both directions: the fastrnns point and a speech encoder, forward."""
    rows = bidirectional_rows(records)
    if not rows:
        return
    rep.add(
        "Both directions (`bidirectional=True`, forward): the fastrnns point, and a speech encoder in the "
        "shape of stefbraun's rnn_benchmarks (4 bidirectional layers of 320, input 123, batch 32), every "
        "sequence to T and with speech-like lengths (uniform in [T/2, T]). `vs_one_direction_x`: against "
        "the same run's one-direction forward at the fastrnns point (2 = twice the work at the same rate, "
        "below 2 = the directions overlap); `aware_x`: the length-aware path against the same batch run to "
        "T."
    )
    shown = [
        {
            **r,
            "vs_one_direction_x": None
            if r["vs_one_direction_x"] is None
            else f"{r['vs_one_direction_x']:.2f}",
            "aware_x": None if r["aware_x"] is None else f"{r['aware_x']:.2f}",
            "ms": f"{r['ms']:.3g}" + (" (unstable)" if r["unstable"] else ""),
        }
        for r in rows
    ]
    columns = ["implementation", "cell", "device", "shape", "ms", "gflops", "vs_one_direction_x", "aware_x"]
    rep.add(md_table(shown, [*columns, "path"]))


def section_fastpath(rep: Report, records: list[dict]) -> None:
    """Which settings change the kernel that runs, per implementation, and at what cost."""
    rows = fastpath_rows(records)
    if not rows:
        return
    rep.add("#### Which settings knock a framework off its fast kernel")
    r0 = next(r for r in records if r.get("group") == "fastpath")
    rep.add(
        f"One shape (T={r0['seq_len']}, batch {r0['batch']}, input {r0['input_size']}, hidden "
        f"{r0['hidden_size']}, forward), each setting changed alone: sequences of different lengths (uniform "
        "in [T/2, T], through the framework's own mechanism), both directions, two layers, float64. `path`: "
        "the kernel as the framework itself reports it (PyTorch's profiler op names, the traced Keras graph, "
        "the XLA backend; TensorFlow's `+onednn` is read from its settings: its oneDNN ops cover float32 on "
        "the CPU) and the mechanism; `kernel_changed`: it is not the kernel the shape runs as it is, "
        "and nothing warned. `work_time_x`: time per unit of nominal work (FLOPs, the padding counted) "
        "against the shape as it is: 2 = twice as long per FLOP. Dropout is not in the adapter interface "
        "(it would change the function the check proves), and right-padding is the only mask placement it "
        "takes: neither is measured."
    )
    shown = [
        {
            **r,
            "ms": f"{r['ms']:.3g}" + (" (unstable)" if r["unstable"] else ""),
            "work_time_x": f"{r['work_time_x']:.2f}",
            "kernel_changed": "yes" if r["kernel_changed"] else "",
        }
        for r in rows
    ]
    columns = ["implementation", "cell", "device", "setting", "path", "ms", "work_time_x", "kernel_changed"]
    rep.add(md_table(shown, columns))
    falls = _fallbacks(rows)
    if falls:
        rep.add("Falls back silently: " + "; ".join(falls) + ".")


def _fallbacks(rows: list[dict]) -> list[str]:
    """Each implementation, cell and setting whose kernel changed, from which to which."""
    bases = {(r["implementation"], r["cell"], r["device"]): r for r in rows if r["setting"] == "as is"}
    out = []
    for r in rows:
        if r["kernel_changed"]:
            base = bases.get((r["implementation"], r["cell"], r["device"]))
            was = kernel_of(base["path"]) if base else "?"
            out.append(
                f"{r['implementation']} {r['cell']} with {r['setting']}: {was} -> {kernel_of(r['path'])} "
                f"({r['work_time_x']:.1f}x per FLOP)"
            )
    return out


def fastpath_findings(records: list[dict]) -> list[Finding]:
    """Per machine: which settings make an implementation leave the kernel it runs the shape with."""
    found = []
    for where, recs in by_machine(records).items():
        run = main_run(recs, "fastpath")
        rows = fastpath_rows(run)
        if not rows:
            continue
        falls = _fallbacks(rows)
        question = f"Which settings knock a framework off its fast kernel, {where}?"
        answer = "; ".join(falls) if falls else "none of lengths, bidirectional, 2 layers, float64"
        checked = len({r["implementation"] for r in rows})
        text = (
            f"**{where}**: of {checked} implementations, these change kernel without a word when a setting "
            f"changes: {answer}."
        )
        found.append(Finding(question, text, "speed", sources_of(run), answer))
    return found


def section_stream(rep: Report, records: list[dict]) -> None:
    """One time step at a time: per-step latency, real-time factor and cold start."""
    rows = stream_rows(records)
    if not rows:
        return
    r0 = next(r for r in records if r.get("mode") == "stream")
    rep.add("#### Streaming: one step at a time")
    rep.add(
        f"A streaming model ({r0['num_layers']} layers of {r0['hidden_size']}, input {r0['input_size']}) "
        f"called one time step at a time through `step(x_t, state)` (NumPy in and out, the state carried "
        f"between calls), {r0['seq_len']} steps each timed on its own, in a fresh process per job. "
        f"`real_time_factor`: the time per step over the time between steps at {r0['stream_rate']} steps per "
        "second (10 ms frames; below 1 keeps up), at the median and at the 99th percentile; "
        "`cold_start_ms`: creating the model and its first step (compilation included; the framework's "
        "import not)."
    )
    shown = [
        {
            **r,
            "p50_us": f"{r['p50_us']:.0f}" + (" (unstable)" if r["unstable"] else ""),
            "p99_us": f"{r['p99_us']:.0f}",
            "real_time_factor": f"{r['real_time_factor']:.3f}",
            "real_time_factor_p99": f"{r['real_time_factor_p99']:.3f}",
            "cold_start_ms": f"{r['cold_start_ms']:.0f}",
        }
        for r in rows
    ]
    columns = ["implementation", "cell", "device", "batch", "p50_us", "p99_us", "real_time_factor"]
    rep.add(md_table(shown, [*columns, "real_time_factor_p99", "cold_start_ms", "path"]))


def stream_findings(records: list[dict]) -> list[Finding]:
    """Per machine and batch of the streaming group: the fastest per step (LSTM) and which do not keep up
    at the 99th percentile."""
    found = []
    for where, recs in by_machine(records).items():
        run = main_run(recs, "stream")
        rows = [r for r in stream_rows(run) if r["cell"] == "lstm" and not r["unstable"]]
        if not rows:
            continue
        parts = []
        for batch in sorted({r["batch"] for r in rows}):
            of = [r for r in rows if r["batch"] == batch]
            best = of[0]
            behind = [r["implementation"] for r in of if r["real_time_factor_p99"] >= 1]
            parts.append(
                f"batch {batch}: {best['implementation']} {best['p50_us']:.0f} us per step (p99 "
                f"{best['p99_us']:.0f} us)"
                + (f"; behind at p99: {', '.join(behind)}" if behind else "; every one keeps up at p99")
            )
        question = f"Fastest LSTM one step at a time (streaming), {where}?"
        text = f"**{where}**, streaming LSTM through `step`: " + "; ".join(parts) + "."
        found.append(Finding(question, text, "speed", sources_of(run), "; ".join(parts)))
    return found


def section_device_time(rep: Report, records: list[dict]) -> None:
    """On a GPU: each reference-point call's wall time beside its time on the device."""
    rows = device_time_rows(records)
    if not rows:
        return
    rep.add(
        "Wall time against time on the GPU, at the reference points: `wall_ms`, the timed rounds (back to "
        "back on the same tensors, so with the L2 cache warm); `event_ms`, CUDA events around each call "
        "(the GPU's timeline, its idle gaps included); `kernel_ms`, the kernels' own time from the profiler; "
        "`host_share`, the part of the wall time no kernel ran (host work and launch overhead); "
        "`cold_l2_ms`, the wall time with the L2 flushed before each call. `-`: not measurable in that "
        "framework (`device_timing` says why)."
    )
    columns = ["implementation", "point", "cell", "mode", "wall_ms", "event_ms", "kernel_ms", "host_share"]
    rep.add(md_table(rows, [*columns, "cold_l2_ms", "device_timing"]))


def section_determinism(rep: Report, records: list[dict]) -> None:
    """What each framework's deterministic mode costs a training step."""
    rows = determinism_costs(records)
    if not rows:
        return
    rep.add(
        "What determinism costs: the training step at the fastrnns point with the framework's deterministic "
        "mode on (`set`: what rnnbench switched on, in a fresh process) against the same step in its default "
        "mode (the fastrnns group's), measured in the same run. Whether the default mode already gives the "
        "same bits on every run is the check's `repeatable` column."
    )
    shown = [{**r, "cost_x": f"{r['cost_x']:.2f}" + (" (unstable)" if r["unstable"] else "")} for r in rows]
    columns = ["implementation", "cell", "device", "default_ms", "deterministic_ms", "cost_x", "set"]
    rep.add(md_table(shown, columns))


def length_findings(records: list[dict]) -> list[Finding]:
    """Per machine: at each length distribution (and its padding share), the implementations whose
    length-aware forward beats running the padded batch to T by more than the noise between processes
    (1.5x, README), and how it goes for each framework's default implementation. Only timings measured in
    several fresh processes (``--repeat``) decide: one process's time can be 1.6x off."""
    found = []
    for where, recs in by_machine(records).items():
        run = main_run(recs, "lengths")
        shaky = sorted({r["implementation"] for r in length_rows(run) if r["unstable"]})
        rows = [r for r in length_rows(run) if not r["unstable"]]
        if not rows:
            continue
        if max(r["processes"] for r in rows) < 2:
            question = f"Does the length-aware path pay off for sequences of different lengths, {where}?"
            answer = "not established: one process per timing (rerun with --repeat 3)"
            text = (
                f"**{where}**: the lengths group was timed in one process per job, where the same code can "
                "differ by up to 1.6x: the table in the speed section shows it, a finding waits for "
                "`rnnbench run speed --groups lengths --repeat 3`."
            )
            found.append(Finding(question, text, "speed", sources_of(run), answer))
            continue
        rows = [r for r in rows if r["processes"] >= 2]
        parts, answers = [], []
        for dist in sorted({r["lengths"] for r in rows}):
            of = [r for r in rows if r["lengths"] == dist]
            share = statistics.median(r["padding_share"] for r in of if r["padding_share"] is not None)
            pays = sorted(r["implementation"] for r in of if r["aware_x"] < 1 / 1.5)
            defaults = "; ".join(
                f"{r['implementation']} {r['aware_x']:.2f}x" for r in of if r["implementation"] in FRAMEWORKS
            )
            parts.append(
                f"{dist} lengths ({share:.0%} padding): the length-aware path pays off (1.5x or more) for "
                + (listed(pays) if pays else "none")
                + f"; the frameworks' defaults, length-aware time over padded: {defaults}"
            )
            answers.append(f"{dist} ({share:.0%} padding): " + (listed(pays) if pays else "none"))
        r0 = run[0]
        text = (
            f"**{where}**, {CELL_NAMES[rows[0]['cell']]} forward, T={r0['seq_len']}, batch {r0['batch']}: "
            + "; ".join(parts)
            + "."
            + (
                f" Left out as unstable (processes or rounds too far apart): {listed(shaky)}."
                if shaky
                else ""
            )
        )
        question = f"Does the length-aware path pay off for sequences of different lengths, {where}?"
        found.append(Finding(question, text, "speed", sources_of(run), "; ".join(answers)))
    return found


def subnormal_findings(records: list[dict], command: str) -> list[Finding]:
    """Per machine: where keeping subnormals costs a last-step-loss training step most (the main run, stable
    timings only), against the spread of an implementation that cannot flush them (it times the same
    computation twice: the noise between processes), and which implementations cannot flush them."""
    found = []
    for where, recs in by_machine(records).items():
        run = main_run(recs, "subnormals")
        rows = [r for r in subnormal_costs(run) if not r["unstable"]]
        if not rows:
            continue
        control = [r["cost_x"] for r in rows if r["asked_to_flush"] == "kept"]
        flushable = [r for r in rows if r["asked_to_flush"] != "kept"] or rows
        worst = max(flushable, key=lambda r: r["cost_x"])
        cannot = sorted({r["implementation"] for r in rows if r["asked_to_flush"] == "kept"})
        cost = f"{worst['cost_x']:.2f}x, {worst['implementation']} {worst['cell']} T={worst['T']}"
        noise = (
            f"; {listed(cannot)}, which cannot flush, times the same step twice at "
            f"{min(control):.2f}-{max(control):.2f}x"
            if control
            else ""
        )
        beyond = not control or worst["cost_x"] > max(control)
        answer = (f"up to {cost}" if beyond else f"none beyond the noise (at most {cost})") + noise
        text = (
            f"**{where}**: with the loss on the last step only, keeping subnormal floats makes a training "
            + (
                f"step up to {worst['cost_x']:.2f}x slower than flushing them"
                if beyond
                else "step no slower than flushing them beyond the noise between processes: at most "
                f"{worst['cost_x']:.2f}x"
            )
            + f" ({worst['implementation']}'s {CELL_NAMES[worst['cell']]} at T={worst['T']})"
            + noise
            + "."
        )
        found.append(
            Finding(f"What do subnormal floats cost, {where}?", text, "speed", sources_of(run), answer)
        )
    return found


def _more_than_twice(records: list[dict]) -> list[dict]:
    """The sizes where an implementation is more than 2x slower than the fastest there."""
    ok = [r for r in records if r.get("status") == "ok"]
    best: dict[tuple, float] = {}
    for r in ok:
        key = (r["cell"], r["mode"], r["seq_len"], r["batch"], r["input_size"], r["hidden_size"])
        best[key] = min(best.get(key, float("inf")), r["median_s"])
    rows = []
    for r in ok:
        key = (r["cell"], r["mode"], r["seq_len"], r["batch"], r["input_size"], r["hidden_size"])
        ratio = r["median_s"] / best[key]
        if ratio > 2:
            rows.append(
                {
                    **r,
                    "T": r["seq_len"],
                    "hidden": r["hidden_size"],
                    "vs_fastest": f"{ratio:.1f}x",
                }
            )
    return sorted(rows, key=lambda r: (r["implementation"], r["cell"], r["mode"], r["seq_len"]))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _percent(value: float | None) -> str | None:
    return f"{value:.0%}" if value is not None else None


def section_memory(rep: Report, records: list[dict]) -> None:
    if not rep.measured_section(
        "Memory",
        f"{_count(len(_runs(records)), 'run')} on {_count(len(by_machine(records)), 'machine')}; peak "
        "against the analytic size.",
        bool(records),
        "memory results",
        "memory",
    ):
        return
    rep.add(
        "Peak of one call after a warm-up: on the CPU the rise of the resident set's high-water "
        "mark, in a fresh process per job; beside it the analytic size of the activations the call must "
        "keep. An allocator that keeps memory from the warm-up (TensorFlow's on the CPU) shows less than "
        "it uses; the first call's peak, compilation included, is in the results file. On a GPU: the "
        "framework allocator's peak."
    )
    for source, device, recs in _runs(records):
        rep.add(f"### {machine(recs[0])}: {source}")
        rep.add(f"From {rep.link(source)}.")
        name = Path(source).stem
        rep.figure(memory_vs_length(recs, device), f"{name}_vs_length", f"peak memory against T on {device}")
        point = [r for r in recs if r.get("group") == "fastrnns" and r.get("status") == "ok"]
        rows = [
            {
                **r,
                "peak_MiB": r["peak_bytes"] / 2**20,
                "first_call_MiB": (r.get("first_call_peak_bytes") or 0) / 2**20,
                "analytic_MiB": r["analytic_bytes"] / 2**20,
            }
            for r in point
        ]
        columns = ["implementation", "cell", "mode", "peak_MiB", "first_call_MiB", "analytic_MiB"]
        if rows:
            rep.add(f"fastrnns point on {device}:")
            rep.add(md_table(rows, columns))
        _memory_variants(rep, recs)
        slopes = seq_slopes(recs, "peak_bytes")
        if slopes:
            rep.add("Log-log slope of peak memory against T:")
            rep.add(md_table(slopes, ["implementation", "cell", "mode", "T", "slope"]))


def _memory_variants(rep: Report, records: list[dict]) -> None:
    """Peak memory with sequences of different lengths and with both directions, each beside the same
    batch run to T (``vs_padded``)."""
    ok = [r for r in records if r.get("group") in ("lengths", "bidirectional") and r.get("status") == "ok"]
    if not ok:
        return

    def shape(r: dict) -> tuple:
        return (
            r["implementation"],
            r["cell"],
            r["seq_len"],
            r["batch"],
            r.get("num_layers", 1),
            r["hidden_size"],
        )

    padded = {(*shape(r), r.get("bidirectional", False)): r for r in ok if not r.get("lengths")}
    rows = []
    for r in ok:
        twin = padded.get((*shape(r), r.get("bidirectional", False))) if r.get("lengths") else None
        rows.append(
            {
                **r,
                "shape": f"T={r['seq_len']}, B{r['batch']}, I{r['input_size']}, H{r['hidden_size']} x "
                f"{r.get('num_layers', 1)}" + (", bidirectional" if r.get("bidirectional") else ""),
                "lengths": r.get("lengths") or "to T",
                "peak_MiB": r["peak_bytes"] / 2**20,
                "analytic_MiB": r["analytic_bytes"] / 2**20,
                # under a MiB the allocator kept the warm-up's memory: a ratio of two such peaks says nothing
                "vs_padded": f"{r['peak_bytes'] / twin['peak_bytes']:.2f}"
                if twin and twin["peak_bytes"] >= 2**20
                else None,
            }
        )
    rep.add(
        "Sequences of different lengths and both directions (forward): each length-aware peak beside the "
        "same batch run to T (`vs_padded`; the analytic size counts the padded batch; `-` where the padded "
        "peak is under a MiB, the allocator having kept the warm-up's memory)."
    )
    columns = ["implementation", "cell", "shape", "lengths", "peak_MiB", "analytic_MiB", "vs_padded", "path"]
    rep.add(md_table(sorted(rows, key=lambda r: (r["shape"], r["implementation"], r["cell"])), columns))


def section_machines(rep: Report, speed: list[dict], memory: list[dict]) -> None:
    machines = sorted(set(by_machine(speed)) | set(by_machine(memory)))
    rep.section(
        "Machines side by side",
        f"{len(machines)} machines: {'; '.join(machines)}." if machines else "not measured.",
    )
    if len(machines) < 2:
        rep.add(
            "_Only one machine in the results: nothing to set side by side. Runs from another machine "
            "(a GPU with `python -m suite gpu`, another CPU) copied into `results/` appear here._"
        )
        return
    rep.add(
        "Where machines measured the same thing: each machine's figures come from one run of its own, and "
        "speed is also shown as the share of that machine's own measured GEMM peak (same dtype), the "
        "figure that compares across machines."
    )
    for point in POINTS:
        rows, columns = side_by_side(speed, point, "speed")
        if rows:
            rep.add(f"### Speed at the {point} point ({describe_point(point)})")
            rep.add(md_table(rows, ["implementation", "cell", "mode", *columns]))
    rows, columns = side_by_side(memory, "fastrnns", "memory")
    if rows:
        rep.add("### Memory at the fastrnns point")
        rep.add(md_table(rows, ["implementation", "cell", "mode", *columns]))


def speed_vs_length(records: list[dict], device: str) -> Figure | None:
    """Median time against T on the sequence sweep, one panel per cell, log-log."""
    sweep = [r for r in ok_records(records) if r.get("group") == "seq_sweep" and r["device"] == device]
    if not sweep:
        return None
    r0 = sweep[0]
    fig, axes = panels(
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
                    if r["cell"] == cell and shown_name(r) == name and r["mode"] == mode
                )
                if pts:
                    ax.plot(
                        *zip(*pts, strict=True),
                        style,
                        marker=VARIANT_MARKERS[variant_index(name) % len(VARIANT_MARKERS)],
                        ms=3,
                        color=colour(framework),
                        label=f"{name} {mode}",
                    )
                shaky = [
                    (r["seq_len"], r["median_s"] * 1e3)
                    for r in sweep
                    if r["cell"] == cell and shown_name(r) == name and r["mode"] == mode and is_unstable(r)
                ]
                if shaky:
                    ax.plot(*zip(*shaky, strict=True), "o", ms=7, mfc="white", mec=colour(framework))
        log_axes(ax, cell.upper(), "median time per call (ms)")
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
        hatch = VARIANT_HATCHES[variant_index(name) % len(VARIANT_HATCHES)]
        empty = (hollow or {}).get((name, framework)) or [False] * len(values)
        filled = [0 if e else v or 0 for v, e in zip(values, empty, strict=True)]
        ax.bar(xs, filled, width, color=colour(framework), hatch=hatch, label=name)
        if any(empty):  # outlines, apart from the filled bars so that the legend shows the fill
            outline = [v or 0 if e else 0 for v, e in zip(values, empty, strict=True)]
            ax.bar(xs, outline, width, fill=False, edgecolor=colour(framework), linestyle="--", hatch=hatch)
    ax.set_xticks(range(len(groups)), groups, fontsize=8)
    ax.set_ylabel(ylabel)
    ax.grid(True, axis="y", alpha=0.3)
    legend(ax)


def fastrnns_point(records: list[dict], device: str, group: str = "fastrnns") -> Figure | None:
    """Throughput, efficiency against the measured GEMM peak and first-call time at one point of the grid
    (the fastrnns point, T100 B64 I=H=512, by default)."""
    point = [r for r in ok_records(records) if r.get("group") == group and r["device"] == device]
    if not point:
        return None
    measured = {r["cell"] for r in point}
    groups = [f"{c} {m}" for c in CELLS if c in measured for m in ("forward", "train")]
    series = implementations(point)

    def values(field: str, scale: float = 1.0) -> dict[tuple[str, str], list[float | None]]:
        table = {(shown_name(r), f"{r['cell']} {r['mode']}"): r.get(field) for r in point}
        return {s: [(table.get((s[0], g)) or 0) * scale for g in groups] for s in series}

    peak = max(r.get("peak_gflops") or 0 for r in point)
    shaky = {(shown_name(r), f"{r['cell']} {r['mode']}") for r in point if is_unstable(r)}
    hollow = {s: [(s[0], g) in shaky for g in groups] for s in series}
    r0 = point[0]
    fig, axes = panels(
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
    sweep = [r for r in ok_records(records) if r.get("group") == "seq_sweep" and r["device"] == device]
    if not sweep:
        return None
    mode = "train" if any(r["mode"] == "train" for r in sweep) else "forward"
    sweep = [r for r in sweep if r["mode"] == mode]
    fig, axes = panels(
        3,
        f"Peak memory of one {mode} call (dotted: the first call) against sequence length ({device}, "
        f"{sweep[0]['dtype']}, batch {sweep[0]['batch']}, hidden {sweep[0]['hidden_size']})",
    )
    for ax, cell in zip(axes, CELLS, strict=True):
        analytic = sorted({(r["seq_len"], r["analytic_bytes"] / 2**20) for r in sweep if r["cell"] == cell})
        if analytic:
            ax.plot(*zip(*analytic, strict=True), "k:", lw=2, label="analytic activations")
        for name, framework in implementations(sweep):
            mine = [r for r in sweep if r["cell"] == cell and shown_name(r) == name]
            pts = sorted((r["seq_len"], max(r["peak_bytes"], 1) / 2**20) for r in mine)
            marker = VARIANT_MARKERS[variant_index(name) % len(VARIANT_MARKERS)]
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
        log_axes(ax, cell.upper(), "peak memory of the call (MiB)")
    fig.tight_layout()
    return fig


def findings(results: Results) -> list[Finding]:
    speed, memory = results.of("speed"), results.of("memory")
    return [
        *speed_findings(speed, STUDY.measures["speed"]),
        *projection_findings(speed, STUDY.measures["speed"]),
        *subnormal_findings(speed, STUDY.measures["speed"]),
        *length_findings(speed),
        *fastpath_findings(speed),
        *stream_findings(speed),
        *deploying_findings(speed),
        *memory_findings(memory, STUDY.measures["memory"]),
    ]


def sections(page: Report, results: Results) -> None:
    section_speed(page, results.of("speed"))
    section_memory(page, results.of("memory"))
    section_machines(page, results.of("speed"), results.of("memory"))
    section_deploying(page, results.of("speed"), results.of("check"))
