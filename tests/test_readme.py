"""The README as a guide: its findings block is what the committed results give, its Quick start holds two
commands, it stays short, its links resolve and the command lines it names parse."""

import re
import shlex
from pathlib import Path

import pytest

from suite.cli import build_parser
from suite.report import readme
from suite.report.loading import load_results

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "README.md").read_text()


def test_the_findings_block_is_what_the_committed_results_give():
    pytest.importorskip("matplotlib")  # the studies' report modules draw with it
    expected = readme.block(load_results(ROOT / "results"), ROOT / "results", ROOT / "README.md")
    assert readme.current(TEXT) == expected, "rebuild it: rnnbench report --readme README.md"


def test_a_block_that_differs_is_caught_and_a_missing_one_named(tmp_path):
    changed = TEXT.replace("| question | answer | measured |", "| question | answer |", 1)
    assert readme.current(changed) != readme.current(TEXT)
    with pytest.raises(readme.MissingBlock, match="no findings block"):
        readme.current("# a README without one")


def test_quick_start_is_two_commands_in_one_sh_block():
    quick = TEXT.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", quick, re.S).group(1)
    assert len(block.strip().splitlines()) == 2
    assert block.strip().splitlines()[1].endswith(".venv/bin/python -m pytest -q")
    assert ".venv/bin/python -m pytest -q" in (ROOT / ".ci" / "run").read_text()


def test_the_readme_is_a_guide_of_at_most_300_lines():
    assert len(TEXT.splitlines()) <= 300


@pytest.mark.parametrize("path", sorted({*ROOT.glob("docs/*.md"), ROOT / "README.md"}), ids=lambda p: p.name)
def test_every_relative_link_resolves(path):
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", path.read_text()):
        if not target.startswith(("http://", "https://")):
            assert (path.parent / target).exists(), f"{path.name} links to {target}, which is not there"


def test_every_command_line_in_the_studies_table_parses():
    section = TEXT.split("## The studies", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|"))
    commands = re.findall(r"`(rnnbench [^`]+)`", table)
    assert len(commands) >= 8
    for command in commands:
        argv = shlex.split(command.replace("\\|", "|"))[1:]
        argv = [a.split("|")[0] for a in argv if a != "..."]
        argv = [{"BASE": "HEAD", "A": "a.json", "B": "b.json"}.get(a, a) for a in argv]
        assert build_parser().parse_args(argv).func, command
