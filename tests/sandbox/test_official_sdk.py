"""The unmodified official SDK (``legnext==0.3.0``) against the simulator on a real port: every method it has.

Each completes, except where the SDK itself is wrong by the docs (README "The official SDK"): its inpaint
sends multipart (the API takes JSON), its video_diffusion has no job_id/image_no mode, it has no Topaz method,
and its PanDirection enum is off by the docs (we pass the documented integers)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from legnext import Client
from legnext.types.canvas import Canvas, CanvasImg, Mask, Polygon

from legnext_mcp.sandbox import DEFAULT_KEY, Engine, SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox

IMG = "https://example.com/cat.png"
SQUARE = Polygon(width=1024, height=1024, points=[10, 10, 10, 500, 500, 500, 500, 10])


@pytest.fixture(scope="module")
def sdk() -> Iterator[tuple[Any, SandboxApp]]:
    app = SandboxApp(Engine(time_scale=2000, seed=9))
    with LoopbackSandbox(app) as server, Client(api_key=DEFAULT_KEY, base_url=server.base_url) as client:
        yield client, app


def done(client: Any, job_id: str) -> Any:
    return client.tasks.wait_for_completion(job_id, timeout=30, poll_interval=0.05)


def test_every_method_of_the_official_sdk_completes(sdk: tuple[Any, SandboxApp]) -> None:
    client, app = sdk
    draft = done(client, client.midjourney.diffusion(text="a fox --v 7 --draft").job_id)
    video = done(client, client.midjourney.video_diffusion(prompt=f"{IMG} waves --bs 2").job_id)
    parent, clip = draft.job_id, video.job_id
    calls: dict[str, Callable[[], Any]] = {
        "variation": lambda: client.midjourney.variation(job_id=parent, image_no=1, type=1, remix_prompt="autumn"),
        "upscale": lambda: client.midjourney.upscale(job_id=parent, image_no=2, type=1),
        "reroll": lambda: client.midjourney.reroll(job_id=parent),
        "blend": lambda: client.midjourney.blend(img_urls=[IMG, IMG], aspect_ratio="3:2"),
        "describe": lambda: client.midjourney.describe(img_url=IMG),
        "shorten": lambda: client.midjourney.shorten(prompt="a very long and wordy prompt about a fox in snow"),
        "pan": lambda: client.midjourney.pan(job_id=parent, image_no=0, direction=3, scale=1.5),
        "outpaint": lambda: client.midjourney.outpaint(job_id=parent, image_no=3, scale=1.3),
        "remix": lambda: client.midjourney.remix(job_id=parent, image_no=0, remix_prompt="as a statue", mode=1),
        "edit": lambda: client.midjourney.edit(job_id=parent, image_no=0, canvas=Canvas(width=1024, height=1024),
                                               img_pos=CanvasImg(width=512, height=512, x=256, y=256),
                                               remix_prompt="on a beach"),
        "upload_paint": lambda: client.midjourney.upload_paint(
            img_url=IMG, canvas=Canvas(width=1024, height=1024), img_pos=CanvasImg(width=512, height=512, x=0, y=0),
            remix_prompt="a garden", mask=Mask(areas=[SQUARE])),
        "retexture": lambda: client.midjourney.retexture(img_url=IMG, remix_prompt="made of glass"),
        "remove_background": lambda: client.midjourney.remove_background(img_url=IMG),
        "enhance": lambda: client.midjourney.enhance(job_id=parent, image_no=1),
        "extend_video": lambda: client.midjourney.extend_video(job_id=clip, video_no=1, prompt="keep going"),
        "video_upscale": lambda: client.midjourney.video_upscale(job_id=clip, video_no=0),
    }
    results = {"diffusion": draft.status, "video_diffusion": video.status}
    for name, call in calls.items():
        submitted = call()  # parses the submit answer (it failed on created_at: "" before)
        results[name] = done(client, submitted.job_id).status
    assert {name: str(getattr(status, "value", status)) for name, status in results.items()} == \
        dict.fromkeys(results, "completed")
    balance = client.account.balance()
    assert balance.available_credits + balance.available_points == sum(
        a.available for a in app.engine.accounts.values())
    assert client.tasks.get(parent).job_id == parent


def test_the_sdks_own_bugs_are_what_the_readme_says(sdk: tuple[Any, SandboxApp]) -> None:
    from legnext.types.enums import PanDirection

    client, _ = sdk
    documented = {"DOWN": 0, "RIGHT": 1, "UP": 2, "LEFT": 3}  # 15-pan.md
    assert {d.name: d.value for d in PanDirection if d.name in documented} != documented
    assert not hasattr(client.midjourney, "enhance_upscale")  # no Topaz method
    with pytest.raises(Exception):  # noqa: B017, PT011 - the SDK raises its own error for the API's 400
        client.midjourney.inpaint(job_id="x", image_no=0, mask=b"\x89PNG")  # multipart: the API takes JSON
