"""What every framework's training step shares: the readout, the losses, gradient clipping and the
optimizers, written once against an array namespace (numpy, jax.numpy, tf.math) so that the
frameworks train by one definition. PyTorch uses torch.optim, whose definitions these follow."""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from impls.base import RecurrentModel

# MSE of the last step's output; cross-entropy over all steps; cross-entropy of the last step's output
LOSSES: tuple[str, ...] = ("mse_last", "ce_all", "ce_last")
OPTIMIZERS: tuple[str, ...] = ("adam", "rmsprop", "sgd")
READOUT = ("readout.weight", "readout.bias")


@dataclass(frozen=True)
class TrainConfig:
    """How a model learns. Defaults follow torch.optim (Adam, SGD) and the RMSProp of the papers
    the tasks come from (decay 0.9, eps outside the square root, as torch.optim.RMSprop)."""

    loss: str = "mse_last"
    output_size: int = 1
    optimizer: str = "adam"
    lr: float = 1e-3
    clip: float | None = 1.0  # global-norm clipping; None turns it off
    beta1: float = 0.9
    beta2: float = 0.999
    decay: float = 0.9
    eps: float = 1e-8

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.clip is not None and not self.clip > 0:
            raise ValueError(f"clip must be > 0 or None, got {self.clip}")


def at_last_step(config: TrainConfig) -> bool:
    """Whether the loss reads only the last step's output (else every step's)."""
    return config.loss != "ce_all"


def check_lengths_loss(config: TrainConfig, lengths: Any) -> None:
    """Sequences of different lengths train with a loss on each sequence's own last step only."""
    if lengths is not None and not at_last_step(config):
        raise ValueError(
            f"lengths need a loss on each sequence's last step (mse_last or ce_last), not {config.loss}"
        )


def last_outputs(xp: Any, y: Any, lengths: Any = None) -> Any:
    """Each sequence's output at its own last step (batch, hidden): step ``lengths[b] - 1``, or the
    last step without lengths."""
    if lengths is None:
        return y[:, -1]
    return y[xp.arange(y.shape[0]), lengths - 1]


def init_readout(
    hidden_size: int, output_size: int, dtype: str, seed: int, init: str = "default"
) -> dict[str, np.ndarray]:
    """A linear readout, initialised as torch.nn.Linear, U(-1/sqrt(H), 1/sqrt(H)); with the ``glorot``
    init, as Arjovsky et al.'s code: Glorot-uniform weights, a zero bias."""
    rng = np.random.default_rng([seed, 1])
    if init == "glorot":
        bound = np.sqrt(6.0 / (hidden_size + output_size))
        weight = rng.uniform(-bound, bound, (output_size, hidden_size))
        return {READOUT[0]: weight.astype(dtype), READOUT[1]: np.zeros(output_size, dtype=dtype)}
    bound = 1.0 / np.sqrt(hidden_size)
    return {
        READOUT[0]: rng.uniform(-bound, bound, (output_size, hidden_size)).astype(dtype),
        READOUT[1]: rng.uniform(-bound, bound, (output_size,)).astype(dtype),
    }


def clip_scale(xp: Any, sq_norms: list[Any], clip: float | None) -> Any:
    """The factor min(1, clip / global norm) for gradients whose squared norms are ``sq_norms``."""
    if clip is None:
        return 1.0
    norm = xp.sqrt(sum(sq_norms))
    return xp.minimum(clip / xp.maximum(norm, 1e-30), 1.0)


def init_slots(config: TrainConfig, zeros_like: Any, param: Any) -> list[Any]:
    """The optimizer's state for one parameter."""
    return {"adam": [zeros_like(param), zeros_like(param)], "rmsprop": [zeros_like(param)], "sgd": []}[
        config.optimizer
    ]


