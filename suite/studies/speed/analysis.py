"""Fits over the records of one run: log-log slopes against T, and the cost per time step."""

from __future__ import annotations

import math
from collections import defaultdict

from suite.measurement.stability import is_unstable


def _name(r: dict) -> str:
    return r.get("implementation") or r["framework"]


def loglog_slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of log(y) against log(x); None with fewer than two usable points."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y and y > 0]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx else None


def seq_slopes(records: list[dict], field: str) -> list[dict]:
    """Slope of ``field`` against T over the sequence sweep, per implementation, cell and mode."""
    series: dict[tuple, list[tuple[int, float]]] = defaultdict(list)
    for r in records:
        if r.get("group") == "seq_sweep" and r.get("status") == "ok" and r.get(field) is not None:
            series[(_name(r), r["framework"], r["cell"], r["mode"])].append((r["seq_len"], r[field]))
    rows = []
    for (implementation, framework, cell, mode), pts in sorted(series.items()):
        pts.sort()
        rows.append(
            {
                "implementation": implementation,
                "framework": framework,
                "cell": cell,
                "mode": mode,
                "T": f"{pts[0][0]}-{pts[-1][0]}",
                "points": len(pts),
                "slope": loglog_slope([p[0] for p in pts], [p[1] for p in pts]),
            }
        )
    return rows


def per_step_costs(records: list[dict]) -> list[dict]:
    """From a straight-line fit time = fixed + per_step * T over the sequence sweep: each framework's
    cost per time step beside the time the step's FLOPs need at the run's GEMM peak. Where per_step is
    many times the FLOP time, the framework's per-step overhead (dispatch, loop machinery) dominates."""
    series: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        if r.get("group") == "seq_sweep" and r.get("status") == "ok":
            series[(_name(r), r["framework"], r["cell"], r["mode"])].append(r)
    rows = []
    for (implementation, framework, cell, mode), recs in sorted(series.items()):
        if len(recs) < 2:
            continue
        ts = [r["seq_len"] for r in recs]
        ys = [r["median_s"] for r in recs]
        mt, my = sum(ts) / len(ts), sum(ys) / len(ys)
        stt = sum((t - mt) ** 2 for t in ts)
        slope = sum((t - mt) * (y - my) for t, y in zip(ts, ys, strict=True)) / stt
        peak = recs[0].get("peak_gflops")
        flops = recs[0].get("flops")
        flop_time = flops / recs[0]["seq_len"] / (peak * 1e9) if peak and flops else None
        rows.append(
            {
                "implementation": implementation,
                "framework": framework,
                "cell": cell,
                "mode": mode,
                "per_step_us": slope * 1e6,
                "fixed_ms": (my - slope * mt) * 1e3,
                "flop_time_us": flop_time * 1e6 if flop_time else None,
                "overhead_x": slope / flop_time if flop_time else None,
            }
        )
    return rows


def best_implementations(records: list[dict], groups: tuple[str, ...] = ("fastrnns", "small")) -> list[dict]:
    """Per framework, point of the grid, cell and mode: its fastest implementation, that one's share of the
    run's GEMM peak, and how much slower each other implementation of the framework is (records of one run,
    with derived figures)."""
    cases: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        if r.get("group") in groups and r.get("status") == "ok":
            cases[(r["framework"], r["group"], r["cell"], r["mode"])].append(r)
    rows = []
    for (framework, group, cell, mode), recs in cases.items():
        recs.sort(key=lambda r: r["median_s"])
        best = recs[0]

        def named(r: dict) -> str:
            return _name(r) + (" (unstable)" if is_unstable(r) else "")

        rows.append(
            {
                "framework": framework,
                "point": group,
                "cell": cell,
                "mode": mode,
                "best": named(best),
                "median_ms": best["median_s"] * 1e3,
                "efficiency": best.get("efficiency"),
                "others": ", ".join(f"{named(r)} {r['median_s'] / best['median_s']:.2f}x" for r in recs[1:]),
            }
        )
    return rows


