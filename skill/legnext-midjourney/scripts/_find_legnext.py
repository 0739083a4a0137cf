"""Finds the ``legnext_mcp`` package for the scripts beside this file, wherever the skill folder was copied.
Importing this module does it (each script's first import, before any of the package's), so the scripts keep
their imports at the top.

In order: the Python running the script (``uv run`` installs the package from the PEP 723 header; a virtual
environment may have it); the repository this folder is part of (a checkout); the environment of the
``legnext-mcp`` command on PATH (installed with ``uv tool install`` or ``pipx``), by running the script again
with that environment's Python. Otherwise one line on stderr says how to install it, and the script exits 2
(bad usage or configuration: nothing was sent).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

#: Set on the re-run, so a broken installation cannot loop.
RERUN = "LEGNEXT_SKILL_RERUN"
INSTALL = ("legnext-midjourney: the legnext-mcp package is not installed for this Python. Install it with "
           "'uv tool install legnext-mcp' (or 'pipx install legnext-mcp'), or run the script with "
           "'uv run scripts/NAME.py', which installs it.")


def interpreter_of(command: str) -> str | None:
    """The Python of the environment a console script belongs to: its sibling ``python`` (a virtual environment's
    bin or Scripts folder, where uv tool and pipx put it), else its ``#!`` line."""
    script = Path(command).resolve()
    for name in ("python", "python3", "python.exe"):
        sibling = script.parent / name
        if sibling.is_file() and os.access(sibling, os.X_OK):
            return str(sibling)
    try:
        with script.open("rb") as handle:
            first = handle.readline(512).decode("utf-8", "replace").strip()
    except OSError:
        return None
    if first.startswith("#!") and "python" in first:
        interpreter = first[2:].split()[0]
        return interpreter if Path(interpreter).is_file() else None
    return None


def find() -> None:
    """Make ``import legnext_mcp`` work, re-run the script with the right Python, or exit 2 with the fix."""
    if importlib.util.find_spec("legnext_mcp") is not None:
        return
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "legnext_mcp" / "__init__.py").is_file():
        sys.path.insert(0, str(checkout))
        return
    command = shutil.which("legnext-mcp")
    python = interpreter_of(command) if command else None
    if python and not os.environ.get(RERUN):
        os.execve(python, [python, sys.argv[0], *sys.argv[1:]], {**os.environ, RERUN: "1"})  # noqa: S606
    print(f"error: {INSTALL}", file=sys.stderr)
    sys.exit(2)


find()
