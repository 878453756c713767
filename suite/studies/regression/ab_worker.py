"""One process of an A/B comparison: time one benchmark of one source tree, or of two trees with their calls
interleaved.

Run by path, not as a module, so that this script is the same on both sides while ``impls`` comes from the
tree under test. With two trees, each tree's ``impls`` (and the plugins built on it) is imported in turn,
its model prepared, and its modules dropped from ``sys.modules`` before the next tree's are imported: the
two copies live side by side on the same installed frameworks. It uses only the adapter interface
(``impls.create``, ``configure_threads``, ``prepare_forward`` / ``prepare_train_step``), which every
revision has.

    python ab_worker.py SPEC_JSON   ->  one JSON line on stdout
"""

from __future__ import annotations

import gc
import importlib
import importlib.metadata
import json
import os
import statistics
import sys
import time
from pathlib import Path


def _drop_tree_modules() -> None:
    """Forget ``impls`` and the plugins built on it, so that the next import reads another tree."""
    plugins = {
        ep.value.partition(":")[0].split(".")[0]
        for ep in importlib.metadata.entry_points(group="rnnbench.impls")
    }
    for name in list(sys.modules):
        if name.split(".")[0] in {"impls", *plugins}:
            del sys.modules[name]


def prepare(tree: str, spec: dict, configure: bool) -> dict:
    """Import ``impls`` from ``tree``, build the benchmark's prepared call and make its two untimed calls."""
    _drop_tree_modules()
    sys.path.insert(0, tree)
    importlib.invalidate_caches()
    try:
        import numpy as np

        import impls

        if not Path(impls.__file__).resolve().is_relative_to(Path(tree).resolve()):
            raise RuntimeError(f"impls came from {impls.__file__}, not from the tree {tree}")
        if configure:
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
        return {"fn": fn, "path": model.path(), "first_call_s": first, "impls_file": impls.__file__}
    finally:
        sys.path.remove(tree)


def measure(spec: dict) -> dict:
    """Per side: its fastest timed round (on a shared machine the least disturbed one) and its median.
    With two sides the rounds alternate, in both orders, and ``ratio`` is the median over the round pairs
    of the second side's time over the first's (``spec["sides"]`` order: base, then candidate)."""
    names = list(spec["sides"])
    order = names if spec.get("first", names[0]) == names[0] else names[::-1]
    sides = {}
    for i, name in enumerate(order):
        try:
            sides[name] = prepare(spec["sides"][name], spec, configure=i == 0)
        except Exception as e:  # say which side failed, for the driver's decision
            print(json.dumps({"failed": name, "error": f"{type(e).__name__}: {e}"}), flush=True)
            os._exit(3)
    times: dict[str, list[float]] = {name: [] for name in names}
    gc.collect()
    gc.disable()
    began = time.perf_counter()
    k = 0
    while k < spec["min_rounds"] or time.perf_counter() - began < spec["min_time_s"]:
        for name in order if k % 2 == 0 else order[::-1]:
            fn = sides[name]["fn"]
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
        k += 1
    gc.enable()
    out: dict = {"rounds": k}
    for name in names:
        side = sides[name]
        out[name] = {
            "sample_s": min(times[name]),
            "median_s": statistics.median(times[name]),
            "first_call_s": side["first_call_s"],
            "path": side["path"],
            "impls_file": side["impls_file"],
        }
    if len(names) == 2:
        a, b = (times[n] for n in names)
        out["ratio"] = statistics.median(y / x for x, y in zip(a, b, strict=True))
    return out


def main() -> None:
    spec = json.loads(sys.argv[1])
    sys.path.pop(0)  # this script's folder, whose modules are not the tree's
    print(json.dumps(measure(spec)), flush=True)
    os._exit(0)  # skip the frameworks' teardown, which can take seconds


if __name__ == "__main__":
    main()
