"""The equivalence study's part of the report: its findings and its section."""

from __future__ import annotations

from suite.report.loading import Results
from suite.report.machines import by_machine, machine
from suite.report.page import Finding, Report, md_table, missing_finding, sources_of
from suite.studies.equivalence import STUDY
from suite.studies.equivalence.check import REPEATS, which_test
from suite.table import fmt


def equivalence_findings(records: list[dict], command: str) -> list[Finding]:
    """Per dtype: how many implementations compute the reference's function on each machine, the worst error,
    and how many return exactly the weights they were given; a machine whose records predate the check's own
    weights is named as such."""
    checked = [r for r in records if r.get("status") != "skip"]  # a combination it does not declare
    function = [r for r in checked if which_test(r) == "function"]
    round_trip = [r for r in checked if which_test(r) == "round_trip"]
    if not function:
        return [missing_finding("Agreement", "equivalence", "equivalence check", command)]
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
                older.append(f"{where} ({', '.join(sources_of(recs))})")
        worst = max(of_dtype, key=lambda r: r.get("max_error") or 0)
        text = (
            f"**{dtype}**: implementations agreeing with the NumPy reference in outputs, final states and "
            f"every gradient: {'; '.join(counts)}; worst error {fmt(worst.get('max_error'))} "
            f"({worst['implementation']} {worst['cell']}, tolerance {fmt(worst.get('tolerance'))})."
        )
        if failures:
            text += " Fails: " + "; ".join(failures[:4]) + ("; ..." if len(failures) > 4 else "") + "."
        no_gradients = sorted({r["implementation"] for r in of_dtype if "gradients" in r})
        if no_gradients:
            text += f" {', '.join(no_gradients)}: outputs and final states only (inference runtimes)."
        floors = [r["rounding_floor"] for r in of_dtype if r.get("rounding_floor") is not None]
        if floors:
            text += (
                f" Rounding the exact outputs once to {dtype} costs up to {fmt(max(floors))}; the "
                "tolerance is measured (suite/studies/equivalence/check.py)."
            )
        if exact:
            text += f" get_params returns exactly the weights set: {'; '.join(exact)}."
        repeat = _repeatability(of_dtype)
        if repeat:
            text += f" The same bits on every run: {repeat}."
        for test, what in VARIANTS.items():
            varied = [r for r in checked if which_test(r) == test and r["dtype"] == dtype]
            if varied:
                bad = sorted({f"{r['implementation']} {r['cell']}" for r in varied if r["status"] != "pass"})
                took = sorted({r["implementation"] for r in varied})
                text += (
                    " "
                    + what.format(n=len(took))
                    + (f", failing {', '.join(bad)}." if bad else ", all agreeing.")
                )
        if older:
            text += (
                f" Measured before the check drew its own weights, so computed from the weights each "
                f"implementation reported: {'; '.join(older)}."
            )
        answer = (
            ("no: " if failures else "yes: ") + "; ".join(counts) + f"; worst {fmt(worst.get('max_error'))}"
        )
        if floors:
            answer += f" (tolerance {fmt(worst.get('tolerance'))}; rounding alone {fmt(max(floors))})"
        if failures:
            answer += f"; fails: {failures[0]}" + (
                f" and {len(failures) - 1} more" if len(failures) > 1 else ""
            )
        question = f"{dtype}: same outputs, states and gradients as the reference?"
        found.append(Finding(question, text, "equivalence", sources_of(of_dtype), answer))
    return found


def _repeatability(function_rows: list[dict]) -> str:
    """Per machine, how many implementations gave the same bits on every repeat, naming those that did not."""
    parts = []
    for where, recs in by_machine([r for r in function_rows if "repeatable" in r]).items():
        names = sorted({r["implementation"] for r in recs})
        not_same = sorted({r["implementation"] for r in recs if not r["repeatable"]})
        part = f"{len(names) - len(not_same)}/{len(names)} on {where}"
        parts.append(part + (f" (not: {', '.join(not_same)})" if not_same else ""))
    return "; ".join(parts)


MEASURED_TESTS = ("tf32", "growth")  # rows that report an error, not agreement
# the function again on variants of the input or the stack, each with its own section
VARIANTS = {
    "lengths": "With sequences of different lengths in a batch: {n} implementations take them",
    "bidirectional": "Both directions: {n} implementations build them",
    "bidirectional_lengths": "Both directions with sequences of different lengths: {n} implementations",
}


