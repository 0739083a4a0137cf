"""The ledger's cost as history grows and as processes share it (SQLite, the default store):

* a reservation (the budget's check and the intent's write) with a daily limit set, at 0, 10,000 and 100,000 jobs
  recorded in the last 24 hours (goal: <= 1 ms at 100,000);
* the ledger's wall time per job a wait follows to the end (reserve, the answer, the snapshots of a typical wait:
  goal <= 2 ms);
* the p99 of a submit's ledger writes with 4 processes on one file.

    python -m benchmarks.ledger

LEGNEXT_BENCH_PYTHON runs the same measurements with another installation (an earlier version: its ledger
module and API are detected), so before and after come from one run on one machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from benchmarks._common import table

#: Runs inside the measured installation: prints JSON of the figures.
PROBE = r'''
import anyio, inspect, json, multiprocessing, sqlite3, statistics, sys, time, uuid
from pathlib import Path
try:
    from legnext_mcp.ledger import SqliteLedger as Store
    from legnext_mcp.ledger import Cap
    NEW = True
except ImportError:
    from legnext_mcp.ledger import Ledger as Store
    NEW = False
from legnext_mcp.core.job import Job, JobStatus

DAY = 86400

async def reserve(ledger, n, cap=None):
    if NEW:
        caps = [Cap(cap, "LEGNEXT_MAX_POINTS_PER_DAY")] if cap else []
        return await ledger.reserve("legnext", task_type="diffusion", prompt="p", parent_job_id=None, request={},
                                    points=80, unit="points", caps=caps, since=time.time() - DAY)
    intent, _ = await ledger.reserve("legnext", task_type="diffusion", prompt="p", parent_job_id=None, request={},
                                     points=80, cap=cap, since=time.time() - DAY)
    return intent

def fill(path, count):
    """count completed jobs in the last 24 hours, written as a ledger of this version would hold them."""
    if not count:
        return
    db = sqlite3.connect(path)
    columns = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
    now = time.time()
    rows = []
    for n in range(count):
        at = now - (n % 80000)
        job = Job(dialect="legnext", job_id=f"h{n}", task_type="diffusion", status=JobStatus.COMPLETED, consumed=80,
                  frozen=80).model_dump_json()
        row = {"dialect": "legnext", "job_id": f"h{n}", "task_type": "diffusion", "status": "completed",
               "job_json": job, "raw_json": "{}", "points_frozen": 80, "points_consumed": 80, "recorded_at": at,
               "updated_at": at, "counted": 80}
        rows.append({k: v for k, v in row.items() if k in columns})
    keys = list(rows[0])
    db.executemany(f"INSERT INTO jobs ({', '.join(keys)}) VALUES ({', '.join('?' for _ in keys)})",
                   [tuple(r[k] for k in keys) for r in rows])
    if "counted" in columns:  # the buckets of this version, rebuilt as its migration does
        db.execute("DELETE FROM spend")
        db.execute("INSERT INTO spend (dialect, scope, minute, amount) SELECT dialect, '', CAST(recorded_at / 60 AS "
                   "INTEGER) AS m, SUM(counted) FROM jobs GROUP BY dialect, m")
    db.commit()
    db.close()

async def reserve_cost(folder, count):
    path = Path(folder) / f"r{count}.sqlite3"
    ledger = Store(path)
    await ledger.open()
    fill(path, count)
    times = []
    for _ in range(30):
        started = time.perf_counter()
        intent = await reserve(ledger, 0, cap=10**9)
        times.append(time.perf_counter() - started)
        await ledger.release(intent)
    await ledger.close()
    return statistics.median(times) * 1000

async def per_job(folder):
    ledger = Store(Path(folder) / "job.sqlite3")
    await ledger.open()
    started = time.perf_counter()
    for n in range(100):
        intent = await reserve(ledger, n)
        job = Job(dialect="legnext", job_id=f"j{n}", task_type="diffusion", status=JobStatus.PENDING, frozen=80)
        await ledger.submitted(intent, job, prompt="p", parent_job_id=None, request={}, estimate=80)
        # a typical wait: 7 looks, the job changing twice (processing, completed)
        last = "pending"
        for status in ("pending", "pending", "processing", "processing", "processing", "processing", "completed"):
            if NEW and status == last:
                continue  # this version's waits record a snapshot only when something a user can see changed
            last = status
            await ledger.record(job.model_copy(update={"status": JobStatus(status)}))
    elapsed = (time.perf_counter() - started) * 10  # ms per job (100 jobs)
    await ledger.close()
    return elapsed

def submitter(path, count, out):
    async def run():
        ledger = Store(Path(path))
        await ledger.open()
        times = []
        for n in range(count):
            started = time.perf_counter()
            intent = await reserve(ledger, n)
            job = Job(dialect="legnext", job_id=f"p{uuid.uuid4().hex}", task_type="diffusion",
                      status=JobStatus.PENDING, frozen=80)
            await ledger.submitted(intent, job, prompt="p", parent_job_id=None, request={}, estimate=80)
            times.append(time.perf_counter() - started)
        await ledger.close()
        out.put(times)
    anyio.run(run)

async def main(folder):
    figures = {"reserve_ms": {}}
    for count in (0, 10_000, 100_000):
        figures["reserve_ms"][count] = await reserve_cost(folder, count)
    figures["per_job_ms"] = await per_job(folder)
    path = str(Path(folder) / "shared.sqlite3")
    first = Store(Path(path))
    await first.open()
    await first.close()
    queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=submitter, args=(path, 100, queue)) for _ in range(4)]
    for w in workers:
        w.start()
    times = sorted(t for _ in workers for t in queue.get())
    for w in workers:
        w.join()
    figures["submit_p50_ms"] = statistics.median(times) * 1000
    figures["submit_p99_ms"] = times[int(len(times) * 0.99) - 1] * 1000
    print(json.dumps(figures))

anyio.run(main, sys.argv[1])
'''


def measure(python: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="legnext-ledger-") as folder:
        script = os.path.join(folder, "probe.py")  # a file, not -c: the 4 processes are forked from it
        with open(script, "w") as handle:
            handle.write(PROBE)
        out = subprocess.run([python, script, folder], capture_output=True, text=True, check=False, cwd=folder)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-2000:])
    figures: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def main() -> str:
    runs = {"this version": measure(sys.executable)}
    other = os.environ.get("LEGNEXT_BENCH_PYTHON")
    if other:
        runs = {"earlier version": measure(other), **runs}
    rows: list[list[object]] = []
    for name, figures in runs.items():
        reserve = figures["reserve_ms"]
        assert isinstance(reserve, dict)
        rows.append([name, f"{reserve['0']:.2f} / {reserve['10000']:.2f} / {reserve['100000']:.2f} ms",
                     f"{figures['per_job_ms']:.2f} ms",
                     f"{figures['submit_p50_ms']:.1f} / {figures['submit_p99_ms']:.1f} ms"])
    rows.append(["goal", "<= 1 ms at 100k", "<= 2 ms", "(reported)"])
    return table("Ledger (SQLite): reserve with a daily limit at 0 / 10k / 100k jobs in 24 h; ledger time per waited "
                 "job; a submit's writes with 4 processes on one file (p50 / p99)",
                 ["version", "reserve", "per waited job", "4-process submit"], rows)


if __name__ == "__main__":
    print(main())
