"""What the subcommands share: the usage error, name lists, the selection flags and the results path."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import impls
import impls.registry


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


def parse_ints(value: str, flag: str) -> list[int]:
    """A comma-separated list of integers given to ``flag``."""
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"{flag} must be comma-separated integers, got {value!r}") from None


def implementations_arg(args: argparse.Namespace, gradients: bool = False) -> list[str]:
    """The implementations the selection flags name: ``--impls`` (those), ``--frameworks`` (every
    installed implementation of those frameworks) or neither (every installed one). Each must be installed;
    with ``gradients`` (a study that trains or differentiates), an inference runtime named with ``--impls``
    is refused and one selected otherwise left out."""
    names = _selected(args)
    runtimes = [n for n in names if not impls.get(n).differentiable]
    if gradients and runtimes:
        if args.impls is not None:
            raise UsageError(f"{', '.join(runtimes)} computes no gradients (an inference runtime)")
        print(f"left out, inference runtimes (no gradients): {', '.join(runtimes)}", file=sys.stderr)
        names = [n for n in names if n not in runtimes]
    return names


def _selected(args: argparse.Namespace) -> list[str]:
    if args.impls is not None and args.frameworks is not None:
        raise UsageError("give --impls or --frameworks, not both")
    installed = impls.available()
    if args.impls is not None:
        names = parse_list(args.impls, impls.registry.names(), "implementation")
        for name in names:
            if name not in installed:
                hint = impls.get(name).install_hint()
                raise UsageError(f"{name} is not installed here; install it with: {hint}")
        return names
    if args.frameworks is None:
        left_out = [n for n in impls.registry.names() if n not in installed]
        if left_out:
            hints = ", ".join(f"{n} ({impls.get(n).install_hint()})" for n in left_out)
            print(f"not installed here, left out: {hints}", file=sys.stderr)
        return list(installed)
    chosen = []
    for framework in parse_list(args.frameworks, impls.FRAMEWORKS, "framework"):
        if framework not in installed:
            raise UsageError(
                f"{framework} is not installed here; install it with: pip install -e '.[{framework}]'"
            )
        chosen += [name for name in impls.of_framework(framework) if name in installed]
    return chosen


def one_dtype(value: str | None) -> str:
    dtypes = parse_list(value, impls.DTYPES, "dtype")
    if len(dtypes) != 1:
        raise UsageError("give one --dtype per run")
    return dtypes[0]


def add_selection(p: argparse.ArgumentParser) -> None:
    """--impls, --frameworks and --cells."""
    p.add_argument(
        "--impls",
        help="comma-separated implementations (a framework's name is its default one; "
        "default: every installed implementation)",
    )
    p.add_argument(
        "--frameworks",
        help=f"comma-separated, from {','.join(impls.FRAMEWORKS)}: every installed implementation of each",
    )
    p.add_argument("--cells", help=f"comma-separated, from {','.join(impls.CELLS)} (default: all)")


def add_device(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--device", choices=impls.DEVICES, default="cpu", help=f"where {what} (default: cpu)")


def on_device(names: list[str], device: str) -> list[str]:
    """``names``, each checked to declare ``device``; a GPU must be visible for ``gpu``."""
    from suite.environment import gpu_names

    cannot = [n for n in names if device not in impls.get(n).devices]
    if cannot:
        raise UsageError(f"{', '.join(cannot)} cannot run on the {device}; choose implementations that can")
    if device == "gpu" and not gpu_names():
        raise UsageError("--device gpu: no GPU here (nvidia-smi lists none)")
    return names


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


def add_budget(p: argparse.ArgumentParser) -> None:
    """``--sequences``: a training budget in sequences, the papers' unit, instead of ``--steps``."""
    p.add_argument(
        "--sequences",
        type=int,
        help="the training budget in sequences (the papers' unit): steps = sequences / batch, rounded up",
    )


def steps_from(args: argparse.Namespace, batch_size: int) -> int | None:
    """The steps ``--steps`` or ``--sequences`` ask for (None: neither); both at once is a usage error."""
    if args.sequences is None:
        return args.steps
    if args.steps is not None:
        raise UsageError("give --steps or --sequences, not both")
    if args.sequences < 1:
        raise UsageError(f"--sequences must be >= 1, got {args.sequences}")
    return -(-args.sequences // batch_size)


def on_gpu(names: list[str]) -> list[str]:
    """The arguments that select ``names`` on the GPU (a GPU run's steps share them)."""
    return ["--impls", ",".join(names), "--device", "gpu"]
