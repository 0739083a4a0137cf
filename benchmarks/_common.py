"""Helpers shared by the benchmarks: spawning MCP servers over stdio, process memory, statistics."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from mcp import StdioServerParameters

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = ROOT / "benchmarks" / "minimal_server.py"


def legnext_params(*args: str, env: dict[str, str] | None = None) -> StdioServerParameters:
    """``legnext-mcp`` over stdio, started as hosts start it (the installed command beside this Python; ``python
    -m legnext_mcp.cli`` where there is none), with a dummy key and a throwaway data dir (nothing reaches the
    network before a tool call)."""
    data = tempfile.mkdtemp(prefix="legnext-bench-")
    env = {**os.environ, "LEGNEXT_API_KEY": "bench-key", "LEGNEXT_DATA_DIR": data, "LEGNEXT_OUTPUT_DIR": data,
           **(env or {})}
    command = Path(sys.executable).with_name("legnext-mcp")
    if command.exists():
        return StdioServerParameters(command=str(command), args=list(args), env=env)
    return StdioServerParameters(command=sys.executable, args=["-m", "legnext_mcp.cli", *args], env=env)


def minimal_params() -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=[str(MINIMAL)], env=dict(os.environ))


def children_of(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def memory_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (pastes into the README as it is)."""
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    return (f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu}), "
            f"Python {platform.python_version()}")