def update(
    xp: Any, config: TrainConfig, grad: Any, slots: list[Any], step: Any, lr: Any = None
) -> tuple[Any, list[Any]]:
    """(the change to subtract from the parameter, the new slots); ``step`` counts from 1; ``lr``, where
    given, replaces the config's (a traced value when runs of different rates train in one step)."""
    lr = config.lr if lr is None else lr
    if config.optimizer == "sgd":
        return lr * grad, []
    if config.optimizer == "rmsprop":
        v = config.decay * slots[0] + (1 - config.decay) * grad * grad
        return lr * grad / (xp.sqrt(v) + config.eps), [v]
    m = config.beta1 * slots[0] + (1 - config.beta1) * grad
    v = config.beta2 * slots[1] + (1 - config.beta2) * grad * grad
    m_hat = m / (1 - config.beta1**step)
    v_hat = v / (1 - config.beta2**step)
    return lr * m_hat / (xp.sqrt(v_hat) + config.eps), [m, v]


def array_module(a: Any) -> Any:
    """numpy, or cupy for a CuPy array (without importing CuPy where it is not in use)."""
    module = type(a).__module__.partition(".")[0]
    return sys.modules[module] if module == "cupy" else np


def loss_and_grad_numpy(
    config: TrainConfig, y: np.ndarray, target: np.ndarray, readout: dict, lengths: Any = None
) -> tuple:
    """NumPy or CuPy (the module of ``y``): (loss, d loss / d y, readout gradients) for the stack's
    output ``y`` (with ``lengths``, read at each sequence's own last step)."""
    xp = array_module(y)
    w, b = readout[READOUT[0]], readout[READOUT[1]]
    h = last_outputs(xp, y, lengths) if at_last_step(config) else y
    out = h @ w.T + b
    if config.loss == "mse_last":
        diff = out - target
        loss = float(xp.mean(diff**2))
        d_out = 2.0 * diff / diff.size
    else:
        shifted = out - out.max(axis=-1, keepdims=True)
        log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))
        loss = float(-xp.take_along_axis(log_probs, target[..., None], axis=-1).mean())
        d_out = (xp.exp(log_probs) - xp.eye(out.shape[-1], dtype=y.dtype)[target]) / target.size
    flat_d, flat_h = d_out.reshape(-1, d_out.shape[-1]), h.reshape(-1, h.shape[-1])
    grads = {READOUT[0]: flat_d.T @ flat_h, READOUT[1]: flat_d.sum(axis=0)}
    if not at_last_step(config):
        return loss, d_out @ w, grads
    dy = xp.zeros_like(y)
    last = y.shape[1] - 1 if lengths is None else lengths - 1
    dy[xp.arange(y.shape[0]), last] = d_out @ w
    return loss, dy, grads


def predict_numpy(config: TrainConfig, y: np.ndarray, readout: dict, lengths: Any = None) -> np.ndarray:
    """The readout's output at the last step (batch, outputs), or at every step (batch, time, classes)
    for ce_all; with ``lengths``, at each sequence's own last step."""
    w, b = readout[READOUT[0]], readout[READOUT[1]]
    return (last_outputs(array_module(y), y, lengths) if at_last_step(config) else y) @ w.T + b


