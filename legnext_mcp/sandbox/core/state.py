"""Keeping a simulator's state in a folder, so a restarted ``--sandbox`` answers for the jobs it made before,
as the real API would (a new folder is a new account). One JSON file, replaced atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def load(folder: Path | None) -> dict[str, Any] | None:
    """The saved state, or None (no folder, no file yet, or a file that is not ours: start afresh)."""
    if folder is None:
        return None
    try:
        data = json.loads((folder / "state.json").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == 1 else None


def save(folder: Path | None, state: dict[str, Any]) -> None:
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".state.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump({"version": 1, **state}, handle)
        os.replace(tmp, folder / "state.json")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
