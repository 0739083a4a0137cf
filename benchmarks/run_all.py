"""Run every benchmark against the sandbox and print the tables (Markdown, as in README "Performance").

    python -m benchmarks.run_all
"""

from __future__ import annotations

import datetime

import anyio

from benchmarks import call_overhead, cold_start, context_size, fanout, memory, polling
from benchmarks._common import machine


async def main() -> None:
    print(f"Measured {datetime.date.today():%Y-%m-%d} on {machine()}.\n")
    print(await cold_start.main())
    print(await call_overhead.main())
    print(polling.main())
    print(await fanout.main())
    print(await memory.main())
    print(await context_size.main())


if __name__ == "__main__":
    anyio.run(main)
