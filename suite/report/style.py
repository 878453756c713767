"""What every figure shares: matplotlib set up headless, colours and markers per framework, variant, cell and
init, panels, log axes and legends."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

__all__ = ["Figure", "plt"]


COLOURS = {  # per framework and deployment runtime
    "numpy": "#4d4d4d",
    "torch": "#d62728",
    "tensorflow": "#ff7f0e",
    "jax": "#1f77b4",
    "onnxruntime": "#9467bd",
    "openvino": "#8c564b",
}
OTHER_COLOUR = "#2ca02c"  # a plugin's framework
VARIANT_MARKERS = ("o", "s", "^", "D", "v", "P")
VARIANT_HATCHES = ("", "//", "..", "xx", "\\\\", "--")
CELLS = ("rnn", "lstm", "gru")
MODE_STYLE = {"forward": "-", "train": "--"}
CELL_MARKER = {"rnn": "o", "lstm": "s", "gru": "^"}
CURVE_STYLE = {"numpy": "-", "torch": "--", "tensorflow": "-.", "jax": ":"}  # training curves: frameworks
CURVE_WIDTH = {"numpy": 3.0, "torch": 2.0, "tensorflow": 1.5, "jax": 1.5}
INIT_COLOURS = {"default": "#4d4d4d", "forget1": "#1f77b4", "chrono": "#d62728", "glorot": "#2ca02c"}


def ok_records(records: list[dict]) -> list[dict]:
    return [r for r in records if r.get("status") == "ok"]


def shown_name(r: dict) -> str:
    return r.get("implementation") or r["framework"]


def variant_index(name: str) -> int:
    """The implementation's variant number (0: a framework's default), from the registry where known."""
    from impls import registry

    impl = registry.find(name)
    return impl.variant if impl else 1  # a plugin that is not installed here


def implementations(records: list[dict]) -> list[tuple[str, str]]:
    """(implementation, framework) of the records, frameworks in COLOURS order, defaults first."""
    found = {(shown_name(r), r["framework"]) for r in records}
    order = list(COLOURS)
    return sorted(
        found, key=lambda p: (order.index(p[1]) if p[1] in order else len(order), variant_index(p[0]), p[0])
    )


def colour(framework: str) -> str:
    """One hue per framework."""
    return COLOURS.get(framework, OTHER_COLOUR)


def panels(n: int, title: str, width: float = 5.0, height: float = 4.0) -> tuple[Figure, list]:
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False)
    fig.suptitle(title)
    return fig, list(axes[0])


def log_axes(ax, title: str, ylabel: str) -> None:
    """Log-log axes against sequence length, with a grid and a legend."""
    ax.set(xscale="log", yscale="log", title=title, xlabel="sequence length T (steps)", ylabel=ylabel)
    ax.grid(True, which="both", alpha=0.3)
    legend(ax)


def legend(ax) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
