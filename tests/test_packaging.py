"""Start-up weight and the command line, as a user runs them (real subprocesses)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx2


def test_importing_the_client_pulls_in_neither_mcp_pillow_nor_uvicorn() -> None:
    code = ("import sys, legnext_mcp.api; "
            "heavy = ('mcp', 'PIL', 'uvicorn', 'starlette', 'legnext_mcp.sandbox'); "
            "print(sorted(m for m in heavy if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_demo_drives_the_server_over_stdio_and_saves_files(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "legnext_mcp.cli", "demo", "--time-scale", "400",
                          "--output-dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    for step in ("> describe(", "> generate_and_wait(", "> upscale(", "> save_images(", "... "):
        assert step in out.stdout
    assert "connected to legnext-mcp --sandbox over stdio (legnext): 29 tools" in out.stdout
    assert f"7 files (images and JSON sidecars) in {tmp_path}" in out.stdout
    saved = sorted(tmp_path.glob("*.png"))
    assert len(saved) == 5 and len(list(tmp_path.glob("*.json"))) == 2
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in saved)


def test_sandbox_command_serves_on_a_port_and_prints_url_and_key() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "legnext_mcp.cli", "sandbox", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        assert f"http://127.0.0.1:{port}/api" in lines[1] and "sandbox-key" in lines[2]
        for _ in range(200):
            try:
                response = httpx2.get(f"http://127.0.0.1:{port}/api/account/balance",
                                      headers={"x-api-key": "sandbox-key"}, timeout=2)
                break
            except httpx2.TransportError:
                import time

                time.sleep(0.05)
        assert response.json()["code"] == 200
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_every_data_file_the_package_reads_is_shipped() -> None:
    """A file next to the code (schemas, the tool rows, the gallery view) that package-data leaves out works
    in a clone and breaks in an installed wheel."""
    import tomllib
    from fnmatch import fnmatch

    root = Path(__file__).resolve().parents[1]
    shipped = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["legnext_mcp"]
    package = root / "legnext_mcp"
    data = [p.relative_to(package).as_posix() for p in package.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc")]
    assert data, "no data files found"
    missing = [name for name in data if not any(fnmatch(name, pattern) for pattern in shipped)]
    assert not missing, f"add to [tool.setuptools.package-data]: {missing}"


def test_the_identity_module_and_pyjwt_load_only_for_an_oauth_http_server() -> None:
    code = ("import sys; from legnext_mcp.settings import Settings; from legnext_mcp.server.front import build_server; "
            "env = {'HOME': '/tmp', 'LEGNEXT_API_KEY': 'k', 'LEGNEXT_PUBLIC_URL': 'https://mcp.example.com'}; "
            "build_server(Settings.from_env(env), http=True); build_server(Settings.from_env(env)); "
            "before = sorted(m for m in ('jwt', 'legnext_mcp.server.identity') if m in sys.modules); "
            "oauth = Settings.from_env({**env, 'LEGNEXT_OAUTH_ISSUER': 'https://login.example.com'}); "
            "build_server(oauth); stdio = 'legnext_mcp.server.identity' in sys.modules; "
            "build_server(oauth, http=True); "
            "print(before, stdio, 'legnext_mcp.server.identity' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] False True"
