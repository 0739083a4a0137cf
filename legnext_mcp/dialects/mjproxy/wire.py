"""The relay's JSON as the reference implementations define it (reference/midjourney-proxy.md): the submit
answer ``{code, description, result, properties}`` and the task object. Parsed leniently (relays differ in
what they fill), checked where a value reaches a path, a URL or a ledger row."""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Submit codes (SubmitResultVO): 1 accepted, 22 queued, 21 exists / waiting for a modal, 23 queue full,
#: 24 banned prompt, 3 not found, 4 validation error.
ACCEPTED, EXISTS_OR_MODAL, QUEUED, QUEUE_FULL, BANNED, NOT_FOUND, VALIDATION = 1, 21, 22, 23, 24, 3, 4
MODAL_WAITING = "Waiting for window confirm"
_PERCENT = re.compile(r"[0-9]{1,3}")
log = logging.getLogger("legnext_mcp.mjproxy")


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class SubmitAnswer(_Lenient):
    code: int
    description: str = ""
    result: str | int | None = None
    properties: dict[str, Any] = Field(default_factory=dict)

    @field_validator("properties", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return value or {}

    @property
    def task_id(self) -> str | None:
        return str(self.result) if self.result not in (None, "") else None


class Button(_Lenient):
    custom_id: str = Field(default="", alias="customId")
    label: str = ""
    emoji: str = ""


class ImageUrl(_Lenient):
    url: str = ""


class Task(_Lenient):
    """A task as ``/mj/task/{id}/fetch`` returns it."""

    id: str | int
    action: str | None = None
    status: str | None = None
    prompt: str | None = None
    prompt_en: str | None = Field(default=None, alias="promptEn")
    description: str | None = None
    submit_time: int | None = Field(default=None, alias="submitTime")
    start_time: int | None = Field(default=None, alias="startTime")
    finish_time: int | None = Field(default=None, alias="finishTime")
    progress: str | int | None = None
    image_url: str | None = Field(default=None, alias="imageUrl")
    image_urls: list[ImageUrl] = Field(default_factory=list, alias="imageUrls")
    video_url: str | None = Field(default=None, alias="videoUrl")
    video_urls: list[ImageUrl] = Field(default_factory=list, alias="videoUrls")
    fail_reason: str | None = Field(default=None, alias="failReason")
    buttons: list[Button] = Field(default_factory=list)
    properties: dict[str, Any] = Field(default_factory=dict)

    @field_validator("buttons", "image_urls", "video_urls", mode="before")
    @classmethod
    def _none_is_empty_list(cls, value: Any) -> Any:
        return value or []

    @field_validator("properties", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return value if isinstance(value, dict) else {}

    @property
    def percent(self) -> int | None:
        """The progress as a percent 0-100, or None when it is not 1-3 ASCII digits (``"²%"`` passes
        ``str.isdigit`` and fails ``int``; 5,000 digits pass both checks and fail Python's int limit)."""
        text = str(self.progress or "").strip().removesuffix("%")
        if _PERCENT.fullmatch(text):
            return min(100, int(text))
        if text:
            log.warning("ignored a progress value the relay sent that is not a percent: %r", text[:20])
        return None
