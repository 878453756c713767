"""Results files: the schema version, round trips, old and foreign files, derived figures."""

import json
from pathlib import Path

import pytest

from suite import records
from suite.records import ResultsError, benchmark_key, derived, read_records, write_records

ENV = {"git_commit": "abc", "date": "2026-01-01T00:00:00+00:00"}
RESULTS = Path(__file__).resolve().parents[2] / "results"
WORKLOAD = dict(
    implementation="torch",
    framework="torch",
    cell="lstm",
    mode="forward",
    seq_len=100,
    batch=64,
    input_size=512,
    hidden_size=512,
    num_layers=1,
    dtype="float32",
    device="cpu",
)


def speed(**fields):
    return {"kind": "speed", **WORKLOAD, "status": "ok", "environment": ENV, **fields}


def test_round_trip_writes_the_schema_version_and_turns_nan_into_null(tmp_path):
    path = write_records(tmp_path / "sub" / "r.json", [speed(median_s=float("nan"))])
    data = json.loads(path.read_text())
    assert data["format"] == "rnnbench-results" and data["schema_version"] == records.SCHEMA_VERSION
    assert data["records"][0]["median_s"] is None
    assert read_records(path) == [speed(median_s=None)]


def test_no_temporary_files_are_left(tmp_path):
    write_records(tmp_path / "r.json", [speed()])
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_an_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = write_records(tmp_path / "r.json", [speed(median_s=1.0)])

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(records.os, "replace", broken)
    with pytest.raises(OSError):
        write_records(path, [speed(median_s=2.0)])
    assert read_records(path)[0]["median_s"] == 1.0
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_a_version_1_file_is_migrated(tmp_path):
    """Version 1 was a bare list, with derived figures stored in speed records."""
    path = tmp_path / "old.json"
    stored = speed(median_s=0.1, flops=1e9, gflops=10.0, efficiency=0.5, peak_gflops=20.0)
    del stored["implementation"]
    path.write_text(json.dumps([stored]))
    (record,) = read_records(path)
    assert "gflops" not in record and "efficiency" not in record and record["median_s"] == 0.1
    assert record["implementation"] == record["framework"] == "torch"  # one implementation per framework


@pytest.mark.parametrize(
    "content, match",
    [
        ('[{"kind": "speed", "environment": {}', "not valid JSON"),
        ('{"benchmarks": []}', "not an rnnbench results file"),
        ("[]", "holds no records"),
        ('{"format": "rnnbench-results", "schema_version": 99, "records": []}', "newer rnnbench"),
        ('{"format": "rnnbench-results", "schema_version": "2", "records": []}', "unknown schema_version"),
        ('{"format": "rnnbench-results", "schema_version": 2, "records": {}}', "not a list"),
        ('[{"kind": "weather", "environment": {}}]', "no known 'kind'"),
        ('[{"kind": "speed"}]', "no 'environment'"),
        ('[{"kind": "check", "environment": {}, "framework": "jax"}]', "check record 0 lacks cell, device"),
        (
            '{"format": "rnnbench-results", "schema_version": 2, '
            '"records": [{"kind": "check", "environment": {}}]}',
            "lacks cell, device, dtype, framework, implementation, status",
        ),
        ("\xff\xfe", "not valid JSON"),
    ],
)
def test_corrupt_foreign_or_newer_files_are_named(tmp_path, content, match):
    path = tmp_path / "bad.json"
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(ResultsError, match=match) as info:
        read_records(path)
    assert "bad.json" in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ResultsError, match="no such file"):
        read_records(tmp_path / "nope.json")


def committed_results_files():
    found = []
    for path in sorted(RESULTS.rglob("*.json")):
        if "cache" in path.parts:
            continue
        data = json.loads(path.read_text())
        if isinstance(data, list) or (isinstance(data, dict) and data.get("format") == records.FORMAT):
            found.append(path)
    return found


def test_every_committed_results_file_reads_and_derives_what_it_stored():
    files = committed_results_files()
    assert len(files) >= 10
    for path in files:
        stored = json.loads(path.read_text())
        stored = stored if isinstance(stored, list) else stored["records"]
        for old, new in zip(stored, derived(read_records(path)), strict=True):
            for name in ("gflops", "peak_gflops", "efficiency"):
                if name in old:
                    assert new[name] == pytest.approx(old[name], rel=1e-12), (path.name, name)


def test_benchmark_key_names_the_workload_and_optionally_the_kind():
    assert benchmark_key(WORKLOAD) == "torch/lstm/forward/T100/B64/I512/H512/L1/float32/cpu"
    assert benchmark_key(WORKLOAD, "memory") == "memory:" + benchmark_key(WORKLOAD)
    variant = {**WORKLOAD, "implementation": "torch-cells"}
    assert benchmark_key(variant).startswith("torch-cells/lstm/")


def test_derived_figures_use_the_best_gemm_of_the_run_per_dtype_and_device():
    run = [
        speed(flops=5e9, median_s=0.1, gemm_gflops=100.0),
        speed(flops=8e9, median_s=0.1, gemm_gflops=200.0),
        speed(flops=1e9, median_s=0.1, gemm_gflops=40.0, dtype="float64"),
        speed(status="timeout"),
        {"kind": "memory", **WORKLOAD, "status": "ok", "environment": ENV, "peak_bytes": 10},
    ]
    out = derived(run)
    assert [r.get("efficiency") for r in out] == [0.25, 0.4, 0.25, None, None]
    assert [r.get("gflops") for r in out[:3]] == pytest.approx([50.0, 80.0, 10.0])
    assert "gflops" not in run[0]  # the records themselves are not changed
