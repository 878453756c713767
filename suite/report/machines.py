"""Which machine and device a record was measured on, and one run per machine: the report keeps machines
apart and puts them side by side, never mixing them silently."""

from __future__ import annotations

from collections import defaultdict


def machine(record: dict) -> str:
    """A short name for where a record was measured: the GPU on a GPU run, else the CPU and its cores."""
    env = record.get("environment") or {}
    if record.get("device") == "gpu":
        return f"{', '.join(env.get('gpus') or ['unnamed GPU'])} (GPU)"
    cpu = str(env.get("cpu") or "unknown CPU").replace("(R)", "").replace("  ", " ")
    return f"{cpu}, {env.get('cores', '?')} cores"


def by_machine(records: list[dict]) -> dict[str, list[dict]]:
    """Records grouped by machine, CPUs first."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        groups[machine(r)].append(r)
    return dict(sorted(groups.items(), key=lambda kv: (kv[0].endswith("(GPU)"), kv[0])))


def main_run(records: list[dict], group: str) -> list[dict]:
    """Of one machine's records, those of the results file that measured the most at ``group``'s point:
    figures in one sentence always come from one run."""
    per_file: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        if r.get("group") == group and r.get("status") == "ok":
            per_file[r["source"]].append(r)
    if not per_file:
        return []
    return max(per_file.values(), key=lambda recs: (len({r["implementation"] for r in recs}), len(recs)))


def side_by_side(records: list[dict], point: str, value: str) -> tuple[list[dict], list[str]]:
    """Rows (implementation, cell, mode) with one column per machine for ``value`` ("speed": median ms and
    share of that machine's own GEMM peak; "memory": peak MiB), each machine's figures from one run; and
    the columns. Only cases measured on at least two machines."""
    columns: list[str] = []
    cells: dict[tuple, dict] = defaultdict(dict)
    seen_on: dict[tuple, int] = defaultdict(int)
    for where, recs in by_machine(records).items():
        run = main_run(recs, point)
        if not run:
            continue
        names = [f"{where}: ms", f"{where}: % of peak"] if value == "speed" else [f"{where}: peak MiB"]
        columns += names
        for r in run:
            key = (r["implementation"], r["cell"], r["mode"])
            seen_on[key] += 1
            if value == "speed":
                cells[key][names[0]] = r["median_s"] * 1e3
                cells[key][names[1]] = f"{r['efficiency']:.1%}" if r.get("efficiency") is not None else None
            else:
                cells[key][names[0]] = r["peak_bytes"] / 2**20
    rows = [
        {"implementation": k[0], "cell": k[1], "mode": k[2], **v}
        for k, v in sorted(cells.items())
        if seen_on[k] >= 2
    ]
    return rows, columns
