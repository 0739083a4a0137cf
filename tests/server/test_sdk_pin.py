"""The server builds SDK tools from the SDK's internals (server/catalog.py: FuncMetadata, build_resolver_plans,
ArgModelBase), which a minor release may change: the pin names the minor version they were checked with, and
this test fails on any other, so moving to a new minor is a decision (check catalog.py, then both lines)."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

CHECKED_MINOR = "2.3"
ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_sdk_is_the_minor_version_the_catalog_was_checked_with() -> None:
    assert version("mcp").startswith(f"{CHECKED_MINOR}."), (
        f"mcp {version('mcp')} is installed; server/catalog.py was checked with {CHECKED_MINOR}.x")


def test_the_pin_allows_only_that_minor_version() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    major, minor = CHECKED_MINOR.split(".")
    assert f"mcp>={CHECKED_MINOR},<{major}.{int(minor) + 1}" in dependencies
