"""``rnnbench report`` / ``python -m suite.report``: one report, with plots, of everything rnnbench measured,
and the README's findings block rebuilt from the same results."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

DESCRIPTION = "Build report.md, report.html and the plots from a results folder (nothing is rerun)."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--results", default="results", help="folder of results files (default: results/)")
    p.add_argument("--out", default=None, help="where to write the report (default: the results folder)")
    p.add_argument(
        "--readme",
        default=None,
        help="also rewrite the findings block of this README (rnnbench's own: README.md)",
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="build the report and its plots from a results folder")
    add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from suite.report import build, readme
    from suite.report.html import to_html

    folder = Path(args.results)
    out = Path(args.out or args.results)
    if not folder.is_dir():
        print(f"error: {folder} is not a folder", file=sys.stderr)
        return 2
    results, rep = build.build(folder, out)
    for warning in results.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not results:
        check = build.measures()["check"]
        print(f"error: no rnnbench results in {folder}; run e.g. `{check}` first", file=sys.stderr)
        return 2
    markdown = rep.markdown()
    (out / "report.md").write_text(markdown)
    (out / "report.html").write_text(to_html(markdown, out))
    print(f"wrote {out / 'report.md'}, {out / 'report.html'} and {len(rep.figures)} plots")
    if args.readme:
        readme.rewrite(Path(args.readme), results, folder)
        print(f"rewrote the findings block of {args.readme}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m suite.report``."""
    parser = argparse.ArgumentParser(prog="python -m suite.report", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))
