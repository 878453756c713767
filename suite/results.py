"""Results files: a JSON list of records, each carrying its ``kind`` and the ``environment`` it ran in."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

KINDS: tuple[str, ...] = ("check", "speed", "memory", "accuracy")


class ResultsError(ValueError):
    """A results file that is missing, corrupt or not written by rnnbench."""


def _clean(value: Any) -> Any:
    """NaN and inf become None so that the file is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def write_records(path: str | os.PathLike, records: list[dict]) -> Path:
    """Write ``records`` atomically: a reader sees the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(_clean(records), f, indent=1, allow_nan=False)
        f.write("\n")
    os.replace(tmp, path)
    return path


def read_json(path: str | os.PathLike, error: type[Exception] = ResultsError) -> Any:
    """The JSON in ``path``; ``error`` naming the file when it is missing or not JSON."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise error(f"{path}: not valid JSON ({e})") from None


def read_records(path: str | os.PathLike) -> list[dict]:
    """Read and validate a results file; raise ResultsError naming the problem."""
    path = Path(path)
    data = read_json(path)
    if not isinstance(data, list) or not data:
        raise ResultsError(f"{path}: not an rnnbench results file (expected a non-empty list of records)")
    for i, rec in enumerate(data):
        if not isinstance(rec, dict) or rec.get("kind") not in KINDS:
            raise ResultsError(f"{path}: record {i} has no known 'kind' ({', '.join(KINDS)})")
        if not isinstance(rec.get("environment"), dict):
            raise ResultsError(f"{path}: record {i} has no 'environment'")
    return data
