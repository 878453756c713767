"""One sample of an A/B comparison, in a fresh process: time one benchmark of the source tree under test.

Run by path, not as a module, with the tree's root first on ``sys.path``, so that ``impls`` comes from that
tree while this script stays the same on both sides. It uses only the adapter interface (``impls.create``,
``configure_threads``, ``prepare_forward`` / ``prepare_train_step``), which every revision has.

    python ab_worker.py TREE SPEC_JSON   ->  one JSON line on stdout
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import time


def sample(spec: dict) -> dict:
    """This process's sample: the fastest of its timed rounds, after two untimed calls. On a shared
    machine the fastest round is the least disturbed one; the median is kept beside it."""
    import numpy as np

    import impls

    impls.configure_threads(spec["implementation"], spec["threads"])
    model = impls.create(
        spec["implementation"],
        spec["cell"],
        spec["input_size"],
        spec["hidden_size"],
        spec["num_layers"],
        spec["dtype"],
        spec["device"],
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal((spec["batch"], spec["seq_len"], spec["input_size"])).astype(spec["dtype"])
    if spec["mode"] == "forward":
        fn = model.prepare_forward(x)
    else:
        grad_y = rng.standard_normal((spec["batch"], spec["seq_len"], spec["hidden_size"]))
        fn = model.prepare_train_step(x, (grad_y / spec["seq_len"]).astype(spec["dtype"]))
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    fn()
    rounds: list[float] = []
    gc.collect()
    gc.disable()
    began = time.perf_counter()
    while len(rounds) < spec["min_rounds"] or time.perf_counter() - began < spec["min_time_s"]:
        t = time.perf_counter()
        fn()
        rounds.append(time.perf_counter() - t)
    gc.enable()
    return {
        "sample_s": min(rounds),
        "median_s": statistics.median(rounds),
        "rounds": len(rounds),
        "first_call_s": first,
        "path": model.path(),
        "impls_file": impls.__file__,
    }


def main() -> None:
    tree, spec = sys.argv[1], json.loads(sys.argv[2])
    sys.path[0] = tree  # instead of this script's folder, whose modules are not the tree's
    print(json.dumps(sample(spec)), flush=True)
    os._exit(0)  # skip the frameworks' teardown, which can take seconds


if __name__ == "__main__":
    main()
