"""What the subcommands share: the usage error, name lists, the selection flags and the results path."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import impls


class UsageError(Exception):
    """Bad command-line input: reported on stderr with exit code 2."""


def parse_list(value: str | None, choices: Sequence[str], kind: str) -> list[str]:
    """A comma-separated list of names, each one of ``choices`` (all of them when ``value`` is None)."""
    if value is None:
        return list(choices)
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise UsageError(f"no {kind} given")
    for name in names:
        if name not in choices:
            raise UsageError(f"unknown {kind} {name!r}; choose from {', '.join(choices)}")
    return names


def frameworks_arg(value: str | None) -> list[str]:
    """Frameworks named on the command line (default: every installed one); each must be installed."""
    if value is None:
        return list(impls.available())
    names = parse_list(value, impls.FRAMEWORKS, "framework")
    for name in names:
        if name not in impls.available():
            raise UsageError(f"{name} is not installed here; install it with: pip install -e '.[{name}]'")
    return names


def one_dtype(value: str | None) -> str:
    dtypes = parse_list(value, impls.DTYPES, "dtype")
    if len(dtypes) != 1:
        raise UsageError("give one --dtype per run")
    return dtypes[0]


def add_selection(p: argparse.ArgumentParser) -> None:
    """--frameworks and --cells."""
    p.add_argument(
        "--frameworks",
        help=f"comma-separated, from {','.join(impls.FRAMEWORKS)} (default: every installed one)",
    )
    p.add_argument("--cells", help=f"comma-separated, from {','.join(impls.CELLS)} (default: all)")


def add_json(p: argparse.ArgumentParser, default: str | None = None) -> None:
    p.add_argument(
        "--json", metavar="PATH", help=f"results file (default: {default})" if default else "also write here"
    )


def add_fail_on(p: argparse.ArgumentParser, regressions: Sequence[str]) -> None:
    p.add_argument("--fail-on", default=",".join(regressions), help="decisions that exit 1 (default: all)")


def fail_on_exit_code(rows: list[dict], fail_on: str, regressions: Sequence[str]) -> int:
    """1 when a row's decision is one of ``fail_on`` (comma-separated), else 0."""
    gates = {g.strip() for g in fail_on.split(",") if g.strip()}
    unknown = gates - set(regressions)
    if unknown:
        raise UsageError(
            f"--fail-on: unknown decision {sorted(unknown)}; choose from {', '.join(regressions)}"
        )
    return 1 if any(r["decision"] in gates for r in rows) else 0
