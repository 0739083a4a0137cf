"""The prompt rules of legnext_mcp.api.prompt, table-driven, plus the typed-parameter property test.

Each rule has an accepted and a rejected prompt. Accepted prompts are submitted to the simulator and
must be accepted there; rejected ones must fail locally with a message naming the flag. (That a
rejected prompt sends no HTTP request through the MCP tools is proven in tests/server/test_spending.py.)
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from legnext_mcp.api import DiffusionRequest, InvalidRequestError, LegnextClient, VideoDiffusionRequest, build_request
from legnext_mcp.core.errors import PromptError
from legnext_mcp.core.prompt import FLAGS, VERSIONS, merge_prompt, parse_prompt
from legnext_mcp.sandbox import Engine, SandboxApp
from legnext_mcp.server.args import ImagineArgs
from legnext_mcp.server.guide import parameters_guide
from tests.cases import RULES, URL, VIDEO_RULES
from tests.support import FAST, make_client

pytestmark = pytest.mark.anyio
@pytest.fixture
async def pro_client() -> Any:
    async with make_client(SandboxApp(Engine(time_scale=FAST, seed=5, pro=True))) as client:
        yield client


@pytest.mark.parametrize(("rule", "accepted", "rejected", "words"), RULES, ids=[r[0] for r in RULES])
async def test_each_image_rule_accepts_one_prompt_and_refuses_another(
        pro_client: LegnextClient, rule: str, accepted: str, rejected: str, words: tuple[str, ...]) -> None:
    job = await pro_client.submit(DiffusionRequest(text=accepted))  # the simulator agrees it is valid
    assert job.status.value != "failed", rule
    with pytest.raises(PromptError) as caught:
        parse_prompt(rejected)
    for word in words:
        assert word in caught.value.message, (rule, caught.value.message)
    with pytest.raises(InvalidRequestError, match="Nothing was sent") as built:
        build_request(DiffusionRequest, text=rejected)
    assert built.value.local


@pytest.mark.parametrize(("rule", "accepted", "rejected", "words"), VIDEO_RULES, ids=[r[0] for r in VIDEO_RULES])
async def test_each_video_rule_accepts_one_prompt_and_refuses_another(
        pro_client: LegnextClient, rule: str, accepted: str, rejected: str, words: tuple[str, ...]) -> None:
    job = await pro_client.submit(VideoDiffusionRequest(prompt=accepted))
    assert job.status.value != "failed", rule
    with pytest.raises(PromptError) as caught:
        parse_prompt(rejected, video=True)
    for word in words:
        assert word in caught.value.message, (rule, caught.value.message)


def test_errors_name_the_flag_the_model_and_the_fix() -> None:
    with pytest.raises(PromptError) as caught:
        parse_prompt("a lighthouse --v 8.1 --q 2")
    assert caught.value.message == (
        "--q is not supported on model v8.1: v8.1 has no quality tiers (HD is the default). Remove --q or "
        "choose a model that has it (v6, v6.1, v7, v8, niji 6). Nothing was sent.")


def test_the_default_model_is_v7() -> None:
    assert parse_prompt("a fox").version == "7"
    assert parse_prompt("a fox --draft").draft


@pytest.mark.parametrize(("params", "expected"), [
    ({"aspect_ratio": "16:9", "version": "7", "stylize": 250, "raw": True, "speed": "turbo"},
     "a fox --ar 16:9 --s 250 --turbo --v 7 --raw"),
    ({"version": "niji 6", "chaos": 20, "quality": 0.5}, "a fox --q 0.5 --c 20 --niji 6"),
    ({"seed": 42, "no": "cars, people", "sref": URL, "sw": 200},
     f"a fox --seed 42 --sref {URL} --sw 200 --no cars, people"),
    ({}, "a fox"),
])
def test_typed_parameters_render_as_flags_in_the_documented_order(params: dict[str, Any], expected: str) -> None:
    assert merge_prompt("a fox", params) == expected


@pytest.mark.parametrize(("prompt", "params", "words"), [
    ("a fox --ar 1:1", {"aspect_ratio": "16:9"}, ("aspect_ratio", "twice", "--ar")),
    ("a fox --fast", {"speed": "turbo"}, ("speed", "--fast")),
    ("a fox --v 7", {"version": "niji 6"}, ("version", "--v")),
    ("a fox --niji 6", {"version": "7"}, ("version", "--niji")),
    ("a fox", {"version": "8.1", "quality": 2}, ("--q", "v8.1")),
    ("a fox", {"version": "8", "draft": True}, ("--draft", "v8")),
])
def test_typed_parameters_that_clash_with_the_prompt_are_refused(prompt: str, params: dict[str, Any],
                                                               words: tuple[str, ...]) -> None:
    with pytest.raises(PromptError) as caught:
        merge_prompt(prompt, params)
    assert all(w in caught.value.message for w in words), caught.value.message


def _sample(flag_name: str, version: str) -> str:
    flag = next(f for f in FLAGS if f.name == flag_name)
    value = {"ratio": "3:2", "int": f"{flag.low:g}", "number": f"{flag.low:g}", "text": URL, "switch": "",
             "optional-int": "", "optional-text": "", "url": URL, "urls": URL, "style": URL}.get(flag.kind)
    if value is None:
        value = (flag.values_for(version) or ("1",))[0]
    return f"--{flag.name} {value}".strip()


def test_the_parameter_guide_lists_exactly_the_models_the_validator_accepts() -> None:
    guide = parameters_guide()
    for flag in FLAGS:
        if flag.name in ("v", "niji"):
            continue
        row = next(line for line in guide.splitlines() if line.startswith(f"| `--{flag.name}`"))
        models = row.rsplit("|", 2)[1].strip()
        for version in VERSIONS:
            model = "--niji 6" if version == "niji 6" else f"--v {version}"
            try:
                parse_prompt(f"a fox {_sample(flag.name, version)} {model}")
                accepted = True
            except PromptError:
                accepted = False
            label = version if version.startswith("niji") else f"v{version}"
            listed = models == "all" or label in [m.strip() for m in models.split(",")]
            assert accepted == listed, (flag.name, version, models)


# --- property: typed parameters never reach the simulator only to be refused there ----------------

_typed = st.fixed_dictionaries({}, optional={
    "aspect_ratio": st.sampled_from(["1:1", "16:9", "2:3", "0:1", "139:100"]),
    "version": st.sampled_from(["6", "6.1", "7", "8", "8.1", "niji 6"]),
    "stylize": st.integers(0, 1000), "chaos": st.integers(0, 100),
    "quality": st.sampled_from(["0.5", "1", "2", "4"]), "seed": st.integers(0, 4294967295),
    "raw": st.booleans(), "tile": st.booleans(), "draft": st.booleans(),
    "no": st.sampled_from(["cars", "people, text"]), "sref": st.just(URL), "sw": st.integers(0, 1000),
    "oref": st.just(URL), "ow": st.integers(0, 1000), "cref": st.just(URL), "cw": st.integers(0, 100),
    "speed": st.sampled_from(["fast", "turbo"]),
})
# The flags imagine takes only in the prompt (no typed parameter), written after the text.
_written = st.lists(st.sampled_from(["--w 3000", "--w 12", "--stop 10", "--stop 100", "--exp 100", "--exp 5",
                                     "--iw 0.5", "--iw 3"]), max_size=3, unique=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=_typed, text=st.sampled_from(["a red fox", "a fox --tile", "{a,b} fox", "a fox --v 8.1"]),
       written=_written)
async def test_typed_parameters_are_refused_locally_or_accepted_by_the_simulator(
        params: dict[str, Any], text: str, written: list[str]) -> None:
    text = " ".join([text, *written])
    sandbox = SandboxApp(Engine(time_scale=FAST, seed=1, pro=True))
    async with make_client(sandbox) as client:
        try:
            request = DiffusionRequest(text=ImagineArgs(prompt=text, **params).operation().text)
        except InvalidRequestError as exc:
            refused: InvalidRequestError | None = exc
        else:
            refused = None
        if refused is not None:
            assert refused.local and sandbox.stats.count() == 0
            event("refused locally")
            return
        event("sent")
        job = await client.submit(request)  # raises on the simulator's 400: the property fails
        assert job.status.value != "failed"