# where a framework lets you choose where the input projection goes: (hoisted, in the step)
PROJECTION_PAIRS: dict[str, tuple[str, str]] = {
    "numpy": ("numpy", "numpy-in-step"),
    "torch": ("torch-hoisted-loop", "torch-cells"),
    "jax": ("jax-hoisted", "jax-in-step"),
}


def projection_rows(records: list[dict], groups: tuple[str, ...] = ("fastrnns", "small")) -> list[dict]:
    """Per framework, point, cell and mode of one run: the hoisted and the in-step formulation's medians and
    how many times faster hoisting is (below 1: slower); unstable timings are marked."""
    table = {
        (_name(r), r["group"], r["cell"], r["mode"]): r
        for r in records
        if r.get("group") in groups and r.get("status") == "ok"
    }
    rows = []
    for framework, (hoisted, in_step) in PROJECTION_PAIRS.items():
        for (name, group, cell, mode), h in table.items():
            s = table.get((in_step, group, cell, mode))
            if name != hoisted or s is None:
                continue
            rows.append(
                {
                    "framework": framework,
                    "point": group,
                    "cell": cell,
                    "mode": mode,
                    "hoisted": hoisted,
                    "hoisted_ms": h["median_s"] * 1e3,
                    "in_step": in_step,
                    "in_step_ms": s["median_s"] * 1e3,
                    "hoisting_x": s["median_s"] / h["median_s"],
                    "unstable": is_unstable(h) or is_unstable(s),
                }
            )
    return rows


def subnormal_costs(records: list[dict]) -> list[dict]:
    """Per implementation, cell and length, a training step whose loss reads the last step: its time with
    subnormals as the framework leaves them and with them flushed (where it can be asked to), the ratio,
    and what the framework's arithmetic did when asked to flush (``kept``: it cannot)."""
    rows = []
    for (implementation, cell, shape, _), (kept, flushed) in _paired(
        records, "train_last", "train_last_flushed"
    ):
        rows.append(
            {
                "implementation": implementation,
                "cell": cell,
                "T": shape[0],
                "as_left_ms": 1e3 * kept["median_s"],
                "flushed_ms": 1e3 * flushed["median_s"],
                "cost_x": kept["median_s"] / flushed["median_s"],
                "asked_to_flush": flushed.get("denormals", "unknown"),
                "unstable": is_unstable(kept) or is_unstable(flushed),
            }
        )
    return rows


def _paired(records: list[dict], base: str, other: str) -> list[tuple[tuple, tuple[dict, dict]]]:
    """Per implementation, cell, length and device: the finished records of modes ``base`` and ``other``
    measured at the same shape, where both are."""
    pairs: dict[tuple, dict[str, dict]] = defaultdict(dict)
    for r in records:
        if r.get("status") == "ok" and r["mode"] in (base, other):
            shape = (r["seq_len"], r.get("batch"), r.get("input_size"), r.get("hidden_size"))
            pairs[(_name(r), r["cell"], shape, r.get("device", "cpu"))][r["mode"]] = r
    return [(k, (m[base], m[other])) for k, m in sorted(pairs.items()) if base in m and other in m]


def determinism_costs(records: list[dict]) -> list[dict]:
    """Per implementation, cell and device, the training step with the framework's deterministic mode on
    against the same step in its default mode: the ratio, and what the mode set."""
    rows = []
    for (implementation, cell, shape, device), (default, det) in _paired(
        records, "train", "train_deterministic"
    ):
        rows.append(
            {
                "implementation": implementation,
                "cell": cell,
                "device": device,
                "T": shape[0],
                "default_ms": 1e3 * default["median_s"],
                "deterministic_ms": 1e3 * det["median_s"],
                "cost_x": det["median_s"] / default["median_s"],
                "set": det.get("deterministic", "unknown"),
                "unstable": is_unstable(default) or is_unstable(det),
            }
        )
    return rows


