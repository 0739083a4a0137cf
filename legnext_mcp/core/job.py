"""The normalized job every dialect answers with, and what the service layer, the ledger and the MCP
results are built from. A dialect maps its wire answer onto it; nothing here knows a wire format."""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from legnext_mcp.core.urls import is_http_url

log = logging.getLogger("legnext_mcp.jobs")
#: Output URLs are often signed, so longer than the 1024 characters of an input URL; past this, dropped.
MAX_OUTPUT_URL_CHARS = 4096


def output_url(value: Any) -> str | None:
    """An output URL an API sent, if it is an absolute http(s) URL of a sane length: never a ``javascript:``,
    ``data:`` or ``file:`` URL, whatever the dialect (results, resources, the gallery and downloads all read
    the job). Anything else is dropped with a warning."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and len(value) <= MAX_OUTPUT_URL_CHARS and is_http_url(value):
        return value
    log.warning("ignored an output URL that is not http(s) or is too long: %r", str(value)[:80])
    return None


class JobStatus(StrEnum):
    PENDING = "pending"
    STAGED = "staged"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    UNKNOWN = "unknown"

    @classmethod
    def _missing_(cls, value: object) -> JobStatus:
        return cls.UNKNOWN

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED)


class Job(BaseModel):
    """A job as one observation saw it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    dialect: str
    job_id: str
    #: The neutral name of what made it (Legnext's endpoint names: diffusion, upscale, video-diffusion...).
    task_type: str
    status: JobStatus
    #: Percent done, when the API reports it (relays do; Legnext does not).
    progress: int | None = None
    #: The prompt as the API reports it (the ledger keeps the one we sent).
    prompt: str | None = None
    grid_url: str | None = None
    image_urls: list[str] = Field(default_factory=list)
    video_urls: list[str] = Field(default_factory=list)
    #: The API returned only the 2x2 grid (new-api relays): the four images are cut from it locally.
    grid_only: bool = False
    seed: str | None = None
    description: str | None = None
    prompts: list[str] = Field(default_factory=list)
    #: Follow-ups the API offers on this job: action -> image numbers, or True for whole-job actions.
    actions: dict[str, list[int] | bool] = Field(default_factory=dict)
    error: str | None = None
    error_code: int | None = None
    #: The API refused the content (moderation).
    moderated: bool = False
    #: Points (or the relay's units) reserved while it runs, and charged once it completed.
    frozen: int = 0
    consumed: int = 0
    created_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    #: The API's own answer, for the dialect that made it (relay buttons); never shown as is.
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True, repr=False)

    @field_validator("grid_url", mode="before")
    @classmethod
    def _http_grid(cls, value: Any) -> str | None:
        return output_url(value)

    @field_validator("image_urls", "video_urls", mode="before")
    @classmethod
    def _http_outputs(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [url for url in map(output_url, value) if url]

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    @property
    def image_count(self) -> int:
        """Images a follow-up can pick from (four quadrants when only the grid came back)."""
        if self.image_urls:
            return len(self.image_urls)
        return 4 if self.grid_only and self.grid_url else 0

    def offers(self, action: str, index: int | None = None) -> bool:
        """Whether the API lists ``action`` (for ``index``, when it takes one) among this job's follow-ups."""
        entry = self.actions.get(action)
        if isinstance(entry, bool):
            return entry
        if entry is None:
            return False
        return index is None or index in entry
