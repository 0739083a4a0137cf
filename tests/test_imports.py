"""How the package imports itself (ARCHITECTURE.md): layers depend one way, no module is part of an import
cycle (imports inside functions and under TYPE_CHECKING included: a lazy import hides a cycle, it does not
remove it), and lazy imports of our own modules happen only at the named seams.

Read from the source's import statements, so a stray import in any function is caught.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "legnext_mcp"

#: layer -> the layers of legnext_mcp it may import (itself always)
ALLOWED: dict[str, set[str]] = {
    "__init__": set(),
    "core": set(),
    "http": {"core", "__init__"},
    "dialects": {"core", "http", "__init__"},
    "ledger": {"core", "settings"},
    "files": set(),
    "inputs_store": {"files"},
    "sockets": set(),
    "settings": {"core", "dialects"},
    "service": {"core", "http", "dialects", "ledger", "files", "settings", "inputs_store"},
    "api": {"core", "http", "dialects"},
    "sandbox": {"sockets"},
    "server": {"core", "http", "dialects", "ledger", "files", "settings", "service", "sockets", "__init__",
               "inputs_store"},
    "skill_cli": {"core", "service", "settings", "dialects"},
    "demo": set(),
    "cli": {"settings", "server", "sandbox", "demo", "dialects", "sockets", "__init__"},
}
#: layers that must not load the MCP SDK (the client and the service are usable without it)
NO_MCP = {"core", "http", "dialects", "ledger", "files", "sockets", "settings", "service", "api", "sandbox",
          "skill_cli"}
#: The only functions that import our own modules lazily, and why (ARCHITECTURE.md "Start-up"): the front
#: imports the back on the first request that needs it; the ledger imports PostgreSQL only when configured;
#: each command of the command line imports what it runs.
SEAMS = {("server/front.py", "LegnextServer.back"), ("ledger/__init__.py", "open_ledger"), ("cli.py", "_serve"),
         ("cli.py", "_sandbox"), ("cli.py", "_demo"), ("server/front.py", "oauth")}


def layer_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0].removesuffix(".py")


def module_of(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(PACKAGE.rglob("*.py"))
NAMES = {module_of(p) for p in MODULES}


def imports_of(path: Path) -> list[str]:
    """Every module of ours (or another package) this file imports, anywhere in it."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from legnext_mcp.server import args`` imports the module legnext_mcp.server.args
            modules = [f"{node.module}.{alias.name}" for alias in node.names if f"{node.module}.{alias.name}" in NAMES]
            names += modules or [node.module]
    return names


def graph() -> dict[str, set[str]]:
    return {module_of(p): {name for name in imports_of(p) if name in NAMES and name != module_of(p)} for p in MODULES}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (and any module importing itself): Tarjan."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in edges.get(node, ()):
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_module_is_part_of_an_import_cycle() -> None:
    assert cycles(graph()) == []


def test_the_cycle_check_finds_a_planted_cycle() -> None:
    planted = {**graph(), "legnext_mcp.core.job": {"legnext_mcp.server.front"}}  # core reaching up to the server
    found = cycles(planted)
    assert found and any("legnext_mcp.core.job" in group and "legnext_mcp.server.front" in group for group in found)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_module_imports_only_the_layers_below_it(path: Path) -> None:
    layer = layer_of(path)
    for name in imports_of(path):
        if name.startswith("legnext_mcp.") or name == "legnext_mcp":
            target = name.split(".")[1] if "." in name else "__init__"
            assert target == layer or target in ALLOWED[layer], f"{path.name} ({layer}) imports {name}"
        if layer in NO_MCP:
            assert not (name == "mcp" or name.startswith(("mcp.", "mcp_types"))), f"{path.name} imports {name}"


def _local_imports(tree: ast.Module) -> Iterator[tuple[str, ast.stmt]]:
    """(the function's qualified name, the import) for every import of ours inside a function."""
    def walk(node: ast.AST, scope: list[str]) -> Iterator[tuple[str, ast.stmt]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                inner = [*scope, child.name]
                if not isinstance(child, ast.ClassDef):
                    for stmt in ast.walk(child):
                        if (isinstance(stmt, ast.ImportFrom) and (stmt.module or "").startswith("legnext_mcp")) or \
                                (isinstance(stmt, ast.Import) and any(a.name.startswith("legnext_mcp")
                                                                     for a in stmt.names)):
                            yield ".".join(inner), stmt
                    continue
                yield from walk(child, inner)
    yield from walk(tree, [])


def test_our_modules_are_imported_lazily_only_at_the_named_seams() -> None:
    found = {(str(p.relative_to(PACKAGE)), function) for p in MODULES
             for function, _ in _local_imports(ast.parse(p.read_text()))}
    assert found <= SEAMS, f"imports inside functions outside the seams: {sorted(found - SEAMS)}"
    assert ("server/front.py", "LegnextServer.back") in found  # the seam is real


def test_every_layer_is_known() -> None:
    assert {layer_of(p) for p in MODULES} <= set(ALLOWED)