def device_time_rows(records: list[dict]) -> list[dict]:
    """Per GPU record at a reference point: wall, event and kernel milliseconds, the share of the wall time
    no kernel ran, the wall time with a cold L2, and why a figure is missing."""
    rows = []
    for r in records:
        if r.get("device") != "gpu" or r.get("status") != "ok" or r.get("group") not in ("fastrnns", "small"):
            continue
        kernel = r.get("kernel_s")
        rows.append(
            {
                "implementation": _name(r),
                "point": r["group"],
                "cell": r["cell"],
                "mode": r["mode"],
                "wall_ms": 1e3 * r["median_s"],
                "event_ms": 1e3 * r["event_median_s"] if r.get("event_median_s") is not None else None,
                "kernel_ms": 1e3 * kernel if kernel is not None else None,
                "host_share": f"{max(1 - kernel / r['median_s'], 0):.0%}" if kernel is not None else None,
                "cold_l2_ms": 1e3 * r["cold_l2_median_s"] if r.get("cold_l2_median_s") is not None else None,
                "device_timing": r.get("device_timing", ""),
            }
        )
    return sorted(rows, key=lambda r: (r["point"], r["cell"], r["mode"], r["implementation"]))


def length_rows(records: list[dict]) -> list[dict]:
    """Per implementation, cell, device and length distribution (group ``lengths``): the length-aware
    forward against the same batch run to T with the padding ignored, the padding share, and the ratio
    (below 1: the length-aware path pays off)."""
    padded: dict[tuple, dict] = {}
    aware = []
    for r in records:
        if r.get("group") != "lengths" or r.get("status") != "ok":
            continue
        key = (_name(r), r["cell"], r.get("device", "cpu"))
        if r.get("lengths"):
            aware.append((key, r))
        else:
            padded[key] = r
    rows = []
    for key, r in sorted(aware, key=lambda item: (item[0], item[1]["lengths"])):
        if key not in padded:
            continue
        base = padded[key]
        rows.append(
            {
                "implementation": key[0],
                "cell": key[1],
                "device": key[2],
                "lengths": r["lengths"],
                "padding_share": r.get("padding_share"),
                "padded_ms": 1e3 * base["median_s"],
                "length_aware_ms": 1e3 * r["median_s"],
                "aware_x": r["median_s"] / base["median_s"],
                "processes": min(r.get("processes", 1), base.get("processes", 1)),
                "path": r.get("path", ""),
                "unstable": is_unstable(base) or is_unstable(r),
            }
        )
    return rows


def bidirectional_rows(records: list[dict]) -> list[dict]:
    """Per implementation, cell, device and shape of the ``bidirectional`` group: the forward's time and
    rate; at the fastrnns point beside the same run's one-direction forward (``vs_one_direction_x``: 2 is
    twice the work at the same rate), and with lengths beside the same speech batch run to T
    (``aware_x``)."""
    ok = [r for r in records if r.get("status") == "ok"]
    one_direction = {
        (_name(r), r["cell"], r.get("device", "cpu")): r
        for r in ok
        if r.get("group") == "fastrnns" and r["mode"] == "forward"
    }
    padded = {
        (_name(r), r["cell"], r.get("device", "cpu"), r["seq_len"]): r
        for r in ok
        if r.get("group") == "bidirectional" and r.get("num_layers", 1) > 1 and not r.get("lengths")
    }
    rows = []
    for r in ok:
        if r.get("group") != "bidirectional":
            continue
        key = (_name(r), r["cell"], r.get("device", "cpu"))
        layers = r.get("num_layers", 1)
        shape = f"T={r['seq_len']}, B{r['batch']}, I{r['input_size']}, H{r['hidden_size']} x {layers}"
        base = one_direction.get(key) if r.get("num_layers", 1) == 1 else padded.get((*key, r["seq_len"]))
        if base is r:
            base = None
        vs = r["median_s"] / base["median_s"] if base else None
        rows.append(
            {
                "implementation": key[0],
                "cell": key[1],
                "device": key[2],
                "shape": shape + (f", {r['lengths']} lengths" if r.get("lengths") else ""),
                "ms": 1e3 * r["median_s"],
                "gflops": r["flops"] / r["median_s"] / 1e9 if r.get("flops") else None,
                "vs_one_direction_x": vs if r.get("num_layers", 1) == 1 else None,
                "aware_x": vs if r.get("lengths") else None,
                "path": r.get("path", ""),
                "unstable": is_unstable(r) or (base is not None and is_unstable(base)),
            }
        )
    return sorted(rows, key=lambda row: (row["shape"], row["cell"], row["ms"]))


