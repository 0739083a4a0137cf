"""The Claude Desktop bundle: validated and packed by the official CLI at its pinned version, a broken manifest
refused, and the packed bundle started exactly as Desktop would start it: unpacked, ``mcp_config`` filled from
the user's answers by the MCPB library itself, its command run (``uvx legnext-mcp==<version>``, resolved from
this run's wheel), the simulator standing in for the API."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from legnext_mcp import __version__
from legnext_mcp.sandbox import SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox
from tests.release.conftest import KEY, NODE, REPO, SPEED, Dist, need, run

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def bundle(mcpb: str, dist: Dist) -> Path:
    target = dist.folder / f"legnext-mcp-{__version__}.mcpb"
    out = run([mcpb, "pack", REPO / "mcpb", target])
    print(out.stdout)
    return target


def test_mcpb_validate_accepts_the_manifest(mcpb: str) -> None:
    out = run([mcpb, "validate", REPO / "mcpb" / "manifest.json"])
    assert "Manifest schema validation passes!" in out.stdout
    print(out.stdout)


@pytest.mark.parametrize(("break_it", "said"), [
    (lambda m: m["user_config"]["api_key"].update(type="secret"), "user_config"),
    (lambda m: m.pop("author"), "author"),
    (lambda m: m["server"].update(type="uv"), "server"),  # not a server type of manifest 0.2
])
def test_mcpb_validate_refuses_a_broken_manifest(mcpb: str, tmp_path: Path, break_it: Any, said: str) -> None:
    manifest = json.loads((REPO / "mcpb" / "manifest.json").read_text())
    break_it(manifest)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    shutil.copy(REPO / "mcpb" / "icon.png", tmp_path / "icon.png")
    out = run([mcpb, "validate", tmp_path / "manifest.json"], check=False)
    assert out.returncode != 0 and said in out.stdout + out.stderr, out.stdout + out.stderr


def test_the_bundle_is_the_manifest_and_its_icon(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as archive:
        assert sorted(archive.namelist()) == ["icon.png", "manifest.json"]
    assert bundle.stat().st_size < 50_000  # the server itself comes from PyPI
    print(f"{bundle.name}: {bundle.stat().st_size} bytes")


async def test_the_packed_bundle_starts_as_desktop_starts_it(mcpb: str, bundle: Path, uv_env: dict[str, str],
                                                             api: LoopbackSandbox[SandboxApp], tmp_path: Path) -> None:
    unpacked, home = tmp_path / "extension", tmp_path / "home"
    home.mkdir()
    run([mcpb, "unpack", bundle, unpacked])
    # The user answered the key only: the folder keeps its default (${HOME}/...), the limits stay empty.
    filled = run([need("node"), NODE / "config.mjs", unpacked, home, json.dumps({"api_key": KEY})], cwd=NODE)
    config = json.loads(filled.stdout)
    assert config["args"] == [f"legnext-mcp=={__version__}"]
    assert config["env"]["LEGNEXT_MAX_POINTS_PER_DAY"] == "${user_config.max_points_per_day}"  # as Desktop passes
    command = shutil.which(config["command"], path=uv_env["PATH"])
    assert command is not None, f"{config['command']} not found"
    env = {**uv_env, **config["env"], "HOME": str(home), "LEGNEXT_BASE_URL": api.base_url,
           "LEGNEXT_TIME_SCALE": str(SPEED), "LEGNEXT_DATA_DIR": str(tmp_path / "data")}
    posts = api.app.stats.count("POST", "/api/v1/")
    with anyio.fail_after(300):
        async with Client(StdioServerParameters(command=command, args=config["args"], env=env)) as client:
            tools = (await client.list_tools()).tools
            made = await client.call_tool("generate_and_wait", {"prompt": "a lighthouse at dusk --ar 3:2"})
            assert made.structured_content is not None, made
            saved = await client.call_tool("save_images", {"job_id": made.structured_content["job_id"]})
    assert len(tools) == 29
    assert made.structured_content["status"] == "completed" and len(made.structured_content["image_urls"]) == 4
    assert api.app.stats.count("POST", "/api/v1/") - posts == 1  # exactly one job sent
    folder = home / "Pictures" / "legnext"  # the manifest's default, ${HOME}/Pictures/legnext
    files = sorted(path.name for path in folder.iterdir())
    assert not saved.is_error and len(files) == 5 and sum(name.endswith(".png") for name in files) == 4, files
    print(f"bundle start: {len(tools)} tools; generate_and_wait {made.structured_content['status']}; "
          f"save_images wrote {len(files)} files")
