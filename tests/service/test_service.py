"""The service layer on its own (no MCP), on each dialect over its simulator: quote checks and prices without
sending, submit records the intent before the request and the job before it returns, never re-sends a request
whose answer was lost, and a wait keeps every job whatever the ledger does."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.types import Receive, Scope, Send

from legnext_mcp.api import LegnextClient
from legnext_mcp.core.clock import Clock
from legnext_mcp.core.errors import BudgetExceededError, LocalValidationError, SubmissionUncertainError
from legnext_mcp.core.operations import Describe, Imagine, Upscale
from legnext_mcp.dialects.legnext.dialect import LegnextDialect
from legnext_mcp.dialects.mjproxy.dialect import MjProxyDialect
from legnext_mcp.sandbox import HANG_WORD, Engine, Fault, SandboxApp
from legnext_mcp.sandbox.core.asgi import RecordingApp
from legnext_mcp.sandbox.mjproxy.app import MjProxyApp
from legnext_mcp.sandbox.mjproxy.engine import DEFAULT_KEY as MJ_PROXY_KEY
from legnext_mcp.sandbox.mjproxy.engine import MjProxyEngine
from legnext_mcp.service import jobs
from legnext_mcp.service.quote import quote
from legnext_mcp.service.runtime import Services, open_services
from legnext_mcp.settings import Settings
from tests.support import FAST, MJ_PROXY_BASE

pytestmark = pytest.mark.anyio


class LedgerAtPost:
    """The simulator, behind a look at the ledger file at the moment each POST arrives (proof of order)."""

    def __init__(self, app: RecordingApp, ledger: Path) -> None:
        self.app = app
        self.ledger = ledger
        self.intents_seen: list[list[str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and scope["method"] == "POST" and ("/v1/" in path or "/mj/submit/" in path):
            db = sqlite3.connect(self.ledger)
            try:
                self.intents_seen.append([row[0] for row in db.execute("SELECT state FROM intents")])
            finally:
                db.close()
        await self.app(scope, receive, send)


@dataclass
class World:
    svc: Services
    app: RecordingApp
    watch: LedgerAtPost

    def posts(self) -> int:
        return sum(1 for r in self.app.stats.requests if r.method == "POST" and "list-by-condition" not in r.path)


@asynccontextmanager
async def legnext(tmp_path: Path, **overrides: Any) -> AsyncIterator[World]:
    app = SandboxApp(Engine(time_scale=FAST, seed=4))
    settings = replace(Settings(api_key="sandbox-key", data_dir=tmp_path, output_dir=tmp_path / "out"), **overrides)
    watch = LedgerAtPost(app, settings.ledger_path)
    transport = httpx2.ASGITransport(watch)
    client = LegnextClient("sandbox-key", base_url="http://sandbox.test/api", transport=transport,
                           download_transport=transport, clock=Clock(FAST))
    async with open_services(settings, LegnextDialect(client)) as svc:
        yield World(svc, app, watch)


@asynccontextmanager
async def mjproxy(tmp_path: Path, **overrides: Any) -> AsyncIterator[World]:
    app = MjProxyApp(MjProxyEngine(time_scale=FAST))
    settings = replace(Settings(api_key=MJ_PROXY_KEY, dialect="mj-proxy", base_url=MJ_PROXY_BASE, data_dir=tmp_path,
                                output_dir=tmp_path / "out", relay_prices={"imagine": 50, "describe": 5}),
                       **overrides)
    watch = LedgerAtPost(app, settings.ledger_path)
    transport = httpx2.ASGITransport(watch)
    dialect = MjProxyDialect(MJ_PROXY_KEY, base_url=MJ_PROXY_BASE, prices=settings.relay_prices, transport=transport,
                             download_transport=transport, clock=Clock(FAST))
    async with open_services(settings, dialect) as svc:
        yield World(svc, app, watch)


DIALECTS: dict[str, Callable[..., Any]] = {"legnext": legnext, "mj-proxy": mjproxy}
PRICES = {"legnext": 80, "mj-proxy": 50}


@pytest.fixture(params=sorted(DIALECTS))
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_quote_checks_and_prices_without_sending(tmp_path: Path, dialect: str) -> None:
    async with DIALECTS[dialect](tmp_path) as world:
        quoted = await quote(world.svc, Imagine(prompt="a fox --ar 3:2"))
        assert quoted.prepared.estimate.amount == PRICES[dialect]
        with pytest.raises(LocalValidationError, match="not a public address"):
            await quote(world.svc, Describe(image_url="http://10.0.0.1/cat.png"))
        assert world.app.stats.count() == 0


async def test_quote_reads_an_unknown_parent_once_for_free_and_checks_it(tmp_path: Path, dialect: str) -> None:
    async with DIALECTS[dialect](tmp_path) as world:
        parent = await jobs.submit(world.svc, await quote(world.svc, Imagine(prompt=f"a fox {HANG_WORD}")))
        with pytest.raises(LocalValidationError, match=r"(?i)wait for it"):  # still running: no follow-up yet
            await quote(world.svc, Upscale(parent=parent.job_id, index=0))
        assert world.posts() == 1


async def test_submit_records_the_intent_before_the_request_and_the_job_before_returning(
        tmp_path: Path, dialect: str) -> None:
    async with DIALECTS[dialect](tmp_path) as world:
        made = await jobs.submit(world.svc, await quote(world.svc, Imagine(prompt="a fox")))
        assert world.watch.intents_seen == [["sending"]]  # the POST arrived with its intent already written
        entry = await world.svc.ledger.get(world.svc.dialect.name, made.job_id)
        assert entry is not None and entry.estimate == PRICES[dialect]
        assert await world.svc.ledger.intents(world.svc.dialect.name) == []


async def test_a_lost_answer_is_uncertain_and_never_sent_twice(tmp_path: Path) -> None:
    async with legnext(tmp_path) as world:
        world.app.engine.faults.add(Fault("drop", method="POST", path_prefix="/api/v1/diffusion", after_handling=True))
        with pytest.raises(SubmissionUncertainError):
            await jobs.submit(world.svc, await quote(world.svc, Imagine(prompt="a fox")))
        assert isinstance(world.app, SandboxApp)
        assert world.posts() == 1 and len(world.app.engine.jobs) == 1
        (unsure,) = await world.svc.ledger.intents("legnext")
        assert unsure.state == "uncertain" and unsure.points == 80


async def test_the_budget_is_checked_again_atomically_when_sending(tmp_path: Path, dialect: str) -> None:
    async with DIALECTS[dialect](tmp_path, max_points_per_day=PRICES[dialect]) as world:
        first, second = [await quote(world.svc, Imagine(prompt=f"a fox {n}")) for n in (1, 2)]  # both fit alone
        await jobs.submit(world.svc, first)
        with pytest.raises(BudgetExceededError):
            await jobs.submit(world.svc, second)
        assert world.posts() == 1


async def test_wait_returns_every_job_finished_and_records_each(tmp_path: Path, dialect: str) -> None:
    async with DIALECTS[dialect](tmp_path) as world:
        made = [await jobs.submit(world.svc, await quote(world.svc, Imagine(prompt=f"fox {n}"))) for n in range(3)]
        waited = await jobs.wait(world.svc, made, timeout=30)
        assert [j.job_id for j in waited.jobs] == [j.job_id for j in made]
        assert all(j.status.value == "completed" for j in waited.jobs) and not waited.errors and not waited.notes
        for job in made:
            entry = await world.svc.ledger.get(world.svc.dialect.name, job.job_id)
            assert entry is not None and entry.job.status.value == "completed"


async def test_a_ledger_failing_mid_wait_loses_no_job_and_says_what_happened(tmp_path: Path, dialect: str) -> None:
    async with DIALECTS[dialect](tmp_path) as world:
        made = await jobs.submit(world.svc, await quote(world.svc, Imagine(prompt="a fox")))
        db = sqlite3.connect(world.svc.settings.ledger_path)
        db.execute("CREATE TRIGGER no_updates BEFORE UPDATE ON jobs BEGIN SELECT RAISE(FAIL, 'disk I/O error'); END")
        db.commit()
        db.close()
        waited = await jobs.wait(world.svc, [made], timeout=30)
        assert waited.jobs[0].job_id == made.job_id and waited.jobs[0].status.value == "completed"
        assert any(made.job_id in note and "disk I/O error" in note for note in waited.notes), waited.notes
