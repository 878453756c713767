"""Reading and writing results files."""

import json

import pytest

from suite.results import ResultsError, read_records, write_records

ENV = {"git_commit": "abc", "date": "2026-01-01T00:00:00+00:00"}


def test_round_trip_turns_nan_into_null(tmp_path):
    path = write_records(
        tmp_path / "sub" / "r.json", [{"kind": "speed", "environment": ENV, "x": float("nan")}]
    )
    assert json.loads(path.read_text())[0]["x"] is None
    assert read_records(path)[0]["environment"] == ENV


def test_no_temporary_files_are_left(tmp_path):
    write_records(tmp_path / "r.json", [{"kind": "check", "environment": ENV}])
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


@pytest.mark.parametrize(
    "content, match",
    [
        ('[{"kind": "speed", "environment": {}', "not valid JSON"),
        ('{"benchmarks": []}', "not an rnnbench results file"),
        ("[]", "not an rnnbench results file"),
        ('[{"kind": "weather", "environment": {}}]', "no known 'kind'"),
        ('[{"kind": "speed"}]', "no 'environment'"),
        ("\xff\xfe", "not valid JSON"),
    ],
)
def test_corrupt_or_foreign_files_are_named(tmp_path, content, match):
    path = tmp_path / "bad.json"
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(ResultsError, match=match) as info:
        read_records(path)
    assert "bad.json" in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ResultsError, match="no such file"):
        read_records(tmp_path / "nope.json")
