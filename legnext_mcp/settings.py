"""Settings from the environment (DESIGN.md section 7). No I/O at import; ``Settings.from_env`` reads."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from legnext_mcp.api.client import DEFAULT_BASE_URL
from legnext_mcp.api.policy import DOWNLOAD_MAX_BYTES

#: Hosts give a tool call about 60 s; hand a pending job back comfortably before that.
DEFAULT_SOFT_DEADLINE_S = 45.0
DEFAULT_PREVIEW_MAX_BYTES = 150_000
DEFAULT_DOWNLOAD_MAX_BYTES = DOWNLOAD_MAX_BYTES
TOOLSETS = ("core", "edit", "video", "account")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable and the fix."""


def _user_data_dir(env: Mapping[str, str]) -> Path:
    home = Path(env.get("HOME") or Path.home())
    if sys.platform == "win32":
        return Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local") / "legnext-mcp"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "legnext-mcp"
    return Path(env.get("XDG_DATA_HOME") or home / ".local" / "share") / "legnext-mcp"


def _pictures_dir(env: Mapping[str, str]) -> Path:
    home = Path(env.get("HOME") or Path.home())
    return Path(env.get("XDG_PICTURES_DIR") or home / "Pictures") / "legnext"


def _float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low:g} and {high:g}, got {value:g}")
    return value


def _points(env: Mapping[str, str], name: str) -> int | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise SettingsError(f"{name} must be a whole number of points (1000 points = $1), got {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to know. The key is kept out of ``repr``."""

    api_key: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    data_dir: Path = field(default_factory=lambda: _user_data_dir(os.environ))
    output_dir: Path = field(default_factory=lambda: _pictures_dir(os.environ))
    soft_deadline_s: float = DEFAULT_SOFT_DEADLINE_S
    preview_max_bytes: int = DEFAULT_PREVIEW_MAX_BYTES
    #: Largest output file ``save_images`` and previews download; bigger files are refused, not truncated.
    download_max_bytes: int = DEFAULT_DOWNLOAD_MAX_BYTES
    log_level: str = "WARNING"
    toolsets: frozenset[str] = frozenset(TOOLSETS)
    sandbox: bool = False
    #: Simulated seconds per real second of the API's clock: 1 for the real API; a simulator's speed
    #: (``--sandbox``, or ``LEGNEXT_TIME_SCALE`` for ``legnext-mcp sandbox`` on LEGNEXT_BASE_URL).
    time_scale: float = 1.0
    #: Refuse a job that would take the last 24 hours' points (from the ledger) above this. None: no cap.
    max_points_per_day: int | None = None
    #: Ask the user (MCP elicitation) before a job estimated above this many points. None: never ask.
    confirm_above_points: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, sandbox: bool = False,
                 time_scale: float = 1.0) -> Settings:
        """Read ``LEGNEXT_*`` variables. Raises SettingsError for a missing key (unless sandbox) or bad values."""
        env = os.environ if env is None else env
        key = (env.get("LEGNEXT_API_KEY") or "").strip() or None
        if key is None and not sandbox:
            raise SettingsError(
                "LEGNEXT_API_KEY is not set. Get a key at https://legnext.ai/app/api-keys and set it in the "
                "environment (or in your MCP host's config), or run with --sandbox to try everything on the "
                "built-in simulator without a key.")
        toolsets_raw = env.get("LEGNEXT_TOOLSETS", "").strip().lower()
        toolsets = frozenset(TOOLSETS)
        if toolsets_raw and toolsets_raw != "all":
            toolsets = frozenset(t.strip() for t in toolsets_raw.split(",") if t.strip())
            unknown = toolsets - set(TOOLSETS)
            if unknown:
                raise SettingsError(f"LEGNEXT_TOOLSETS has unknown groups {sorted(unknown)}; use any of "
                                    f"{', '.join(TOOLSETS)} or 'all'")
        level = env.get("LEGNEXT_LOG_LEVEL", "WARNING").strip().upper() or "WARNING"
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise SettingsError(f"LEGNEXT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
        base_url = (env.get("LEGNEXT_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        if not sandbox:
            time_scale = _float(env, "LEGNEXT_TIME_SCALE", 1.0, 1.0, 100_000)
            if time_scale != 1.0 and base_url == DEFAULT_BASE_URL.rstrip("/"):
                # A scaled schedule would poll the real API many times faster than its jobs run.
                raise SettingsError("LEGNEXT_TIME_SCALE is for a simulator (legnext-mcp sandbox); set "
                                    "LEGNEXT_BASE_URL to it, or unset LEGNEXT_TIME_SCALE for the real API")
        data_dir = Path(env["LEGNEXT_DATA_DIR"]) if env.get("LEGNEXT_DATA_DIR") else _user_data_dir(env)
        output_dir = Path(env["LEGNEXT_OUTPUT_DIR"]) if env.get("LEGNEXT_OUTPUT_DIR") else _pictures_dir(env)
        return cls(
            api_key=key,
            base_url=base_url,
            data_dir=data_dir.expanduser().resolve(),
            output_dir=output_dir.expanduser().resolve(),
            soft_deadline_s=_float(env, "LEGNEXT_WAIT_SOFT_DEADLINE_S", DEFAULT_SOFT_DEADLINE_S, 1, 3600),
            preview_max_bytes=int(_float(env, "LEGNEXT_PREVIEW_MAX_BYTES", DEFAULT_PREVIEW_MAX_BYTES,
                                         5_000, 5_000_000)),
            download_max_bytes=int(_float(env, "LEGNEXT_DOWNLOAD_MAX_BYTES", DEFAULT_DOWNLOAD_MAX_BYTES,
                                          1_000, 2**31)),
            log_level=level,
            toolsets=toolsets,
            sandbox=sandbox,
            time_scale=time_scale,
            max_points_per_day=_points(env, "LEGNEXT_MAX_POINTS_PER_DAY"),
            confirm_above_points=_points(env, "LEGNEXT_CONFIRM_ABOVE_POINTS"),
        )

    @property
    def ledger_path(self) -> Path:
        # Simulated jobs vanish with the simulator, so they get their own history.
        return self.data_dir / ("sandbox-ledger.sqlite3" if self.sandbox else "ledger.sqlite3")

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / ("sandbox-cache" if self.sandbox else "cache")