class Trainer(ABC):
    """A recurrent stack plus a linear readout, trained by one compiled step per call."""

    def __init__(self, model: RecurrentModel, config: TrainConfig, seed: int = 0) -> None:
        self.model = model
        self.config = config
        self.readout_init = init_readout(model.hidden_size, config.output_size, model.dtype, seed, model.init)
        self.steps = 0
        self._build()

    def step(self, x: np.ndarray, target: np.ndarray, lengths: np.ndarray | None = None) -> float:
        """One training step on a batch; returns the loss before the update. With ``lengths`` (batch,),
        ``x`` is right-padded and the loss reads each sequence's output at its own last step."""
        x, _ = self.model._check_inputs(x, None)
        self._check_target(x, target)
        lengths = self._lengths(x, lengths)
        self.steps += 1
        return float(self._step(x, target, lengths))

    def predict(self, x: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        """The readout's output at the last step (batch, outputs), or at every step (batch, time, classes)
        for ce_all; with ``lengths``, at each sequence's own last step."""
        x, _ = self.model._check_inputs(x, None)
        return np.asarray(self._predict(x, self._lengths(x, lengths)))

    def _lengths(self, x: np.ndarray, lengths: Any) -> np.ndarray | None:
        if lengths is None:
            return None
        check_lengths_loss(self.config, lengths)
        return self.model._check_lengths(lengths, x)

    def params(self) -> dict[str, np.ndarray]:
        """Every parameter in the canonical layout, the readout's included."""
        return {**self.model.get_params(), **self._readout()}

    def _check_target(self, x: np.ndarray, target: np.ndarray) -> None:
        if not isinstance(target, np.ndarray):
            raise TypeError(f"target must be a numpy.ndarray, got {type(target).__name__}")
        if self.config.loss == "mse_last":
            self.model._check_array("target", target, (x.shape[0], self.config.output_size))
            return
        shape = x.shape[:1] if self.config.loss == "ce_last" else x.shape[:2]
        if target.shape != shape or target.dtype.kind not in "iu":
            got = f"{target.dtype} {target.shape}"
            raise ValueError(f"target must be integer classes of shape {shape}, got {got}")
        if target.min() < 0 or target.max() >= self.config.output_size:
            raise ValueError(f"target classes must lie in [0, {self.config.output_size})")

    @abstractmethod
    def _build(self) -> None: ...

    @abstractmethod
    def _step(self, x: np.ndarray, target: np.ndarray, lengths: np.ndarray | None) -> float: ...

    @abstractmethod
    def _predict(self, x: np.ndarray, lengths: np.ndarray | None) -> np.ndarray: ...

    @abstractmethod
    def _readout(self) -> dict[str, np.ndarray]: ...


class Runs:
    """K training runs of one shape (cell, sizes, dtype, device, task's loss, optimizer) stepped together,
    each on its own batch, from its own initial weights and at its own learning rate. This one steps K
    trainers in turn; a framework that can compile the K runs into one step overrides it
    (:meth:`impls.base.RecurrentModel.train_together`)."""

    fused = False  # whether one compiled step advances every run

    def __init__(self, trainers: list[Trainer]) -> None:
        self.trainers = trainers

    def __len__(self) -> int:
        return len(self.trainers)

    def step(
        self,
        xs: list[np.ndarray],
        targets: list[np.ndarray],
        active: list[bool] | None = None,
        lengths: list[np.ndarray] | None = None,
    ) -> list[float]:
        """One training step of every run on its own batch (and its sequences' ``lengths``, where they
        differ); each run's loss before its update. Runs not ``active`` (stopped) may be skipped (their
        loss then NaN) or stepped on: their results are not read again."""
        self._check_batches(xs, targets)
        active = active or [True] * len(self)
        lengths = lengths or [None] * len(self)
        return [
            t.step(x, y, n) if on else float("nan")
            for t, x, y, on, n in zip(self.trainers, xs, targets, active, lengths, strict=True)
        ]

    def predict(self, run: int, x: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        """Run ``run``'s readout output, as :meth:`Trainer.predict`."""
        return self.trainers[run].predict(x, lengths)

    def params(self, run: int) -> dict[str, np.ndarray]:
        """Run ``run``'s parameters in the canonical layout, the readout's included."""
        return self.trainers[run].params()

    def _check_batches(self, xs: list[np.ndarray], targets: list[np.ndarray]) -> None:
        if len(xs) != len(self) or len(targets) != len(self):
            raise ValueError(f"{len(self)} runs need {len(self)} batches, got {len(xs)} and {len(targets)}")
        if len({x.shape for x in xs}) > 1:
            raise ValueError(f"the runs' batches must share one shape, got {sorted({x.shape for x in xs})}")
