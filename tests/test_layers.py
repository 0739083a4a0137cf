"""The layers depend one way (ARCHITECTURE.md): core <- http <- dialects <- service <- server <- cli, with the
simulators importing nothing of the client. Read from the source's import statements, so a stray import in
any function (lazy ones included) is caught."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "legnext_mcp"

#: layer -> the layers of legnext_mcp it may import (itself always)
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "http": {"core", "__init__"},
    "dialects": {"core", "http", "__init__"},
    "ledger": {"core"},
    "files": set(),
    "settings": {"dialects"},
    "service": {"core", "http", "dialects", "ledger", "files", "settings", "sandbox"},
    "api": {"core", "http", "dialects"},
    "sandbox": set(),
    "server": {"core", "http", "dialects", "ledger", "files", "settings", "service", "sandbox", "__init__"},
    "skill_cli": {"core", "service", "settings", "dialects"},
    "demo": set(),
    "cli": {"settings", "server", "sandbox", "demo", "dialects"},
}
#: layers that must not load the MCP SDK (the client and the service are usable without it)
NO_MCP = {"core", "http", "dialects", "ledger", "files", "settings", "service", "api", "sandbox", "skill_cli"}


def layer_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0].removesuffix(".py")


def imports_of(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if layer_of(p) != "__init__")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_module_imports_only_the_layers_below_it(path: Path) -> None:
    layer = layer_of(path)
    for name in imports_of(path):
        if name.startswith("legnext_mcp.") or name == "legnext_mcp":
            target = name.split(".")[1] if "." in name else "__init__"
            assert target == layer or target in ALLOWED[layer], f"{path.name} ({layer}) imports {name}"
        if layer in NO_MCP:
            assert not (name == "mcp" or name.startswith(("mcp.", "mcp_types"))), f"{path.name} imports {name}"


def test_every_layer_is_known() -> None:
    assert {layer_of(p) for p in MODULES} <= set(ALLOWED)


def test_the_catalog_knows_what_each_dialect_serves_without_importing_it() -> None:
    from legnext_mcp.dialects import DIALECTS, operations_of
    from legnext_mcp.dialects.legnext.dialect import LegnextDialect
    from legnext_mcp.dialects.mjproxy.dialect import MjProxyDialect

    served = {"legnext": LegnextDialect.OPERATIONS, "mj-proxy": MjProxyDialect.OPERATIONS}
    assert set(served) == set(DIALECTS)
    for name, operations in served.items():
        assert operations_of(name) == {op.__name__ for op in operations}
