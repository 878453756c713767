"""What one speed or memory benchmark runs (a workload), and its FLOP and activation counts."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from impls.layout import GATES
from suite.records import benchmark_key

MODES: tuple[str, ...] = ("forward", "train")
# A training step whose loss reads the last step only, as the adding and temporal-order losses do: the
# gradient flowing back decays, into subnormal floats at long T. With subnormals as the framework leaves
# them, and flushed where it can be asked to (what every training job does: impls.base.Backend).
LAST_STEP_MODES: tuple[str, ...] = ("train_last", "train_last_flushed")
# A training step with the framework's deterministic mode on (impls.base.Backend.deterministic): its cost.
DETERMINISTIC_MODES: tuple[str, ...] = ("train_deterministic",)
# One time step at a time (RecurrentModel.step), the state carried between calls, as streaming code runs: each
# call is timed, the job's seq_len steps in all; its cold start (create + first step) in a fresh process.
STREAM_MODES: tuple[str, ...] = ("stream",)
STREAM_RATE = 100  # steps per second a real-time stream brings (10 ms frames, as in speech)
# modes that change the process they run in, or time its start: each job runs in a fresh process of its own
APART_MODES: tuple[str, ...] = LAST_STEP_MODES + DETERMINISTIC_MODES + STREAM_MODES
ALL_MODES: tuple[str, ...] = MODES + APART_MODES
# modes without gradients: all an inference runtime (RecurrentModel.differentiable False) runs
INFERENCE_MODES: tuple[str, ...] = ("forward",) + STREAM_MODES
FASTRNNS = dict(seq_len=100, batch=64, input_size=512, hidden_size=512)
# a streaming speech model: 2 layers of 256 over 80 filterbank features, stepped 2000 times
STREAMING = dict(seq_len=2000, batch=1, input_size=80, hidden_size=256, num_layers=2)
SMALL = dict(seq_len=100, batch=32, input_size=32, hidden_size=128)  # where per-step overhead dominates
# a speech encoder (stefbraun's rnn_benchmarks, CTC setting): 4 bidirectional layers of 320, 123 inputs
SPEECH = dict(seq_len=1000, batch=32, input_size=123, hidden_size=320, num_layers=4, bidirectional=True)
POINTS: dict[str, dict] = {"fastrnns": FASTRNNS, "small": SMALL}  # the grid's reference points
# how the lengths of a batch's sequences are drawn (seeded): speech-like, uniform in [T/2, T]; skewed,
# most sequences short (T * u**3, u uniform in (0, 1]), as in text
LENGTH_DISTRIBUTIONS: tuple[str, ...] = ("uniform", "skewed")


def draw_lengths(distribution: str, batch: int, seq_len: int, seed: int = 0):
    """A batch's sequence lengths (integers in [1, seq_len]) from ``distribution``."""
    import numpy as np

    rng = np.random.default_rng(seed)
    if distribution == "uniform":
        return rng.integers(max(seq_len // 2, 1), seq_len + 1, size=batch)
    if distribution == "skewed":
        return np.clip(np.ceil(seq_len * (1 - rng.random(batch)) ** 3), 1, seq_len).astype(np.int64)
    raise ValueError(f"unknown lengths {distribution!r}; choose one of {', '.join(LENGTH_DISTRIBUTIONS)}")


def describe_point(name: str) -> str:
    """A reference point's shape in words, e.g. ``T=100, batch 64, input 512, hidden 512``."""
    p = POINTS[name]
    return f"T={p['seq_len']}, batch {p['batch']}, input {p['input_size']}, hidden {p['hidden_size']}"


@dataclass(frozen=True)
class Workload:
    """One benchmark job: an implementation running one cell at one size in one mode."""

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
    implementation: str = ""  # the registry name; a framework's default implementation when empty
    # sequences of different lengths in the batch (LENGTH_DISTRIBUTIONS), through the length-aware path;
    # "" runs every sequence to T (padding computed and ignored)
    lengths: str = ""
    bidirectional: bool = False  # both directions, outputs concatenated

    def __post_init__(self) -> None:
        if self.mode not in ALL_MODES:
            raise ValueError(f"unknown mode {self.mode!r}; choose one of {', '.join(ALL_MODES)}")
        if not self.implementation:
            object.__setattr__(self, "implementation", self.framework)
        if self.lengths not in ("", *LENGTH_DISTRIBUTIONS):
            raise ValueError(
                f"unknown lengths {self.lengths!r}; choose one of {', '.join(LENGTH_DISTRIBUTIONS)}"
            )

    def key(self) -> str:
        """The benchmark's name (suite.records.benchmark_key)."""
        return benchmark_key(self.as_dict())

    def as_dict(self) -> dict:
        return asdict(self)


def flops(w: Workload) -> float:
    """Matmul FLOPs of one call: 2*T*B*G*H*(I_k + H) per layer and direction forward (a streaming call is
    one step: T = 1); a train step is ~3x that."""
    g, directions = GATES[w.cell], 2 if w.bidirectional else 1
    steps = 1 if w.mode in STREAM_MODES else w.seq_len
    total = 0.0
    for k in range(w.num_layers):
        layer_in = w.input_size if k == 0 else directions * w.hidden_size
        total += directions * 2.0 * steps * w.batch * g * w.hidden_size * (layer_in + w.hidden_size)
    return total * (3.0 if w.mode.startswith("train") else 1.0)


def analytic_bytes(w: Workload) -> int:
    """Activation bytes the phase must hold. Forward: per layer the hoisted input projection
    (B*T*G*H) and the output (B*T*H). Train: per layer (and direction) what the backward needs kept, the gate
    activations (B*T*G*H), the outputs (B*T*H) and for LSTM the cell states (B*T*H)."""
    itemsize = np.dtype(w.dtype).itemsize  # bfloat16 too: impls.layout registers it
    bt, h, g = w.batch * w.seq_len, w.hidden_size, GATES[w.cell]
    per_layer = bt * (g * h + h + (h if w.mode.startswith("train") and w.cell == "lstm" else 0))
    return per_layer * w.num_layers * (2 if w.bidirectional else 1) * itemsize


def seq_lengths(longest: int) -> list[int]:
    """T = 25, 50, 100, ... doubling up to ``longest``."""
    lengths = [25]
    while lengths[-1] * 2 <= longest:
        lengths.append(lengths[-1] * 2)
    return lengths
