"""The release's metadata lives once (pyproject.toml: name, summary, [tool.legnext-mcp] registry-name; the version
in legnext_mcp/__init__.py) and everything published agrees with it: server.json (checked offline against the
MCP Registry's own schema, vendored), the Claude Desktop bundle's manifest, the README's ``mcp-name:`` marker
(read as the Registry reads it), and the changelog. Each broken copy below is refused, so the checks can fail."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, FormatChecker
from PIL import Image

from legnext_mcp import __version__
from legnext_mcp.server.front import WEBSITE
from legnext_mcp.server.manifest import CatalogKey, listing
from legnext_mcp.settings import TOOLSETS

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
REGISTRY_NAME = PYPROJECT["tool"]["legnext-mcp"]["registry-name"]
SCHEMA_PATH = ROOT / "tests" / "release" / "registry" / "server.schema.2025-12-11.json"
#: The vendored copy of modelcontextprotocol/registry internal/validators/schemas/2025-12-11.json (commit
#: e361b5ff5a925b36a38eda0544bca8230a84558b): a changed byte means it is no longer the Registry's schema.
SCHEMA_SHA256 = "d4c163f299ece68b7432f4e44c4108f2fdb663d99dc088c8344142e5b0a4b520"
SCHEMA_BYTES = 22193
REMOTES = re.compile(r"<!-- remotes:start -->\s*```json\n(.*?)```\s*<!-- remotes:end -->", re.S)


def load(path: str) -> Any:
    return json.loads((ROOT / path).read_text(encoding="utf-8"))


def registry_errors(document: Any) -> list[str]:
    """What the Registry's schema finds wrong (draft-07, formats checked as the Registry's validator does)."""
    validator = Draft7Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")), format_checker=FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def readme_declares_mcp_name(content: str, server_name: str) -> bool:
    """The Registry's own check (internal/validators/registries/mcpname.go, ReadmeDeclaresMCPName): the README
    holds ``mcp-name: <name>`` with the name ending at a character that cannot be part of a server name."""
    prefix, offset = "mcp-name: ", 0
    while (index := content.find(prefix, offset)) >= 0:
        start = index + len(prefix)
        end = start + len(server_name)
        if content.startswith(server_name, start) and (
                end == len(content) or not re.fullmatch(r"[A-Za-z0-9._/-]", content[end])):
            return True
        offset = start
    return False


def test_the_vendored_registry_schema_is_the_registrys_file() -> None:
    data = SCHEMA_PATH.read_bytes()
    assert len(data) == SCHEMA_BYTES and hashlib.sha256(data).hexdigest() == SCHEMA_SHA256
    assert json.loads(data)["$id"] == "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
    Draft7Validator.check_schema(json.loads(data))


def test_the_metadata_lives_once_in_pyproject() -> None:
    assert PROJECT["name"] == "legnext-mcp" and PROJECT["dynamic"] == ["version"]
    assert len(PROJECT["description"]) <= 100  # the Registry's limit for a description
    assert REGISTRY_NAME == "io.github.legnext-ai/legnext-mcp"
    assert PROJECT["authors"] == [{"name": "Legnext", "email": "support@legnext.ai"}] and PROJECT["license"] == "MIT"
    urls = PROJECT["urls"]
    assert {"Homepage", "Documentation", "Repository", "Issues", "Changelog"} <= set(urls)
    owner = REGISTRY_NAME.removeprefix("io.github.").split("/")[0]
    assert urls["Repository"] == f"https://github.com/{owner}/legnext-mcp"  # the namespace GitHub proves
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_server_json_is_valid_for_the_registry_and_agrees_with_pyproject() -> None:
    server = load("server.json")
    assert registry_errors(server) == []
    assert server["$schema"] == "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
    assert (server["name"], server["description"], server["version"]) == (
        REGISTRY_NAME, PROJECT["description"], __version__)
    assert server["repository"] == {"url": PROJECT["urls"]["Repository"], "source": "github"}
    [package] = server["packages"]
    assert (package["registryType"], package["identifier"], package["version"]) == ("pypi", PROJECT["name"],
                                                                                    __version__)
    assert package["runtimeHint"] == "uvx" and package["transport"] == {"type": "stdio"}
    env = {item["name"]: item for item in package["environmentVariables"]}
    assert env["LEGNEXT_API_KEY"]["isSecret"] is True and env["LEGNEXT_API_KEY"]["isRequired"] is True
    assert not any(item.get("isSecret") for name, item in env.items() if name != "LEGNEXT_API_KEY")
    assert all(item["description"] for item in env.values())
    source = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "legnext_mcp").rglob("*.py"))
    assert all(f'"{name}"' in source for name in env), "server.json declares a setting the server does not read"
    assert "remotes" not in server  # no public endpoint; the shape for HTTP deployments is in docs/publishing.md


@pytest.mark.parametrize(("break_it", "said"), [
    (lambda s: s.update(description="x" * 101), "is too long"),
    (lambda s: s["packages"][0].update(version="latest"), "should not be valid"),
    (lambda s: s.update(websiteUrl="not a url"), "is not a 'uri'"),
    (lambda s: s["packages"][0]["environmentVariables"][0].update(format="secret"), "is not one of"),
    (lambda s: s.update(name="legnext-mcp"), "does not match"),
    (lambda s: s.pop("version"), "is a required property"),
])
def test_a_broken_server_json_is_refused(break_it: Any, said: str) -> None:
    server = copy.deepcopy(load("server.json"))
    break_it(server)
    errors = registry_errors(server)
    assert errors and any(said in error for error in errors), errors


def test_the_documented_remotes_shape_is_valid_for_the_registry() -> None:
    """No public endpoint is published, but the shape for an HTTP deployment is documented and must be valid."""
    found = REMOTES.search((ROOT / "docs" / "publishing.md").read_text(encoding="utf-8"))
    assert found, "docs/publishing.md has no remotes block"
    remotes = json.loads(found.group(1))
    assert registry_errors({**load("server.json"), "remotes": remotes}) == []
    headers = {h["name"]: h for remote in remotes for h in remote.get("headers", [])}
    assert headers["Authorization"]["value"] == "Bearer {token}" and headers["Authorization"]["isSecret"]
    assert headers["X-Legnext-Api-Key"]["isSecret"]
    assert all(remote["type"] == "streamable-http" and remote["url"].startswith("https://") for remote in remotes)
    broken = [{**remotes[0], "type": "websocket"}]
    assert registry_errors({**load("server.json"), "remotes": broken})


def test_the_readme_carries_the_registry_marker_as_the_registry_reads_it() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_declares_mcp_name(readme, REGISTRY_NAME)
    # the matcher is the Registry's: a longer name, or a name missing its marker, does not count
    assert not readme_declares_mcp_name(f"mcp-name: {REGISTRY_NAME}-evil", REGISTRY_NAME)
    assert not readme_declares_mcp_name(f"mcp-name:{REGISTRY_NAME}", REGISTRY_NAME)
    assert readme_declares_mcp_name(f"<!-- mcp-name: {REGISTRY_NAME} -->", REGISTRY_NAME)


def test_the_bundle_manifest_agrees_and_starts_the_published_package() -> None:
    bundle = load("mcpb/manifest.json")
    assert bundle["manifest_version"] == "0.2"
    assert (bundle["name"], bundle["version"], bundle["description"]) == (PROJECT["name"], __version__,
                                                                          PROJECT["description"])
    assert bundle["author"]["name"] == "Legnext" and bundle["license"] == PROJECT["license"]
    assert bundle["repository"]["url"] == PROJECT["urls"]["Repository"]
    config = bundle["server"]["mcp_config"]
    # the exact published version: the bundle is a few kilobytes and runs what PyPI serves
    assert bundle["server"]["type"] == "python" and config["command"] == "uvx"
    assert config["args"] == [f"{PROJECT['name']}=={__version__}"]
    used = set(re.findall(r"\$\{user_config\.([a-z_]+)\}", json.dumps(config)))
    assert used == set(bundle["user_config"])
    options = bundle["user_config"]
    assert options["api_key"]["sensitive"] is True and options["api_key"]["type"] == "string"
    assert options["output_dir"]["type"] == "directory"
    assert {options[n]["type"] for n in ("max_points_per_day", "confirm_above_points")} == {"number"}
    assert set(config["env"]) <= {item["name"] for item in load("server.json")["packages"][0]["environmentVariables"]}
    assert all(name in TOOLSETS for name in ("core", "edit", "video", "account"))
    key = CatalogKey(dialect="legnext", toolsets=frozenset(TOOLSETS))
    assert bundle["tools"] == [{"name": t.name, "description": t.description} for t in listing(key)], \
        "mcpb/manifest.json tools are stale: copy them from the server's tools/list"
    assert any(url.endswith("/docs/privacy.md") for url in bundle["privacy_policies"])
    assert bundle["compatibility"]["runtimes"]["python"] == PROJECT["requires-python"]
    with Image.open(ROOT / "mcpb" / bundle["icon"]) as icon:
        assert icon.size == (512, 512) and icon.format == "PNG"


def test_the_changelog_has_this_version_in_keep_a_changelog_form() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "Keep a Changelog" in changelog and "## [Unreleased]" in changelog
    assert re.search(rf"^## \[{re.escape(__version__)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M)
    assert re.search(rf"^\[{re.escape(__version__)}\]: https://github\.com/\S+$", changelog, re.M)


def test_the_server_names_the_website_the_metadata_names() -> None:
    assert WEBSITE == PROJECT["urls"]["Homepage"] == load("server.json")["websiteUrl"]
