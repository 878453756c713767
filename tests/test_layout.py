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


def imports_of(path: Path) -> set[str]:
    """The modules ``path`` imports (absolute names)."""
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_study_imports_another_and_the_lower_layers_import_no_study():
    studies = sorted(p.name for p in (ROOT / "suite" / "studies").iterdir() if (p / "__init__.py").exists())
    for study in studies:
        for module in (ROOT / "suite" / "studies" / study).glob("*.py"):
            others = {
                name
                for name in imports_of(module)
                if name.startswith("suite.studies.") and name.split(".")[2] not in (study,)
            }
            assert not others, f"{module.relative_to(ROOT)} imports another study: {sorted(others)}"
    lower = [*ROOT.glob("impls/*.py"), *ROOT.glob("tasks/*.py"), *ROOT.glob("suite/training/*.py")]
    lower += [*ROOT.glob("suite/measurement/*.py"), *(ROOT / "suite").glob("*.py")]
    for module in lower:
        if module.name in ("cli.py", "gpu.py"):  # the command line loops over the studies
            continue
        bad = {n for n in imports_of(module) if n.startswith("suite.studies")}
        if module.parts[-2] in ("impls", "tasks"):
            bad |= {n for n in imports_of(module) if n.split(".")[0] == "suite"}
        assert not bad, f"{module.relative_to(ROOT)} reaches up into {sorted(bad)}"
