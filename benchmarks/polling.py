"""Polling: detection lag (completion -> our GET that sees it) and GETs per job for our schedule
(legnext_mcp.core.policy with the Legnext poll classes: what every wait runs) against two baselines: a
fixed 3 s poll (the official Python SDK) and 10 s then every 5 s (the official skill). Goal: our lag <= the
3 s baseline's, with no more GETs than the 10/5 baseline.

Job durations are drawn uniformly from the ranges the docs give (images 30-80 s, 40-skill-api-reference.md;
v8/turbo/draft images 8-20 s from "under 15 s" and "up to 4x faster"); where the docs are silent, from
the simulator's assumptions (describe/shorten 3-10 s, upscales 10-30 s, video 60-120 s). The schedule is
replayed on a virtual clock: deterministic, seeded, no sleeping.

With callbacks (LEGNEXT_PUBLIC_URL), the last column: the fallback schedule's looks before the job ends, plus the
one read the callback triggers (goal <= 1.2 per job on the mix); the callback's own lag is measured for real by
benchmarks/callbacks.py.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from benchmarks._common import median, p95, table
from legnext_mcp.core import policy
from legnext_mcp.dialects.legnext.client import poll_plan

#: class -> (task type, prompt, documented or assumed duration range in seconds, share of a typical mix)
CLASSES: dict[str, tuple[str, str | None, tuple[float, float], float]] = {
    "image (v6-v7)": ("diffusion", "a fox --v 7", (30, 80), 0.50),
    "image fast (v8, turbo, draft)": ("diffusion", "a fox --v 8.1", (8, 20), 0.15),
    "upscale / single image": ("upscale", None, (10, 30), 0.20),
    "describe / shorten": ("describe", None, (3, 10), 0.10),
    "video": ("video-diffusion", None, (60, 120), 0.05),
}
Schedule = Callable[[float, int], float]  # (elapsed, polls so far) -> next delay


def ours(task_type: str, prompt: str | None) -> Schedule:
    plan = poll_plan(task_type, prompt)
    return lambda elapsed, polls: policy.next_poll_delay(plan, elapsed, polls)


def callbacks(task_type: str, prompt: str | None) -> Schedule:
    """The fallback schedule with LEGNEXT_PUBLIC_URL (policy.fallback_poll_delay)."""
    plan = poll_plan(task_type, prompt)
    return lambda elapsed, polls: policy.fallback_poll_delay(plan, elapsed, polls)


def called_back(duration: float, schedule: Schedule) -> tuple[float, int]:
    """(lag, GETs) when the API calls back as the job ends: the fallback's looks before the end, then one read.
    The lag is the callback's path (a POST, one GET), measured for real by benchmarks/callbacks.py: 0 here."""
    now, polls = 0.0, 0
    while True:
        now += schedule(now, polls)
        if now >= duration:
            return 0.0, polls + 1
        polls += 1


def fixed_3s(elapsed: float, polls: int) -> float:
    return 3.0


def skill_10_then_5(elapsed: float, polls: int) -> float:
    return 10.0 if polls == 0 else 5.0


def detect(duration: float, schedule: Schedule) -> tuple[float, int]:
    """(lag, GETs) for a job finishing ``duration`` s after submit, polled per ``schedule``."""
    now, polls = 0.0, 0
    while True:
        now += schedule(now, polls)
        polls += 1
        if now >= duration:
            return now - duration, polls


def main(jobs: int = 2000, seed: int = 7) -> str:
    rng = random.Random(seed)
    rows: list[list[object]] = []
    mix: dict[str, list[tuple[float, int]]] = {"ours": [], "3s": [], "10/5": [], "callbacks": []}
    for name, (task_type, prompt, (low, high), share) in CLASSES.items():
        durations = [rng.uniform(low, high) for _ in range(jobs)]
        results = {label: [detect(d, schedule) for d in durations]
                   for label, schedule in (("ours", ours(task_type, prompt)), ("3s", fixed_3s),
                                           ("10/5", skill_10_then_5))}
        results["callbacks"] = [called_back(d, callbacks(task_type, prompt)) for d in durations]
        for label, found in results.items():
            mix[label] += found[: round(jobs * share)]
        rows.append([name, f"{low:g}-{high:g} s", *_cells(results)])
    rows.append(["**typical mix** (shares in polling.py)", "", *_cells(mix)])
    return table(f"Polling: detection lag and GETs per job ({jobs} jobs per class)",
                 ["jobs", "duration", "ours lag median / p95", "ours GETs", "3 s lag median / p95", "3 s GETs",
                  "10/5 lag median / p95", "10/5 GETs", "with callbacks: GETs"], rows)


def _cells(results: dict[str, list[tuple[float, int]]]) -> list[str]:
    cells = []
    for label in ("ours", "3s", "10/5"):
        lags = [lag for lag, _ in results[label]]
        gets = [n for _, n in results[label]]
        cells += [f"{median(lags):.1f} / {p95(lags):.1f} s", f"{sum(gets) / len(gets):.1f}"]
    gets = [n for _, n in results["callbacks"]]
    return [*cells, f"{sum(gets) / len(gets):.2f}"]


if __name__ == "__main__":
    print(main())
