"""Limits the code holds to: no import cycle among ncfvid's modules, no module over 500 lines, no
function over 60 lines (generated code is not in ncfvid/), and the hard line between the code that
runs inside Manim and the code that drives it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ncfvid"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The ncfvid modules `name` imports anywhere in it (in functions too), except for type checking.
    `from package import module` is an import of the module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(sub) for sub in ast.walk(node))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            subs = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known]
            found.update(subs if len(subs) == len(node.names) else [base, *subs])
    return {module for module in found if module in known and module != name}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_ncfvid_modules() -> None:
    assert cycles(graph()) == []


def test_no_module_over_500_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_over_60_lines() -> None:
    long = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = length
    assert long == {}


# The code that drives Manim never imports Manim's side (it would load Manim, slowly, and blur the
# seam); what crosses is a SceneJob one way and records the other (ncfvid.scenejob, ncfvid.records).
DRIVING = (
    "ncfvid.cli",
    "ncfvid.clishared",
    "ncfvid.project",
    "ncfvid.pipeline",
    "ncfvid.compiler",
    "ncfvid.components",
    "ncfvid.schema",
    "ncfvid.rules",
    "ncfvid.render",
    "ncfvid.renderplan",
    "ncfvid.renderapp",
    "ncfvid.cachekeys",
    "ncfvid.check",
    "ncfvid.preview",
    "ncfvid.publish",
    # shared by both sides, so they import neither side's code
    "ncfvid.records",
    "ncfvid.scenejob",
    "ncfvid.layoutrules",
)
INSIDE = ("ncfvid.scenelib",)


def test_the_code_driving_manim_does_not_import_the_code_inside_it() -> None:
    edges = graph()
    crossing = {
        (source, target)
        for source in edges
        if source.startswith(DRIVING)
        for target in edges[source]
        if target.startswith(INSIDE)
    }
    assert crossing == set()
