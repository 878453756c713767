"""The gradient study's part of the report: its findings, its section and its plots."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable

from suite.records import device_of
from suite.report.loading import Results
from suite.report.page import Finding, Report, listed, md_table, missing_finding, sources_of
from suite.report.style import (
    CELLS,
    INIT_COLOURS,
    Figure,
    legend,
    ok_records,
    panels,
)
from suite.studies.gradients import STUDY
from suite.studies.gradients import diagnostic as gradients
from suite.table import CELL_NAMES


def vanishing_gradient_findings(records: list[dict], command: str) -> list[Finding]:
    """The decay of the gradient per step per cell and init (median over seeds and implementations), and
    how closely the implementations agree on the norms."""
    measured = [r for r in records if r.get("status") == "ok" and r.get("decay_per_step") is not None]
    elsewhere = [r for r in measured if device_of(r) != "cpu"]
    measured = [r for r in measured if device_of(r) == "cpu"]  # devices are never pooled
    ok = gradients.at_initialisation(measured)
    if not ok:
        return [missing_finding("Why", "the-vanishing-gradient", "gradient diagnostic", command)]

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
                f"{listed(names)} {'matches' if len(names) == 1 else 'match'} the CPU NumPy reference's "
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
    decay = {(r["cell"], r["init"]): r for r in ok}
    answer = "decay per step at init: " + ", ".join(
        f"{CELL_NAMES[cell]} {init} {h_and_c([r for r in ok if (r['cell'], r['init']) == (cell, init)])}"
        for cell, init in (("rnn", "default"), ("lstm", "default"), ("lstm", "chrono"))
        if (cell, init) in decay
    )
    question = "How fast does the gradient vanish, per step back?"
    return [Finding(question, text, "the-vanishing-gradient", sources_of(measured + elsewhere), answer)]


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


def section_gradients(rep: Report, records: list[dict]) -> None:
    if not rep.measured_section(
        "The vanishing gradient",
        f"{len(records)} measurements: the gradient reaching the state k steps back, per cell and init.",
        bool(records),
        "gradient diagnostic",
        "gradients",
    ):
        return
    rep.add(
        "The norm of the gradient of u.h_T (u a fixed unit vector) with respect to the state k steps "
        "earlier, "
        "through each implementation's public `backward`; the decay per step is exp of the slope of log norm "
        "against k from k = 5 on. From "
        + ", ".join(rep.link(s) for s in sorted({r["source"] for r in records}))
        + "."
    )
    later = [r for r in records if r.get("step", 0) > 0]
    everywhere = gradients.at_initialisation(records) + later  # each seed once at initialisation
    records = [r for r in everywhere if device_of(r) == "cpu"]
    rep.figure(gradient_norms(records), "gradients", "gradient norm against lag, per cell and init")
    trained = [r for r in records if r.get("step", 0) > 0]
    if trained:
        on = trained[0]["trained_on"]
        rep.add(
            f"After training: each cell x init x seed trained on {on['task']} problem at T={on['seq_len']} "
            f"({on['implementation']}, batch {on['batch_size']}, {on['optimizer']} lr {on['lr']}, "
            f"{on['dtype']}), its weights saved in the canonical layout at steps "
            f"{', '.join(map(str, sorted({r['step'] for r in trained})))} and measured as above."
        )
        rep.figure(
            gradient_norms(records, trained=True),
            "gradients_trained",
            "gradient norm against lag after training, per cell, init and step",
        )
    rows = gradients.summary(everywhere)
    columns = ["implementation", "device", "cell", "init", "step", "seeds"]
    rep.add(md_table(rows, [*columns, "h_decay", "h_spread", "c_decay", "c_spread"]))
    for row in gradients.agreement_with_reference(everywhere):
        rep.add(
            f"Against the NumPy reference on the CPU, measurement by measurement ({row['device']}: "
            f"{', '.join(row['implementations'])}): {row['n']} measurements, largest relative difference "
            f"over every norm {row['max_rel_diff']:.1e}."
        )


def gradient_norms(records: list[dict], trained: bool = False) -> Figure | None:
    """Gradient norm against lag on a log scale, one panel per cell, the inits overlaid: the median over
    seeds and implementations with its min-max band; the LSTM's cell-state path dashed. At initialisation,
    or (``trained``) at each training checkpoint, the later steps darker."""
    records = [r for r in ok_records(records) if r.get("norms") and (r.get("step", 0) > 0) == trained]
    cells = [c for c in CELLS if any(r["cell"] == c for r in records)]
    if not cells:
        return None
    title = "gradient reaching the state k steps back, |d(u.h_T)/d h_(T-k)|"
    fig, axes = panels(len(cells), title + (": after training" if trained else ": at initialisation"))
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
        legend(ax)
    return fig


def findings(results: Results) -> list[Finding]:
    return vanishing_gradient_findings(results.of("gradients"), STUDY.measures["gradients"])


def sections(page: Report, results: Results) -> None:
    section_gradients(page, results.of("gradients"))