def section_equivalence(rep: Report, records: list[dict]) -> None:
    measured = [r for r in records if which_test(r) in MEASURED_TESTS and r["status"] != "skip"]
    records = [r for r in records if which_test(r) not in MEASURED_TESTS]
    varied = [r for r in records if which_test(r) in VARIANTS]  # with the skips: who does not take them
    skipped = [
        r for r in records if r["status"] == "skip" and which_test(r) not in VARIANTS
    ]  # combinations an implementation does not declare
    records = [r for r in records if r["status"] != "skip"]
    rows_ = [r for r in records if which_test(r) in ("function", "finite_differences")]
    trips = {_check_case(r): r for r in records if which_test(r) == "round_trip"}
    failed = [r for r in records if r["status"] != "pass"]
    if not rep.measured_section(
        "Equivalence",
        f"{len(records) - len(failed)} of {len(records)} checks pass"
        + (f" ({len(skipped)} skipped: combinations not declared)." if skipped else "."),
        bool(records),
        "equivalence check",
        "check",
    ):
        return
    rep.add(
        "Max relative error (max|a-b| / max|ref|) against the NumPy float64 reference, both computing from "
        "weights the check draws itself (seeded, saturating every gate somewhere) and loads through "
        "`set_params`; the rows with path `finite differences` check the reference's own backward. "
        "`get_params`: whether the implementation then returned exactly (bitwise) the weights it was given, "
        "a row of the check of its own (`not checked`: a record from before the check drew its own "
        "weights, whose reference computed from the weights the implementation reported). `repeatable`: "
        f"whether forward and backward, run {REPEATS} more times on the same model and inputs, gave the same "
        "bits every time (a GPU's atomic accumulations may not; `not checked`: a record from before this "
        "was checked)."
    )
    rows = []
    for r in rows_:
        errors = r.get("errors", {})
        grads = [v for k, v in errors.items() if k.startswith("d_")]
        rows.append(
            {
                **r,
                "machine": machine(r),
                "outputs": errors.get("y"),
                "states": max([v for k, v in errors.items() if k in ("h_n", "c_n")], default=None),
                "gradients": max(grads, default=r.get("max_error") if not errors else None),
                "max": r.get("max_error"),
                "get_params": _round_trip(r, trips),
                "repeatable": _repeatable(r),
            }
        )
    columns = ["implementation", "cell", "dtype", "machine", "path", "outputs", "states", "gradients", "max"]
    rep.add(md_table(rows, [*columns, "tolerance", "status", "get_params", "repeatable"]))
    rep.add(f"**{len(records) - len(failed)} of {len(records)} rows pass.**")
    if skipped:
        why = sorted({f"{r['implementation']} ({r.get('message', '')})" for r in skipped})
        rep.add(f"Skipped, {len(skipped)} rows: " + "; ".join(why) + ".")
    section_lengths(rep, [r for r in varied if which_test(r) == "lengths"])
    section_bidirectional(rep, [r for r in varied if which_test(r).startswith("bidirectional")])
    section_tf32(rep, [r for r in measured if which_test(r) == "tf32"])
    section_growth(rep, [r for r in measured if which_test(r) == "growth"])


def section_lengths(rep: Report, rows: list[dict]) -> None:
    """The function rows with sequences of different lengths in one batch."""
    if not rows:
        return
    rep.add("### Sequences of different lengths in one batch")
    rep.add(
        f"The same check with right-padded sequences of lengths {rows[0].get('lengths')} in the batch, "
        "each implementation through its framework's own mechanism (PyTorch's `pack_padded_sequence`, a "
        "masked scan in JAX, flax's `seq_lengths`), against the NumPy float64 reference run sequence by "
        "sequence to its own end: outputs (zero past each end), each sequence's final state, every gradient. "
        "Implementations that do not take lengths are listed below the table."
    )
    shown = [{**r, "machine": machine(r), "max": r.get("max_error")} for r in rows if r["status"] != "skip"]
    rep.add(md_table(shown, ["implementation", "cell", "dtype", "machine", "path", "max", "worst", "status"]))
    without = sorted({r["implementation"] for r in rows if r["status"] == "skip"})
    if without:
        rep.add(f"Do not take lengths (a clear error if given them): {', '.join(without)}.")