def fastpath_setting(record: dict, base_dtype: str) -> str:
    """Which setting of the ``fastpath`` group a record changed from the shape as it is."""
    if record.get("lengths"):
        return f"{record['lengths']} lengths"
    if record.get("bidirectional"):
        return "bidirectional"
    if record.get("num_layers", 1) > 1:
        return f"{record['num_layers']} layers"
    if record["dtype"] != base_dtype:
        return record["dtype"]
    return "as is"


def kernel_of(path: str) -> str:
    """The kernel a path names, without the mechanism it adds (``aten, packed`` -> ``aten``)."""
    return path.split(",")[0].strip()


def fastpath_rows(records: list[dict]) -> list[dict]:
    """Per implementation, cell and device of the ``fastpath`` group: each setting's kernel, as the
    framework reports it, against the shape as it is (``kernel_changed``), and its time per unit of
    nominal work against it (``work_time_x``: 2 = twice as long per FLOP; sequences of different lengths
    count their padded work, so a path that skips the padding can go below 1)."""
    ok = [r for r in records if r.get("group") == "fastpath" and r.get("status") == "ok"]
    bases = {}
    for r in ok:
        if not (r.get("lengths") or r.get("bidirectional") or r.get("num_layers", 1) > 1):
            key = (_name(r), r["cell"], r.get("device", "cpu"))
            if key not in bases or r["dtype"] == "float32":
                bases[key] = r
    rows = []
    for r in ok:
        key = (_name(r), r["cell"], r.get("device", "cpu"))
        base = bases.get(key)
        if base is None:
            continue
        setting = fastpath_setting(r, base["dtype"])
        per_work = (r["median_s"] / r["flops"]) / (base["median_s"] / base["flops"])
        rows.append(
            {
                "implementation": key[0],
                "cell": key[1],
                "device": key[2],
                "setting": setting,
                "path": r.get("path", ""),
                "ms": 1e3 * r["median_s"],
                "work_time_x": per_work,
                "kernel_changed": kernel_of(r.get("path", "")) != kernel_of(base.get("path", "")),
                "unstable": is_unstable(r) or is_unstable(base),
            }
        )
    order = ["as is", "uniform lengths", "bidirectional", "2 layers", "float64"]
    return sorted(
        rows,
        key=lambda row: (
            row["implementation"],
            row["cell"],
            row["device"],
            order.index(row["setting"]) if row["setting"] in order else len(order),
        ),
    )


def stream_rows(records: list[dict]) -> list[dict]:
    """Per implementation, cell, device and batch of the ``stream`` group: per-step latency (p50, p99), the
    real-time factor at the stream's rate and the cold start, fastest p50 first."""
    rows = [
        {
            "implementation": _name(r),
            "cell": r["cell"],
            "device": r.get("device", "cpu"),
            "batch": r["batch"],
            "p50_us": 1e6 * r["median_s"],
            "p99_us": 1e6 * r["p99_s"],
            "real_time_factor": r["real_time_factor"],
            "real_time_factor_p99": r["real_time_factor_p99"],
            "cold_start_ms": 1e3 * r["cold_start_s"],
            "steps": r.get("rounds"),
            "path": r.get("path", ""),
            "unstable": is_unstable(r),
        }
        for r in records
        if r.get("mode") == "stream" and r.get("status") == "ok" and r.get("p99_s") is not None
    ]
    return sorted(rows, key=lambda row: (row["batch"], row["cell"], row["device"], row["p50_us"]))
