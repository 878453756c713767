"""One fresh process running benchmark jobs for one framework: ``python -m suite.worker SPEC OUT``.

SPEC is a JSON file {"framework", "threads", "kind", "settings", "workloads": [...]}. Each job writes a
"start" line and then its result as one JSON line to OUT, so the parent always knows which job was
running when a process died or hung."""

from __future__ import annotations

import json
import os
import sys
import time
import traceback


def _emit(out, record: dict) -> None:
    out.write(json.dumps(record) + "\n")
    out.flush()
    os.fsync(out.fileno())


def main(spec_path: str, out_path: str) -> None:
    spec = json.loads(open(spec_path).read())
    import impls
    from suite import measure
    from suite.workloads import Workload

    with open(out_path, "a") as out:
        threads = impls.configure_threads(spec["framework"], spec["threads"])
        gemm = None
        for wl in spec["workloads"]:
            w = Workload(**wl)
            _emit(out, {"event": "start", "key": w.key(), "time": time.time()})
            try:
                if spec["kind"] == "speed":
                    if gemm is None:
                        gemm = measure.gemm_gflops(w.framework, w.dtype, w.device)
                    result = measure.speed(w, **spec["settings"])
                    result["gemm_gflops"] = gemm
                else:
                    result = measure.memory(w)
                status = "ok"
            except MemoryError:
                result, status = {"error": "MemoryError"}, "oom"
            except Exception as e:
                result = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(limit=5)}
                status = "oom" if "out of memory" in str(e).lower() else "error"
            _emit(
                out,
                {"event": "done", "key": w.key(), "status": status, "threads_effective": threads, **result},
            )


if __name__ == "__main__":
    main(*sys.argv[1:3])
