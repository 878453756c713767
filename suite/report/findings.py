"""The report's headline findings, computed from the results (never written by hand): one sentence each,
with its number, the section it comes from and the results files behind it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from suite import gradients, profiles
from suite.analysis import PROJECTION_PAIRS, projection_rows
from suite.check import which_test
from suite.records import device_of
from suite.report.machines import by_machine, machine, main_run
from suite.stability import is_unstable
from suite.table import CELL_NAMES, fmt
from suite.workloads import POINTS, describe_point


@dataclass
class Finding:
    """One headline: the question it answers, its sentence (Markdown), where it comes from."""

    topic: str
    text: str
    section: str  # the anchor of the report section holding the detail
    sources: list[str] = field(default_factory=list)


def _listed(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _sources(records: list[dict]) -> list[str]:
    return sorted({r["source"] for r in records if r.get("source")})


def _missing(topic: str, section: str, what: str, command: str) -> Finding:
    return Finding(topic, f"not measured: no {what} in the results. Measure it with `{command}`.", section)


def equivalence(records: list[dict], command: str) -> list[Finding]:
    """Per dtype: how many implementations compute the reference's function on each machine, the worst error,
    and how many return exactly the weights they were given; a machine whose records predate the check's own
    weights is named as such."""
    checked = [r for r in records if r.get("status") != "skip"]  # a combination it does not declare
    function = [r for r in checked if which_test(r) == "function"]
    round_trip = [r for r in checked if which_test(r) == "round_trip"]
    if not function:
        return [_missing("Agreement", "equivalence", "equivalence check", command)]
    found = []
    for dtype in sorted({r["dtype"] for r in function}, reverse=True):
        of_dtype = [r for r in function if r["dtype"] == dtype]
        counts, failures, exact, older = [], [], [], []
        for where, recs in by_machine(of_dtype).items():
            names = sorted({r["implementation"] for r in recs})
            failed = sorted({r["implementation"] for r in recs if r.get("status") != "pass"})
            counts.append(f"{len(names) - len(failed)}/{len(names)} on {where}")
            failures += [
                f"{r['implementation']} {r['cell']} on {where} ({fmt(r.get('max_error'))} > "
                f"{fmt(r.get('tolerance'))}, {r.get('worst', 'max')})"
                for r in recs
                if r.get("status") != "pass"
            ]
            trips = [r for r in round_trip if r["dtype"] == dtype and machine(r) == where]
            if trips:
                differ = {r["implementation"] for r in trips if r.get("status") != "pass"}
                tripped = {r["implementation"] for r in trips}
                exact.append(f"{len(tripped - differ)}/{len(tripped)} on {where}")
            if any("test" not in r for r in recs):
                older.append(f"{where} ({', '.join(_sources(recs))})")
        worst = max(of_dtype, key=lambda r: r.get("max_error") or 0)
        text = (
            f"**{dtype}**: implementations agreeing with the NumPy reference in outputs, final states and "
            f"every gradient: {'; '.join(counts)}; worst error {fmt(worst.get('max_error'))} "
            f"({worst['implementation']} {worst['cell']}, tolerance {fmt(worst.get('tolerance'))})."
        )
        if failures:
            text += " Fails: " + "; ".join(failures[:4]) + ("; ..." if len(failures) > 4 else "") + "."
        if exact:
            text += f" get_params returns exactly the weights set: {'; '.join(exact)}."
        if older:
            text += (
                f" Measured before the check drew its own weights, so computed from the weights each "
                f"implementation reported: {'; '.join(older)}."
            )
        found.append(Finding("Agreement", text, "equivalence", _sources(of_dtype)))
    return found


def speed(records: list[dict], command: str, cell: str = "lstm", mode: str = "train") -> list[Finding]:
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
            listed = ", ".join(
                f"{r['implementation']} {r['median_s'] * 1e3:.3g} ms"
                + (f" ({r['efficiency']:.0%} of peak)" if r.get("efficiency") is not None else "")
                for r in ranked
            )
            spread = ranked[-1]["median_s"] / ranked[0]["median_s"]
            text = (
                f"**{where}, {point} point** ({describe_point(point)}), {CELL_NAMES[cell]} {mode} step, "
                "fastest per "
                f"framework: {listed}; the frameworks' best differ by {spread:.1f}x."
            )
            shaky = sorted(r["implementation"] for r in measured if is_unstable(r))
            if shaky:
                text += f" Left out as unstable timings: {_listed(shaky)}."
            found.append(Finding("Speed", text, "speed", _sources(run)))
    return found or [_missing("Speed", "speed", "speed results at the reference points", command)]


def projection(records: list[dict], command: str) -> list[Finding]:
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
        found.append(
            Finding("Speed", text, "speed", _sources([r for r in recs if r.get("implementation") in names]))
        )
    return found


def memory(records: list[dict], command: str, cell: str = "lstm") -> list[Finding]:
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
        found.append(Finding("Memory", text, "memory", _sources(run)))
    return found or [_missing("Memory", "memory", "memory results at the fastrnns point", command)]


def learning(records: list[dict], command: str) -> list[Finding]:
    """Per task, under its main settings: how far each cell learns (longest T solved, runs solved there)."""
    found = []
    for task in sorted({r["task"] for r in records}):
        settings, recs = profiles.settings_groups(records, task)[0]
        parts = []
        for cell in ("rnn", "lstm", "gru"):
            of_cell = [r for r in recs if r["cell"] == cell and r.get("status") == "ok"]
            if not of_cell:
                continue
            lengths = sorted({r["seq_len"] for r in of_cell})
            solved = [t for t in lengths if any(r["solved"] for r in of_cell if r["seq_len"] == t)]
            if solved:
                t = max(solved)
                at = [r for r in of_cell if r["seq_len"] == t]
                runs = f"{sum(r['solved'] for r in at)}/{len(at)} runs"
                parts.append(f"{CELL_NAMES[cell]} up to T={t} ({runs})")
            else:
                parts.append(f"{CELL_NAMES[cell]} at no length tried (T={', '.join(map(str, lengths))})")
        what = profiles.describe_settings(settings)
        text = f"**{task}** ({what}) is solved by " + "; ".join(parts) + "."
        found.append(Finding("Learning", text, "learning-long-dependencies", _sources(recs)))
    return found or [_missing("Learning", "learning-long-dependencies", "accuracy results", command)]


def regression(records: list[dict], command: str) -> list[Finding]:
    """The latest A/B comparison's decisions (evidence runs are summarised apart)."""
    if not records:
        return [_missing("Regressions", "regression-gate", "A/B comparison", command)]
    found = []
    runs: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        runs[r["source"]].append(r)
    latest_name = max(runs, key=lambda s: max(str(r["environment"].get("date", "")) for r in runs[s]))
    latest = runs[latest_name]
    comparisons = defaultdict(list)
    for r in latest:
        comparisons[r.get("comparison", "")].append(r)
    decisions = defaultdict(int)
    for r in latest:
        decisions[r.get("decision", r.get("status"))] += 1
    counted = ", ".join(f"{n} {d}" for d, n in sorted(decisions.items()))
    date = max(str(r["environment"].get("date", "")) for r in latest)[:10]
    if len(comparisons) > 1:  # an evidence series: A/A runs and injected slowdowns
        aa = [r for r in latest if not r.get("injected")]
        injected = [r for r in latest if r.get("injected")]
        alarms = sum(r.get("decision") == "slower" for r in aa)
        caught = sum(r.get("decision") == "slower" for r in injected if _is_slowed(r))
        slowed = sum(_is_slowed(r) for r in injected)
        text = (
            f"**Gate evidence** ({date}, {len(comparisons)} comparisons): {alarms} false alarms in "
            f"{len(aa)} A/A benchmarks; {caught} of {slowed} injected slowdowns caught ({counted})."
        )
    else:
        r0 = latest[0]
        text = f"**Latest A/B** ({date}): {r0.get('candidate')} against {r0.get('base')}: {counted}."
    found.append(Finding("Regressions", text, "regression-gate", [latest_name]))
    return found


