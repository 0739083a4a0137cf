"""The README is a landing page that reads the same on GitHub and on PyPI: every link and image absolute, and
every one into this repository pointing at a file (and heading) that exists; the docs/ pages link to each other
correctly; the first-run commands are there as written; and the Python token-client snippet of docs/hosts.md
runs as printed against a real token-protected server."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

from legnext_mcp.server.guard import UNAUTHORIZED

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
REPO = "legnext-ai/legnext-mcp"
#: Where this repository's files are, as links from PyPI must name them.
OURS = re.compile(rf"^https://(?:github\.com/{REPO}/(?:blob|tree)/main|raw\.githubusercontent\.com/{REPO}/main)/"
                  r"(?P<path>[^#?]+)(?:#(?P<anchor>.+))?$")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
SNIPPET = re.compile(r"<!-- snippet: python-token-client -->\n```python\n(.*?)```", re.S)


def links(text: str) -> list[str]:
    """Markdown link and image targets outside code blocks."""
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    return LINK.findall(re.sub(r"`[^`\n]*`", "", prose))


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    prose = re.sub(r"```.*?```", "", markdown, flags=re.S)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            for heading in re.findall(r"^#{1,6} (.+)$", prose, re.M)}


def check_target(path: Path, anchor: str | None, origin: str) -> None:
    assert path.exists(), f"{origin}: {path.relative_to(ROOT)} does not exist"
    if anchor:
        assert path.suffix == ".md" and anchor in anchors(path.read_text(encoding="utf-8")), \
            f"{origin}: no heading #{anchor} in {path.relative_to(ROOT)}"


def test_every_readme_link_and_image_is_absolute_and_every_one_into_the_repository_exists() -> None:
    found = links(README)
    assert len(found) > 20
    relative = [target for target in found if not target.startswith(("https://", "mailto:"))]
    assert not relative, f"relative links break on PyPI: {relative}"
    ours = [OURS.match(target) for target in found]
    assert sum(match is not None for match in ours) > 15
    for match in filter(None, ours):
        check_target(ROOT / match["path"], match["anchor"], "README")
    # images too: the gallery screenshot is shown from the repository, not a relative path
    assert re.search(r"!\[[^\]]+\]\(https://raw\.githubusercontent\.com/", README)


def test_the_readme_is_a_landing_page_with_the_first_run_commands_and_the_registry_marker() -> None:
    assert len(README.encode()) < 10_000  # was 69 kB of reference, now in docs/
    for line in ("python3 -m venv .venv && . .venv/bin/activate", "python -m pip install . && legnext-mcp demo",
                 'python -m pip install -e ".[dev]" && python -m pytest',
                 "claude mcp add --scope user legnext -e LEGNEXT_API_KEY=your-key -- uvx legnext-mcp"):
        assert line in README, line
    assert "<!-- mcp-name: io.github.legnext-ai/legnext-mcp -->" in README
    assert '"command": "legnext-mcp"' not in README  # a bare command fails on macOS Desktop (spawn ENOENT)


def test_the_link_checker_finds_a_broken_link() -> None:
    with pytest.raises(AssertionError, match="does not exist"):
        check_target(ROOT / "docs" / "nothing-here.md", None, "test")
    with pytest.raises(AssertionError, match="no heading"):
        check_target(ROOT / "docs" / "tools.md", "no-such-heading", "test")
    assert links("[a](b) `[c](d)` ![e](https://f)") == ["b", "https://f"]


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "docs").glob("*.md")))
def test_links_between_the_docs_pages_resolve(page: str) -> None:
    path = ROOT / "docs" / page
    for target in links(path.read_text(encoding="utf-8")):
        if target.startswith(("https://", "http://", "mailto:")):
            match = OURS.match(target)
            if match:
                check_target(ROOT / match["path"], match["anchor"], page)
            continue
        file, _, anchor = target.partition("#")
        check_target((path.parent / file).resolve() if file else path, anchor or None, page)


def test_the_docs_index_lists_every_page() -> None:
    index = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    pages = {p.name for p in (ROOT / "docs").glob("*.md")} - {"README.md"}
    assert pages <= set(re.findall(r"\]\(([\w-]+\.md)\)", index))


def test_the_registry_icon_is_a_file_of_this_repository() -> None:
    for icon in json.loads((ROOT / "server.json").read_text())["icons"]:
        match = OURS.match(icon["src"])
        assert match, icon["src"]
        check_target(ROOT / match["path"], None, "server.json")


def test_the_python_token_client_of_the_docs_runs_against_a_token_protected_server(tmp_path: Path) -> None:
    snippet = SNIPPET.search((ROOT / "docs" / "hosts.md").read_text(encoding="utf-8"))
    assert snippet, "docs/hosts.md lost its python-token-client snippet"
    (tmp_path / "token_client.py").write_text(snippet.group(1))
    token = "t0ken-" + "x" * 30
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    env.update(LEGNEXT_DATA_DIR=str(tmp_path / "data"), LEGNEXT_HTTP_TOKEN=token)
    server = subprocess.Popen([sys.executable, "-m", "legnext_mcp.cli", "--sandbox", "--transport", "http",
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
    try:
        assert server.stderr is not None
        assert "bearer token required" in server.stderr.readline()  # printed once it listens
        url = f"http://127.0.0.1:{port}/mcp"
        refused = httpx2.post(url, json={}, timeout=10)
        assert refused.status_code == 401 and refused.json() == UNAUTHORIZED
        assert "fixed bearer token" in refused.json()["error_description"] and "not OAuth" in refused.text
        run = subprocess.run([sys.executable, str(tmp_path / "token_client.py")], capture_output=True, text=True,
                             timeout=60, env={**env, "LEGNEXT_MCP_URL": url})
        assert run.returncode == 0, run.stderr
        assert run.stdout.startswith("29 tools: generate_and_wait, imagine, upscale ...")
        wrong = subprocess.run([sys.executable, str(tmp_path / "token_client.py")], capture_output=True, text=True,
                               timeout=60, env={**env, "LEGNEXT_MCP_URL": url, "LEGNEXT_HTTP_TOKEN": "wrong" * 5})
        assert wrong.returncode != 0 and "29 tools" not in wrong.stdout
    finally:
        server.terminate()
        server.communicate(timeout=10)
