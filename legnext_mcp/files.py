"""Writing files safely: never a half-written file under its final name."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and rename, so a partial file is never left."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_new(path: Path, data: bytes) -> Path:
    """Write ``data`` as ``path``, or ``stem-2.ext``, ``stem-3.ext``... when another file has that name.

    A file already there with the same bytes is reused (saving twice is idempotent); a different one is
    never overwritten. The name is claimed with a hard link, so two writers cannot take the same one,
    and the file appears complete or not at all. Returns the path written (or reused).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        for n in range(1, 10_000):
            candidate = path if n == 1 else path.with_name(f"{path.stem}-{n}{path.suffix}")
            if candidate.exists():
                if candidate.stat().st_size == len(data) and candidate.read_bytes() == data:
                    return candidate
                continue
            try:
                os.link(tmp, candidate)
            except FileExistsError:  # another writer claimed it since: look at it again
                if candidate.read_bytes() == data:
                    return candidate
                continue
            except OSError:  # no hard links on this file system: rename (the name was free a moment ago)
                os.replace(tmp, candidate)
            return candidate
        raise FileExistsError(f"no free name for {path.name}")
    finally:
        Path(tmp).unlink(missing_ok=True)