def _is_slowed(record: dict) -> bool:
    """Whether the evidence run injected a slowdown into this record's cell."""
    return any(part.split("=")[0] == record["cell"] for part in record.get("injected", "").split(","))


def vanishing_gradient(records: list[dict], command: str) -> list[Finding]:
    """The decay of the gradient per step per cell and init (median over seeds and implementations), and
    how closely the implementations agree on the norms."""
    measured = [r for r in records if r.get("status") == "ok" and r.get("decay_per_step") is not None]
    elsewhere = [r for r in measured if device_of(r) != "cpu"]
    measured = [r for r in measured if device_of(r) == "cpu"]  # devices are never pooled
    ok = gradients.at_initialisation(measured)
    if not ok:
        return [_missing("Why", "the-vanishing-gradient", "gradient diagnostic", command)]

    def h_and_c(of: list[dict]) -> str:
        h = sorted(r["decay_per_step"] for r in of)[len(of) // 2]
        c = sorted(r["c_decay_per_step"] for r in of if r.get("c_decay_per_step"))
        return f"{h:.3f}" + (f" (c {c[len(c) // 2]:.3f})" if c else "")

    parts = _per_cell_and_init(ok, h_and_c)
    same: dict[tuple, list[dict]] = defaultdict(list)
    for r in measured:
        same[
            (
                r["cell"],
                r["init"],
                r.get("t_max"),
                r["seed"],
                r["hidden_size"],
                tuple(r["lags"]),
                r.get("step", 0),
                r.get("source"),
            )
        ].append(r)
    spread = max(
        (
            max(abs(a - b) / abs(b) for a, b in zip(r["norms"], recs[0]["norms"], strict=True) if b)
            for recs in same.values()
            for r in recs[1:]
        ),
        default=None,
    )
    names = sorted({r["implementation"] for r in measured})
    r0 = ok[0]
    text = (
        f"**gradient decay per step** (|d(u.h_T)/d h_(T-k)| against k, median over seeds; {r0['dtype']}, "
        f"hidden {r0['hidden_size']}, {r0['task']} inputs, at initialisation): " + "; ".join(parts) + ". "
        f"{len(names)} implementations"
        + (f" agree on every norm to {spread:.0e} relative." if spread is not None else ".")
    )
    for row in gradients.agreement_with_reference(measured + elsewhere):
        if row["device"] != "cpu":
            gpus = sorted({g for r in elsewhere for g in r["environment"].get("gpus") or []})
            names = row["implementations"]
            text += (
                f" On the {row['device'].upper()} ({', '.join(gpus) or 'unnamed'}), "
                f"{_listed(names)} {'matches' if len(names) == 1 else 'match'} the CPU NumPy reference's "
                "norms in all "
                f"{row['n']} measurements to {row['max_rel_diff']:.0e} relative."
            )
    trained = [r for r in measured if r.get("step", 0) > 0]
    if trained:
        last = max(r["step"] for r in trained)

        def c_else_h(of: list[dict]) -> str:
            decays = sorted(r.get("c_decay_per_step") or r["decay_per_step"] for r in of)
            return f"{decays[len(decays) // 2]:.3f}"

        parts = _per_cell_and_init([r for r in trained if r["step"] == last], c_else_h)
        on = trained[0]["trained_on"]
        text += (
            f" After {last} training steps on {on['task']} at T={on['seq_len']} (c path for the LSTM): "
            + "; ".join(parts)
            + "."
        )
    return [Finding("Why", text, "the-vanishing-gradient", _sources(measured + elsewhere))]


def _per_cell_and_init(records: list[dict], describe: Callable[[list[dict]], str]) -> list[str]:
    """'LSTM default <describe>, forget1 <describe>' per cell, over the records of each cell and init."""
    parts = []
    for cell in ("rnn", "lstm", "gru"):
        inits = []
        for init in ("default", "forget1", "chrono"):
            of = [r for r in records if r["cell"] == cell and r["init"] == init]
            if of:
                inits.append(f"{init} {describe(of)}")
        if inits:
            parts.append(f"{CELL_NAMES[cell]} " + ", ".join(inits))
    return parts


def reach_text(row: dict) -> str:
    """A reach row's longest T solved by at least half the seeds ('>=' when the search was capped there), or
    '<' the shortest length tried."""
    if row["longest_half"] is not None:
        capped = row.get("capped") and row["longest_half"] == max(row["by_length"])
        return f"{'>=' if capped else ''}{row['longest_half']}"
    return f"<{min(row['by_length'])}"


def capacity(rows: list[dict], records: list[dict], command: str) -> list[Finding]:
    """Per task, the longest T solved by at least half the seeds, per cell and init, with the budget."""
    if not rows:
        return [_missing("How far", "how-far-each-cell-reaches", "capacity search", command)]
    parts = []
    for task in sorted({r["task"] for r in rows}):
        cells = []
        for cell in ("rnn", "lstm", "gru"):
            of = {r["init"]: r for r in rows if r["task"] == task and r["cell"] == cell}
            if of:
                inits = [i for i in ("default", "forget1", "chrono") if i in of]
                cells.append(
                    f"{CELL_NAMES[cell]} "
                    + "/".join(reach_text(of[i]) for i in inits)
                    + f" ({'/'.join(inits)})"
                )
        parts.append(f"{task}: " + ", ".join(cells))
    s = rows[0]["settings"]
    seeds = min(r["seeds"] for r in rows)
    text = (
        f"**longest T solved by at least half of {seeds}+ seeds** within {s['steps']} steps of batch "
        f"{s['batch_size']} (hidden {s['hidden_size']}, {s['dtype']}): " + "; ".join(parts) + "."
    )
    return [Finding("How far", text, "how-far-each-cell-reaches", _sources(records))]
