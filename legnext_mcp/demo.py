"""The main job, end to end, against the built-in simulator: describe -> imagine -> upscale -> save.

Runs with no key and no network: the simulator is served in-process through ``httpx2.ASGITransport``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import anyio
import httpx2

from legnext_mcp.api import (
    DescribeRequest,
    DiffusionRequest,
    Job,
    LegnextClient,
    LegnextError,
    UpscaleRequest,
    UpscaleType,
)


def _say(text: str) -> None:
    print(text, flush=True)


async def _demo(time_scale: float, output_dir: Path) -> None:
    from legnext_mcp.sandbox import DEFAULT_KEY, Engine, SandboxApp

    app = SandboxApp(Engine(time_scale=time_scale))
    transport = httpx2.ASGITransport(app)
    start = time.monotonic()

    async def progress(job: Job) -> None:
        _say(f"    ... {job.status.value:<10} {time.monotonic() - start:5.1f}s  job {job.job_id}")

    async with LegnextClient(DEFAULT_KEY, base_url="http://sandbox.local/api", transport=transport,
                             download_transport=transport, time_scale=time_scale) as client:
        balance = await client.balance()
        _say(f"sandbox balance: {balance.total_points} points (${balance.balance_usd:.2f})")

        _say("1. describe https://example.com/red-fox-in-snow.jpg")
        described = await client.submit(DescribeRequest(image_url="https://example.com/red-fox-in-snow.jpg"))
        described = await client.wait(described.job_id, timeout=60, on_poll=progress, known=described)
        for n, text in enumerate(described.output.prompts, 1):
            _say(f"   prompt {n}: {text}")

        prompt = described.output.prompts[0].replace("--ar 1:1", "--ar 3:2 --v 7")
        _say(f"2. imagine {prompt!r}")
        job = await client.submit(DiffusionRequest(text=prompt))
        job = await client.wait(job.job_id, timeout=120, on_poll=progress, known=job)
        _say(f"   job {job.job_id} completed, seed {job.output.seed}, cost {job.meta.usage.consume} points")
        _say(f"   grid: {job.output.image_url}")
        for n, url in enumerate(job.output.image_urls):
            _say(f"   image {n}: {url}")

        _say("3. upscale image 0 (creative)")
        upscale = await client.submit(UpscaleRequest(job_id=job.job_id, image_no=0, type=UpscaleType.CREATIVE))
        upscale = await client.wait(upscale.job_id, timeout=120, on_poll=progress, known=upscale)

        _say(f"4. save to {output_dir}")
        await anyio.Path(output_dir).mkdir(parents=True, exist_ok=True)
        for n, url in enumerate([*job.output.image_urls, *upscale.output.image_urls]):
            name = f"{job.job_id}_{n}.png" if n < 4 else f"{upscale.job_id}_0.png"
            download = await client.download(url)
            await anyio.Path(output_dir / name).write_bytes(download.content)
            _say(f"   {output_dir / name} ({len(download.content)} bytes, {download.content_type})")
        balance = await client.balance()
        _say(f"done in {time.monotonic() - start:.1f}s; balance now {balance.total_points} points")


def run_demo(*, time_scale: float, output_dir: str | None) -> int:
    """Run the demo, printing each step; 0 on success, 1 if any call failed."""
    target = Path(output_dir) if output_dir else Path(tempfile.mkdtemp(prefix="legnext-demo-"))
    try:
        anyio.run(_demo, time_scale, target.resolve())
    except LegnextError as exc:
        print(f"demo failed: {exc}", flush=True)
        return 1
    return 0
