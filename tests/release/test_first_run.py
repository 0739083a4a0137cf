"""The README's first run, exactly as printed, in a fresh copy of the repository and a new virtual environment
(the venv line is what makes it work where the system Python refuses pip, PEP 668)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.release.conftest import REPO, clean_env, run


def test_the_readme_first_run_works_as_printed(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    block = re.search(r"## Try it in a minute.*?```bash\n(.*?)```", readme, re.S)
    assert block, "the README lost its first-run block"
    lines = [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert lines == ["python3 -m venv .venv && . .venv/bin/activate", "python -m pip install . && legnext-mcp demo"]
    clone = tmp_path / "legnext-mcp"
    shutil.copytree(REPO, clone, ignore=shutil.ignore_patterns(".git", "node_modules", ".venv", "venv", "build",
                                                               "dist", "*.egg-info", "__pycache__", ".*_cache"))
    out = run(["bash", "-ec", "\n".join(lines)], cwd=clone, env=clean_env(HOME=str(tmp_path)), timeout=900)
    assert "7 files (images and JSON sidecars)" in out.stdout, out.stdout
    assert len(list((clone / "legnext-demo").glob("*.png"))) == 5
