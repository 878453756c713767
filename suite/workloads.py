"""What the speed and memory benchmarks run: configurations, profiles, FLOP and activation counts."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from impls.layout import GATES

MODES: tuple[str, ...] = ("forward", "train")
PROFILES: tuple[str, ...] = ("quick", "full")
FASTRNNS = dict(seq_len=100, batch=64, input_size=512, hidden_size=512)


@dataclass(frozen=True)
class Workload:
    """One benchmark job: a framework running one cell at one size in one mode."""

    framework: str
    cell: str
    mode: str
    seq_len: int
    batch: int
    input_size: int
    hidden_size: int
    num_layers: int = 1
    dtype: str = "float32"
    device: str = "cpu"
    group: str = ""  # which part of the grid: fastrnns, deepbench, seq_sweep, ...

    def key(self) -> str:
        """A readable identity, stable across runs (used to pair results in comparisons)."""
        return (
            f"{self.framework}/{self.cell}/{self.mode}/T{self.seq_len}/B{self.batch}/I{self.input_size}"
            f"/H{self.hidden_size}/L{self.num_layers}/{self.dtype}/{self.device}"
        )

    def as_dict(self) -> dict:
        return asdict(self)


def flops(w: Workload) -> float:
    """Matmul FLOPs of one call: 2*T*B*G*H*(I_k + H) per layer forward; a train step is ~3x that."""
    g = GATES[w.cell]
    total = 0.0
    for k in range(w.num_layers):
        layer_in = w.input_size if k == 0 else w.hidden_size
        total += 2.0 * w.seq_len * w.batch * g * w.hidden_size * (layer_in + w.hidden_size)
    return total * (3.0 if w.mode == "train" else 1.0)


def analytic_bytes(w: Workload) -> int:
    """Activation bytes the phase must hold. Forward: per layer the hoisted input projection
    (B*T*G*H) and the output (B*T*H). Train: per layer what the backward needs kept, the gate
    activations (B*T*G*H), the outputs (B*T*H) and for LSTM the cell states (B*T*H)."""
    itemsize = 4 if w.dtype == "float32" else 8
    bt, h, g = w.batch * w.seq_len, w.hidden_size, GATES[w.cell]
    per_layer = bt * (g * h + h + (h if w.mode == "train" and w.cell == "lstm" else 0))
    return per_layer * w.num_layers * itemsize


def seq_lengths(longest: int) -> list[int]:
    """T = 25, 50, 100, ... doubling up to ``longest``."""
    lengths = [25]
    while lengths[-1] * 2 <= longest:
        lengths.append(lengths[-1] * 2)
    return lengths


def grid(
    profile: str,
    frameworks: list[str],
    cells: list[str],
    dtype: str = "float32",
    device: str = "cpu",
    kind: str = "speed",
) -> list[Workload]:
    """The workloads of a profile. Both profiles hold the fastrnns point (T100 B64 I=H=512);
    ``full`` adds more DeepBench-like shapes and runs the sequence sweep to T=1600."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    quick = profile == "quick"
    shapes: list[tuple[str, dict, tuple[str, ...]]] = [("fastrnns", FASTRNNS, MODES)]
    deepbench = [dict(seq_len=25, batch=16, input_size=512, hidden_size=512)]
    inference = [dict(seq_len=50, batch=1, input_size=512, hidden_size=512)]
    if not quick:
        deepbench.append(dict(seq_len=50, batch=32, input_size=1024, hidden_size=1024))
        inference.append(dict(seq_len=100, batch=4, input_size=1024, hidden_size=1024))
    shapes += [("deepbench_train", s, ("train",)) for s in deepbench]
    shapes += [("deepbench_inference", s, ("forward",)) for s in inference]
    longest = 400 if quick else 1600
    sweep_modes = ("train",) if quick and kind == "memory" else MODES
    for t in seq_lengths(longest):
        shapes.append(("seq_sweep", dict(seq_len=t, batch=16, input_size=128, hidden_size=128), sweep_modes))
    if quick and kind == "memory":
        shapes = [s for s in shapes if s[0] in ("fastrnns", "seq_sweep")]
    return [
        Workload(framework=f, cell=c, mode=m, dtype=dtype, device=device, group=group, **shape)
        for f in frameworks
        for group, shape, modes in shapes
        for c in cells
        for m in modes
    ]
