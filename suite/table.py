"""Plain-text tables for the terminal."""

from __future__ import annotations

from collections.abc import Sequence

CELL_NAMES: dict[str, str] = {"rnn": "tanh RNN", "lstm": "LSTM", "gru": "GRU"}  # a cell in prose


def fmt(value: object) -> str:
    """A cell: floats to three significant digits (scientific when tiny or huge), None as a dash."""
    if value is None:
        return "-"
    if isinstance(value, float):
        if value == 0:
            return "0"
        return f"{value:.3g}" if 1e-2 <= abs(value) < 1e5 else f"{value:.1e}"
    return str(value)


def render(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """Rows of dicts as an aligned table with a header line."""
    cells = [[fmt(r.get(c)) for c in columns] for r in rows]
    widths = [
        max(len(c), *(len(row[i]) for row in cells)) if cells else len(c) for i, c in enumerate(columns)
    ]

    def line(values: list[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    return "\n".join([line(columns), line(["-" * w for w in widths]), *map(line, cells)])
