"""The wheel and sdist: built from a clean tree, accepted by ``twine check --strict``, and carrying what PyPI
and the MCP Registry read (the README with the ``mcp-name`` marker as the long description, the summary, the
author, the project URLs)."""

from __future__ import annotations

import sys
import tarfile
import zipfile
from email import message_from_string

from legnext_mcp import __version__
from tests.release.conftest import Dist, run
from tests.test_release_metadata import PROJECT, REGISTRY_NAME, readme_declares_mcp_name


def test_twine_accepts_the_wheel_and_the_sdist(dist: Dist) -> None:
    out = run([sys.executable, "-m", "twine", "check", "--strict", dist.wheel, dist.sdist])
    assert out.stdout.count("PASSED") == 2, out.stdout
    print(out.stdout)  # shown with -s: the closing note quotes it


def test_the_wheel_metadata_is_what_pypi_and_the_registry_read(dist: Dist) -> None:
    assert dist.wheel.name == f"legnext_mcp-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(dist.wheel) as wheel:
        names = set(wheel.namelist())
        metadata = message_from_string(wheel.read(f"legnext_mcp-{__version__}.dist-info/METADATA").decode())
    assert "legnext_mcp/server/manifest.json" in names and "legnext_mcp/py.typed" in names
    assert not any(name.startswith(("tests/", "mcpb/", "skill/")) for name in names)
    assert metadata["Name"] == "legnext-mcp" and metadata["Version"] == __version__
    assert metadata["Summary"] == PROJECT["description"] and len(metadata["Summary"]) <= 100
    assert metadata["Author-email"] == "Legnext <support@legnext.ai>"
    urls = dict(value.split(", ", 1) for value in metadata.get_all("Project-URL") or [])
    assert urls["Repository"] == PROJECT["urls"]["Repository"] and "Documentation" in urls
    description = metadata.get_payload()
    assert isinstance(description, str)
    # the Registry verifies the package by this marker in the README of the uploaded version
    assert readme_declares_mcp_name(description, REGISTRY_NAME)
    assert len(description.encode()) < 10_000 and "](docs/" not in description  # no links that break on PyPI


def test_the_sdist_builds_the_same_package(dist: Dist) -> None:
    with tarfile.open(dist.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"README.md", "LICENSE", "pyproject.toml", "legnext_mcp/server/manifest.json"} <= names
    print(f"wheel {dist.wheel.stat().st_size} bytes, sdist {dist.sdist.stat().st_size} bytes")
