"""The agent-framework snippets of docs/frameworks.md, run exactly as printed: ``legnext-mcp`` on PATH, the
provider's base URL (an environment variable each SDK reads) pointed at the scripted stand-in."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from providers import Provider, assert_chain

PAGE = Path(__file__).resolve().parents[2] / "docs" / "frameworks.md"
SNIPPET = re.compile(r"<!-- snippet: ([\w-]+) -->\n```python\n(.*?)```", re.DOTALL)
SNIPPETS = dict(SNIPPET.findall(PAGE.read_text()))


def test_the_page_has_one_snippet_per_framework() -> None:
    assert set(SNIPPETS) == {"openai-agents", "pydantic-ai", "langchain", "anthropic", "google-genai"}


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_snippet_runs_as_printed(name: str, provider: Provider, server_bin: str, server_env: dict[str, str],
                                 tmp_path: Path) -> None:
    script = tmp_path / f"snippet_{name.replace('-', '_')}.py"  # not named like the package it imports
    script.write_text(SNIPPETS[name])
    env = {**server_env, "PATH": os.pathsep.join([str(Path(server_bin).parent), os.environ["PATH"]]),
           "OPENAI_BASE_URL": provider.url + "/v1", "OPENAI_API_KEY": "sk-stand-in",
           "ANTHROPIC_BASE_URL": provider.url, "ANTHROPIC_API_KEY": "sk-ant-stand-in",
           "GOOGLE_GEMINI_BASE_URL": provider.url, "GOOGLE_API_KEY": "stand-in",
           "OPENAI_AGENTS_DISABLE_TRACING": "1"}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=180,
                          check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert provider.turns, "the snippet never asked the model"
    assert_chain(provider, provider.turns[0].api)
    assert done.stdout.strip().splitlines()[-1] == provider.script.final
