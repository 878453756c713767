"""docs/layout.md against the tree: every path it names exists, and every module under suite/ is named."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULE = re.compile(r"(?<![\w*])[a-z_]+\.py\b")


def entries() -> list[tuple[str, str]]:
    """(path, description) per entry of the layout block; continuation lines join their entry."""
    block = (ROOT / "docs" / "layout.md").read_text().split("```")[1]
    out: list[tuple[str, str]] = []
    for line in block.strip("\n").splitlines():
        if line.startswith(" "):
            out[-1] = (out[-1][0], out[-1][1] + " " + line.strip())
        else:
            path, _, description = line.partition(" ")
            out.append((path, description.strip()))
    return out


def folder_of(path: str) -> str:
    return path.rstrip("/") if path.endswith("/") else str(Path(path).parent)


def test_every_path_named_exists():
    for path, description in entries():
        assert (ROOT / path).exists(), f"docs/layout.md names {path}, which is not in the tree"
        for module in MODULE.findall(description):
            if "*" not in module:
                assert (ROOT / folder_of(path) / module).exists(), f"{path}: {module} is not there"


def test_every_module_under_suite_is_named():
    named = set()
    for path, description in entries():
        named.add(path.rstrip("/"))
        named.update(f"{folder_of(path)}/{m}" for m in MODULE.findall(description))
    for module in sorted(ROOT.glob("suite/**/*.py")):
        rel = module.relative_to(ROOT).as_posix()
        package = module.name in ("__init__.py", "__main__.py")  # a package is named by its folder
        names = {rel, str(Path(rel).parent)} if package else {rel}
        assert names & named, f"{rel} is not described in docs/layout.md"
