"""Test only: plugins whose ``set_params`` alters the weights it is given, as a wrong mapping to a framework's
own layout would. Each computes a correct RNN of the weights it holds, so a check that took its weights from
``get_params`` would pass them all; rnnbench's check must fail each."""

from __future__ import annotations

import numpy as np

from impls.layout import gate_permute
from impls.numpy_adapter import NumpyModel


class ScaleOnLoad(NumpyModel):
    """Scales every recurrent weight by 1.001 on loading, and reports what it holds."""

    framework = "numpy"
    devices = ("cpu",)

    def _set_params(self, params: dict[str, np.ndarray]) -> None:
        scaled = {n: p * p.dtype.type(1.001) if n.startswith("weight_hh") else p for n, p in params.items()}
        super()._set_params(scaled)


class DropRecurrentNBias(NumpyModel):
    """A GRU on a layout without the recurrent n-gate bias (flax nnx's GRUCell): b_hn is dropped on loading
    and reported back as zero."""

    framework = "numpy"
    cells = ("gru",)
    devices = ("cpu",)

    def _set_params(self, params: dict[str, np.ndarray]) -> None:
        params = dict(params)
        for name in [n for n in params if n.startswith("bias_hh")]:
            params[name] = params[name].copy()
            params[name][2 * self.hidden_size :] = 0
        super()._set_params(params)


class SwapGatesOnLoad(NumpyModel):
    """An LSTM whose mapping swaps the input and forget gates on loading and swaps them back on reading:
    ``get_params`` returns exactly what was set, the function is another."""

    framework = "numpy"
    cells = ("lstm",)
    devices = ("cpu",)
    SWAP = [1, 0, 2, 3]  # i, f, g, o -> f, i, g, o

    def _set_params(self, params: dict[str, np.ndarray]) -> None:
        super()._set_params({n: gate_permute(p, self.SWAP) for n, p in params.items()})

    def _get_params(self) -> dict[str, np.ndarray]:
        return {n: gate_permute(p, self.SWAP) for n, p in super()._get_params().items()}
