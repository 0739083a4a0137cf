"""Writing files safely: never a half-written file under its final name, never outside its folder, never
over someone else's file, and with the permissions the user's umask gives."""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
from pathlib import Path

#: A hidden temporary file older than this was left by a process that died mid-write.
STALE_PART_S = 600.0
_umask_lock = threading.Lock()


def current_umask() -> int:
    """The process umask, read without a window where it is changed (Linux), else read and restored."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def inside(base: Path, name: str) -> Path:
    """``base / name``, refused unless it stays inside ``base`` (no separators, no ``..``, no absolute path).

    Raises:
        ValueError: the name would leave the folder.
    """
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise ValueError(f"{name[:60]!r} is not a plain file name")
    path = base / name
    if not path.resolve().is_relative_to(base.resolve()):
        raise ValueError(f"{name[:60]!r} would leave {base}")
    return path


def _temporary(folder: Path, name: str, data: bytes) -> str:
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; saved pictures are the user's files
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and rename, so a partial file is never left."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path.parent, path.name, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_new(path: Path, data: bytes) -> Path:
    """Write ``data`` as ``path``, or ``stem-2.ext``, ``stem-3.ext``... when another file has that name.

    A file already there with the same bytes is reused (saving twice is idempotent); a different one is
    never overwritten. The name is claimed with a hard link, so two writers cannot take the same one, and
    the file appears complete or not at all. Returns the path written (or reused).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path.parent, path.name, data)
    try:
        for n in range(1, 10_000):
            candidate = path if n == 1 else path.with_name(f"{path.stem}-{n}{path.suffix}")
            if candidate.is_symlink() and not candidate.exists():
                continue  # a dangling link: its name is taken, and following it would write elsewhere
            if candidate.exists():
                if candidate.is_file() and candidate.stat().st_size == len(data) and candidate.read_bytes() == data:
                    return candidate
                continue
            try:
                os.link(tmp, candidate)
            except FileExistsError:  # another writer claimed it since: look at it again
                if candidate.is_file() and candidate.read_bytes() == data:
                    return candidate
                continue
            except OSError:  # no hard links on this file system: rename (the name was free a moment ago)
                os.replace(tmp, candidate)
            return candidate
        raise FileExistsError(f"no free name for {path.name}")
    finally:
        Path(tmp).unlink(missing_ok=True)


_PART = re.compile(r"\..+\.[A-Za-z0-9_]{8}\.part")


def clean_stale_parts(folder: Path, older_than: float = STALE_PART_S) -> int:
    """Remove the hidden ``.NAME.XXXXXXXX.part`` files a killed writer left in ``folder``; returns how many."""
    removed = 0
    if not folder.is_dir():
        return 0
    cutoff = time.time() - older_than
    for entry in folder.iterdir():
        try:
            if _PART.fullmatch(entry.name) and entry.is_file() and entry.stat().st_mtime < cutoff:
                entry.unlink()
                removed += 1
        except OSError:
            continue
    return removed
