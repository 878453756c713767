"""Small records for the report's tests: speed, memory, check, accuracy and A/B, on one or two machines."""

CPU = {"cpu": "Test CPU", "cores": 2, "gpus": []}


GPU = {"cpu": "Host CPU", "cores": 16, "gpus": ["Test GPU"]}


def speed(impl, framework, median_s, env=CPU, device="cpu", group="fastrnns", source="speed.json", **kw):
    return {
        "kind": "speed",
        "status": "ok",
        "implementation": impl,
        "framework": framework,
        "cell": "lstm",
        "mode": "train",
        "group": group,
        "device": device,
        "median_s": median_s,
        "efficiency": 0.01 / median_s,
        "environment": env,
        "source": source,
        **kw,
    }


def check(impl, dtype, error, status="pass", env=CPU, device="cpu", cell="lstm"):
    return {
        "kind": "check",
        "implementation": impl,
        "cell": cell,
        "dtype": dtype,
        "device": device,
        "path": "x",
        "max_error": error,
        "tolerance": 1e-5 if dtype == "float32" else 1e-10,
        "status": status,
        "worst": "d_x",
        "environment": env,
        "source": "check.json",
    }


def accuracy(cell, t, solved, seed=0):
    return {
        "kind": "accuracy",
        "status": "ok",
        "task": "adding",
        "framework": "torch",
        "cell": cell,
        "seq_len": t,
        "seed": seed,
        "steps": 10,
        "batch_size": 8,
        "hidden_size": 8,
        "optimizer": "adam",
        "lr": 1e-3,
        "clip": 1.0,
        "dtype": "float32",
        "solved": solved,
        "source": "accuracy.json",
    }


def ab(
    decision, comparison="", injected="", cell="lstm", date="2026-11-27T10:00:00+00:00", source="ab/a.json"
):
    return {
        "kind": "ab",
        "cell": cell,
        "decision": decision,
        "comparison": comparison,
        "injected": injected,
        "base": "base X",
        "candidate": "candidate Y",
        "environment": {**CPU, "date": date},
        "source": source,
    }
