"""PyTorch: ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``, the layers users use (oneDNN on CPU, cuDNN on GPU)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable

import numpy as np
import torch

from impls.base import DeviceUnavailableError, RecurrentModel, State
from impls.training import TrainConfig, Trainer

# Equivalence needs full float32 matmuls on Ampere and newer GPUs.
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


@contextlib.contextmanager
def _quiet_stderr():
    """Silence the profiler's C-level start/stop lines on file descriptor 2."""
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


_LAYERS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


class TorchModel(RecurrentModel):
    framework = "torch"

    def _build(self) -> None:
        if self.device == "gpu" and not torch.cuda.is_available():
            raise DeviceUnavailableError("torch sees no CUDA GPU (torch.cuda.is_available() is False)")
        self._device = torch.device("cuda" if self.device == "gpu" else "cpu")
        self._dtype = getattr(torch, self.dtype)
        self.module = _LAYERS[self.cell](
            self.input_size,
            self.hidden_size,
            num_layers=self.num_layers,
            batch_first=True,
            device=self._device,
            dtype=self._dtype,
        )

    def _get_params(self) -> dict[str, np.ndarray]:
        return {n: p.detach().cpu().numpy().copy() for n, p in self.module.named_parameters()}

    def _set_params(self, params: dict[str, np.ndarray]) -> None:
        with torch.no_grad():
            for name, p in self.module.named_parameters():
                p.copy_(torch.from_numpy(params[name]))

    def to_device(self, a: np.ndarray, requires_grad: bool = False) -> torch.Tensor:
        """A copy of ``a`` on the model's device."""
        return torch.tensor(a, device=self._device, requires_grad=requires_grad)

    def _state(self, state: State, requires_grad: bool = False):
        if self.cell == "lstm":
            return tuple(self.to_device(s, requires_grad) for s in state)
        return self.to_device(state, requires_grad)

    def _forward(self, x: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        with torch.no_grad():
            y, final = self.module(self.to_device(x), self._state(state))
        if self.cell == "lstm":
            return y.cpu().numpy(), (final[0].cpu().numpy(), final[1].cpu().numpy())
        return y.cpu().numpy(), final.cpu().numpy()

    def _backward(self, x: np.ndarray, grad_y: np.ndarray, state: State) -> dict[str, np.ndarray]:
        xt = self.to_device(x, requires_grad=True)
        st = self._state(state, requires_grad=True)
        y, _ = self.module(xt, st)
        inputs = [xt, *(st if self.cell == "lstm" else (st,))]
        names = list(dict(self.module.named_parameters()))
        grads = torch.autograd.grad(
            y, [*self.module.parameters(), *inputs], grad_outputs=self.to_device(grad_y)
        )
        names += ["x", "h_0", "c_0"] if self.cell == "lstm" else ["x", "h_0"]
        return {n: g.detach().cpu().numpy() for n, g in zip(names, grads, strict=True)}

    def _sync(self) -> None:
        if self._device.type == "cuda":
            torch.cuda.synchronize()

    def _prepare_forward(self, x: np.ndarray, state: State) -> Callable[[], None]:
        xt = self.to_device(x)

        def run() -> None:
            with torch.no_grad():
                self.module(xt)
            self._sync()

        return run

    def _prepare_backward(self, x: np.ndarray, grad_y: np.ndarray, state: State) -> Callable[[], None]:
        xt = self.to_device(x, requires_grad=True)
        gy = self.to_device(grad_y)
        params = [*self.module.parameters(), xt]

        def run() -> None:
            y, _ = self.module(xt)
            torch.autograd.grad(y, params, grad_outputs=gy)
            self._sync()

        return run

    def _prepare_train_step(
        self, x: np.ndarray, grad_y: np.ndarray, state: State, lr: float
    ) -> Callable[[], None]:
        xt = self.to_device(x)
        gy = self.to_device(grad_y)
        optimizer = torch.optim.SGD(self.module.parameters(), lr=lr)

        def run() -> None:
            optimizer.zero_grad(set_to_none=True)
            y, _ = self.module(xt)
            y.backward(gy)
            optimizer.step()
            self._sync()

        return run

    def reset_device_peak(self) -> None:
        if self._device.type != "cuda":
            super().reset_device_peak()
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()

    def device_peak_bytes(self) -> int:
        if self._device.type != "cuda":
            super().device_peak_bytes()
        return int(torch.cuda.max_memory_allocated())

    def _trainer(self, config: TrainConfig, seed: int) -> Trainer:
        return TorchTrainer(self, config, seed)

    def _path(self) -> str:
        """Read off the profiler which RNN kernel ran, forward and backward."""
        x = np.zeros((2, 2, self.input_size), dtype=self.dtype)
        gy = np.ones((2, 2, self.hidden_size), dtype=self.dtype)
        found = []
        for mode, fn in (("forward", self.prepare_forward(x)), ("backward", self.prepare_backward(x, gy))):
            with _quiet_stderr(), torch.profiler.profile() as prof:
                fn()
            ops = {e.name for e in prof.events()}
            if any("cudnn_rnn" in op for op in ops):
                found.append((mode, "cudnn"))
            elif any("mkldnn_rnn" in op for op in ops):
                found.append((mode, "onednn"))
            else:
                found.append((mode, "aten"))
        if found[0][1] == found[1][1]:
            return found[0][1]
        return ", ".join(f"{mode}: {p}" for mode, p in found)


class TorchTrainer(Trainer):
    """torch.optim's Adam, RMSprop or SGD; eager, since nn.RNN/LSTM/GRU are single fused ops."""

    model: TorchModel

    def _build(self) -> None:
        m, c = self.model, self.config
        self.readout = torch.nn.Linear(m.hidden_size, c.output_size, device=m._device, dtype=m._dtype)
        with torch.no_grad():
            self.readout.weight.copy_(torch.from_numpy(self.readout_init["readout.weight"]))
            self.readout.bias.copy_(torch.from_numpy(self.readout_init["readout.bias"]))
        self.parameters = [*m.module.parameters(), *self.readout.parameters()]
        if c.optimizer == "adam":
            self.optimizer = torch.optim.Adam(self.parameters, c.lr, betas=(c.beta1, c.beta2), eps=c.eps)
        elif c.optimizer == "rmsprop":
            self.optimizer = torch.optim.RMSprop(self.parameters, c.lr, alpha=c.decay, eps=c.eps)
        else:
            self.optimizer = torch.optim.SGD(self.parameters, c.lr)

    def _output(self, x: torch.Tensor) -> torch.Tensor:
        y, _ = self.model.module(x)
        return self.readout(y[:, -1] if self.config.loss == "mse_last" else y)

    def _step(self, x: np.ndarray, target: np.ndarray) -> float:
        self.optimizer.zero_grad(set_to_none=True)
        out = self._output(self.model.to_device(x))
        t = torch.as_tensor(target, device=self.model._device)
        if self.config.loss == "mse_last":
            loss = torch.mean((out - t) ** 2)
        else:
            loss = torch.nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), t.reshape(-1))
        loss.backward()
        if self.config.clip is not None:
            # min(1, clip / norm), the definition every framework here uses (clip_grad_norm_ adds 1e-6)
            norm = torch.sqrt(sum(torch.sum(p.grad**2) for p in self.parameters))
            scale = torch.clamp(self.config.clip / norm, max=1.0)
            for p in self.parameters:
                p.grad.mul_(scale)
        self.optimizer.step()
        return loss.item()

    def _predict(self, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self._output(self.model.to_device(x)).cpu().numpy()

    def _readout(self) -> dict[str, np.ndarray]:
        return {f"readout.{n}": p.detach().cpu().numpy().copy() for n, p in self.readout.named_parameters()}


def set_threads(n: int) -> None:
    """Intra-op threads, and inter-op threads where the pool has not started yet."""
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(n)
    except RuntimeError:
        pass  # only settable once, before any parallel work


def thread_info() -> dict[str, object]:
    return {"intra_op": torch.get_num_threads(), "inter_op": torch.get_num_interop_threads()}


def matmul(n: int, dtype: str, device: str) -> Callable[[], None]:
    """A synchronised n x n GEMM, for the calibration of the machine's peak."""
    dev = torch.device("cuda" if device == "gpu" else "cpu")
    a = torch.rand(n, n, dtype=getattr(torch, dtype), device=dev)

    def run() -> None:
        a @ a
        if dev.type == "cuda":
            torch.cuda.synchronize()

    return run