def section_bidirectional(rep: Report, rows: list[dict]) -> None:
    """The function rows of bidirectional stacks, without and with lengths."""
    if not rows:
        return
    rep.add("### Both directions")
    rep.add(
        "The same check on bidirectional stacks in PyTorch's layout (`*_reverse` parameters, the two "
        "directions' outputs concatenated, final states interleaved per layer: layer k's forward at 2k, its "
        "reverse at 2k+1), on weights the check draws for both directions, through each framework's own "
        "mechanism (`nn.LSTM(bidirectional=True)`, `keras.layers.Bidirectional`, `flax.linen.Bidirectional`, "
        "a reversed `lax.scan`) against the NumPy float64 reference, whose reverse direction runs each "
        "layer's input backwards. `bidirectional_lengths`: with the lengths above; a reverse direction "
        "starts at each sequence's own end."
    )
    shown = [{**r, "machine": machine(r), "max": r.get("max_error")} for r in rows if r["status"] != "skip"]
    columns = ["implementation", "cell", "dtype", "test", "machine", "path", "max", "worst", "status"]
    rep.add(md_table(shown, columns))
    without = sorted({r["implementation"] for r in rows if r["status"] == "skip"})
    if without:
        rep.add(f"Not bidirectional, or not with lengths (a clear error if asked): {', '.join(without)}.")


def section_tf32(rep: Report, rows: list[dict]) -> None:
    """The float32 rows with TF32 on: the error it brings, per implementation."""
    if not rows:
        return
    rep.add("### float32 with TF32 on")
    rep.add(
        "The check's float32 rows run with TF32 off in every framework; these rows switch it on "
        "(`tf32`: what was set) and report the error against the float64 reference. TF32 keeps 10 bits of "
        "mantissa (unit roundoff 4.9e-4), so errors near 1e-3 are TF32 working as designed; a row is "
        f"flagged only beyond {fmt(rows[0].get('tolerance'))}. On a CPU TF32 does not exist: its rows equal "
        "float32's."
    )
    shown = [{**r, "machine": machine(r), "max": r.get("max_error")} for r in rows]
    rep.add(md_table(shown, ["implementation", "cell", "machine", "path", "max", "worst", "tf32", "status"]))


def section_growth(rep: Report, rows: list[dict]) -> None:
    """The float32 error against the sequence length, per implementation, cell and machine."""
    if not rows:
        return
    rep.add("### How the error grows with T")
    rep.add(
        "The function rows again at longer sequences (same weights, batch and sizes): the largest relative "
        "error over outputs, states and every gradient at each T, and which it was. A measurement, not a "
        "verdict: `*` marks a length beyond the check's tolerance "
        f"({fmt(rows[0].get('tolerance'))} for {rows[0]['dtype']})."
    )
    table: dict[tuple, dict] = {}
    lengths = sorted({r["seq_len"] for r in rows})
    for r in rows:
        key = (r["implementation"], r["cell"], machine(r), r.get("path", ""))
        row = table.setdefault(
            key, dict(zip(("implementation", "cell", "machine", "path"), key, strict=True))
        )
        mark = "" if r.get("within_tolerance", True) else "*"
        row[f"T={r['seq_len']}"] = f"{fmt(r.get('max_error'))}{mark} ({r.get('worst', '')})"
    columns = ["implementation", "cell", "machine", "path", *(f"T={t}" for t in lengths)]
    rep.add(md_table(list(table.values()), columns))


def _repeatable(record: dict) -> str:
    """The repeatable column of one function row: yes, or what differed between runs and by how much."""
    if which_test(record) != "function" or record.get("status") not in ("pass", "fail"):
        return ""
    if "repeatable" not in record:
        return "not checked"
    differs = record.get("repeat_differs", {})
    if not differs:
        return "yes"
    worst = max(differs, key=differs.get)
    return f"no ({len(differs)} differ; {worst} by {fmt(differs[worst])})"


def _check_case(record: dict) -> tuple:
    return (
        record.get("source"),
        record.get("implementation"),
        record["cell"],
        record["dtype"],
        machine(record),
    )


def _round_trip(record: dict, trips: dict[tuple, dict]) -> str:
    """The get_params column of one function row."""
    if which_test(record) != "function":
        return ""
    trip = trips.get(_check_case(record))
    if trip is None:
        return "not checked"
    if trip["status"] == "pass":
        return "exact"
    if trip["status"] == "fail":
        return f"differs ({trip.get('worst') or trip.get('message')})"
    return trip["status"]


def findings(results: Results) -> list[Finding]:
    return equivalence_findings(results.of("check"), STUDY.measures["check"])


def sections(page: Report, results: Results) -> None:
    section_equivalence(page, results.of("check"))
