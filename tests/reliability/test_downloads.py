"""Scenario 6: files. save_images (and previews) refuse files over the size cap and answers that are not
images or videos, never leave a partial file under any name, and never overwrite a different file."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from legnext_mcp.sandbox import Fault
from tests.support import LoopbackHarness, loopback_harness, text_of

pytestmark = pytest.mark.anyio
CDN = "/cdn/"


async def finished_job(h: LoopbackHarness, prompt: str = "a fox") -> str:
    result = await h.call("generate_and_wait", {"prompt": prompt})
    assert result.structured_content["status"] == "completed", text_of(result)
    job_id: str = result.structured_content["job_id"]
    return job_id


def files_under(*roots: Path) -> list[Path]:
    return sorted(p for root in roots if root.exists() for p in root.rglob("*") if p.is_file())


def cached(h: LoopbackHarness) -> list[Path]:
    return files_under(h.settings.cache_dir)


@pytest.mark.parametrize(("fault", "words"), [
    (Fault("body", path_prefix=CDN, content_type="text/html", size=2_000), "text/html, not an image"),
    (Fault("body", path_prefix=CDN, content_type="image/png", size=300_000), "larger than the 100000 byte limit"),
    (Fault("drop", path_prefix=CDN, content_type="image/png"), "failed (RemoteProtocolError)"),
    (Fault("status", path_prefix=CDN, status=403), "HTTP 403"),
], ids=["a web page instead of an image", "a file over the cap, streamed without a length",
        "the connection drops mid-file", "the host refuses"])
async def test_a_bad_download_leaves_no_file_and_says_why(tmp_path: Path, fault: Fault, words: str) -> None:
    async with loopback_harness(tmp_path, download_max_bytes=100_000) as h:
        job_id = await finished_job(h)
        h.sandbox.engine.faults.add(fault)
        result = await h.call("save_images", {"job_id": job_id})
        assert result.is_error and words in text_of(result), text_of(result)
        # nothing under any name: no finished file, no .part, no sidecar, nothing cached
        assert files_under(h.settings.output_dir) == [] and cached(h) == []
        saved = await h.call("save_images", {"job_id": job_id})  # the next try works
        assert not saved.is_error, text_of(saved)
    names = sorted(p.name for p in files_under(h.settings.output_dir))
    assert names == sorted([f"{job_id}_{n}.png" for n in range(4)] + [f"{job_id}.json"])


async def test_a_preview_that_cannot_be_fetched_is_left_out_not_half_attached(tmp_path: Path) -> None:
    async with loopback_harness(tmp_path, download_max_bytes=100_000) as h:
        h.sandbox.engine.faults.add(Fault("body", path_prefix=CDN, content_type="image/png", size=300_000))
        result = await h.call("generate_and_wait", {"prompt": "a fox", "include_preview": True})
    assert not result.is_error and result.structured_content["status"] == "completed"
    assert [b.type for b in result.content if b.type == "image"] == []
    assert cached(h) == []


async def test_saving_again_reuses_identical_files_and_never_overwrites_a_different_one(tmp_path: Path) -> None:
    async with loopback_harness(tmp_path) as h:
        job_id = await finished_job(h)
        first = (await h.call("save_images", {"job_id": job_id, "folder": "foxes"})).structured_content
        again = (await h.call("save_images", {"job_id": job_id, "folder": "foxes"})).structured_content
        assert again["saved_files"] == first["saved_files"]  # same bytes: same names, no copies
        edited = Path(first["saved_files"][0])
        edited.write_bytes(b"the user's own edit")
        third = (await h.call("save_images", {"job_id": job_id, "folder": "foxes"})).structured_content
        other = await finished_job(h, "a cat")
        fourth = (await h.call("save_images", {"job_id": other, "folder": "foxes"})).structured_content
    assert edited.read_bytes() == b"the user's own edit"
    assert third["saved_files"][0] == str(edited.with_name(f"{job_id}_0-2.png"))
    assert third["saved_files"][1:4] == first["saved_files"][1:4]
    assert not set(fourth["saved_files"]) & set(first["saved_files"] + third["saved_files"])


async def test_concurrent_saves_of_one_job_agree_on_the_files(tmp_path: Path) -> None:
    async with loopback_harness(tmp_path) as h:
        job_id = await finished_job(h)
        results: list[list[str]] = []

        async def save() -> None:
            result = await h.call("save_images", {"job_id": job_id})
            assert not result.is_error, text_of(result)
            results.append(result.structured_content["saved_files"])

        async with anyio.create_task_group() as group:
            for _ in range(4):
                group.start_soon(save)
    assert all(files == results[0] for files in results)
    assert len(files_under(h.settings.output_dir)) == 5  # 4 images and the sidecar, no copies or leftovers
