"""Settings from the environment (DESIGN.md section 7). No I/O at import; ``Settings.from_env`` reads and
checks them, and every problem is a :class:`SettingsError` naming the variable and the fix."""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from legnext_mcp.core.errors import LocalValidationError
from legnext_mcp.core.keys import check_key
from legnext_mcp.core.urls import is_loopback_url
from legnext_mcp.dialects import DIALECTS
from legnext_mcp.dialects.legnext import DEFAULT_BASE_URL

#: Hosts that cut a tool call short do so at about 60 s (Claude Desktop); hand a running job back well
#: before that, so the model always learns its id (README "Waiting and host time limits").
DEFAULT_SOFT_DEADLINE_S = 45.0
DEFAULT_PREVIEW_MAX_BYTES = 150_000
DEFAULT_DOWNLOAD_MAX_BYTES = 64 * 1024 * 1024
#: The largest local picture used as an input (Midjourney's own upload limit is in this range; a relay carries it
#: inline as base64, a third more).
DEFAULT_INPUT_MAX_BYTES = 10 * 1024 * 1024
TOOLSETS = ("core", "edit", "video", "account")
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LOG_LEVELS: tuple[LogLevel, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_TRUE = ("1", "true", "yes", "on")


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


def missing_key_message(dialect: str = "legnext", *, fix: str = "run with --sandbox") -> str:
    """One line: the key is missing, where to get one, where to set it, and how to try without one (``fix``:
    the server's ``--sandbox``; the skill scripts name ``legnext-mcp sandbox``)."""
    where = ("Get a key at https://legnext.ai/app/api-keys" if dialect == "legnext"
             else "Use the key your relay gave you")
    return (f"LEGNEXT_API_KEY is not set. {where} and set it in the environment (or in your MCP host's config for "
            f"this server), or {fix} to try everything on the built-in simulator without a key.")


#: What a host leaves when an optional field of its config form was left empty: Claude Desktop passes a bundle's
#: ``${user_config.X}`` through literally (mcpb's getMcpConfigForManifest keeps unknown variables).
_UNFILLED = re.compile(r"\$\{[^}]*\}")


def _filled(env: Mapping[str, str]) -> Mapping[str, str]:
    """The environment without LEGNEXT_* values that are an unfilled ``${...}`` placeholder (as if unset)."""
    unfilled = [name for name, value in env.items()
                if name.startswith("LEGNEXT_") and _UNFILLED.fullmatch(value.strip())]
    return env if not unfilled else {k: v for k, v in env.items() if k not in unfilled}


def _folder(env: Mapping[str, str], name: str) -> Path | None:
    """A folder setting, with ``~`` and ``${HOME}`` expanded (a bundle's default folder is ``${HOME}/...``, which
    Claude Desktop does not expand inside a user_config default)."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    home = env.get("HOME") or str(Path.home())
    return Path(raw.replace("${HOME}", home)).expanduser()


def _float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw[:40]!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low:g} and {high:g}, got {value:g}")
    return value


def _points(env: Mapping[str, str], name: str) -> int | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not raw.isascii():
        raise SettingsError(f"{name} must be a whole number of points (1000 points = $1 on Legnext), got {raw[:40]!r}")
    return int(raw)


def _flag(env: Mapping[str, str], name: str) -> bool:
    return (env.get(name) or "").strip().lower() in _TRUE


def _public_url(env: Mapping[str, str]) -> str | None:
    """LEGNEXT_PUBLIC_URL: https (plain http only on this machine), no credentials, query or fragment.

    Raises:
        SettingsError: naming the problem.
    """
    raw = (env.get("LEGNEXT_PUBLIC_URL") or "").strip().rstrip("/")
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password \
            or parts.query or parts.fragment:
        raise SettingsError(f"LEGNEXT_PUBLIC_URL must be this server's base URL as users reach it, such as "
                            f"https://mcp.example.com (or with a path prefix), got {raw[:80]!r}")
    if parts.scheme == "http" and not is_loopback_url(raw):
        raise SettingsError("LEGNEXT_PUBLIC_URL must be https off this machine: callbacks carry capabilities, and "
                            "OAuth tokens are issued for it.")
    return raw


def _input_roots(env: Mapping[str, str]) -> tuple[Path, ...]:
    """LEGNEXT_INPUT_ROOTS: folders separated by the platform's path separator (``:`` or ``;``), resolved.

    Raises:
        SettingsError: a relative folder.
    """
    roots = []
    for raw in (env.get("LEGNEXT_INPUT_ROOTS") or "").split(os.pathsep):
        if not raw.strip():
            continue
        path = Path(raw.strip()).expanduser()
        if not path.is_absolute():
            raise SettingsError(f"LEGNEXT_INPUT_ROOTS must list absolute folders, got {raw.strip()[:80]!r}")
        roots.append(path.resolve())
    return tuple(roots)


def _upload_url(env: Mapping[str, str]) -> str | None:
    """LEGNEXT_UPLOAD_URL: ``s3://bucket/prefix`` (the bucket named as S3 names buckets).

    Raises:
        SettingsError: naming the expected shape.
    """
    raw = (env.get("LEGNEXT_UPLOAD_URL") or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme != "s3" or not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", parts.netloc or "") \
            or parts.query or parts.fragment:
        raise SettingsError(f"LEGNEXT_UPLOAD_URL must be s3://bucket/prefix, got {raw[:80]!r}")
    return raw.rstrip("/")


def _database_url(env: Mapping[str, str]) -> str | None:
    """LEGNEXT_DATABASE_URL, checked for its form (never echoed: it may hold a password).

    Raises:
        SettingsError: not a postgresql:// URL with a host or socket.
    """
    raw = (env.get("LEGNEXT_DATABASE_URL") or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("postgresql", "postgres") or not (parts.hostname or "host=" in parts.query):
        raise SettingsError("LEGNEXT_DATABASE_URL must be a PostgreSQL URL such as "
                            "postgresql://user:password@db.example:5432/legnext (or unset it for the SQLite ledger)")
    return raw


def _user_keys(env: Mapping[str, str]) -> bool:
    """LEGNEXT_USER_KEYS: ``header`` or unset.

    Raises:
        SettingsError: any other value.
    """
    raw = (env.get("LEGNEXT_USER_KEYS") or "").strip().lower()
    if raw not in ("", "header"):
        raise SettingsError(f"LEGNEXT_USER_KEYS must be 'header' (each request brings its user's key in "
                            f"X-Legnext-Api-Key) or unset (the server's LEGNEXT_API_KEY pays), got {raw[:20]!r}")
    return raw == "header"


def _user_key_secret(env: Mapping[str, str], user_keys: bool) -> str | None:
    """LEGNEXT_USER_KEY_SECRET: required with per-user keys, at least 32 bytes.

    Raises:
        SettingsError: missing in header mode, or too short.
    """
    raw = (env.get("LEGNEXT_USER_KEY_SECRET") or "").strip() or None
    if raw is None and user_keys:
        raise SettingsError("LEGNEXT_USER_KEYS=header needs LEGNEXT_USER_KEY_SECRET (the same on every replica: users "
                            "are told apart by a keyed hash of their key); make one with: "
                            "python -c \"import secrets; print(secrets.token_hex(32))\"")
    if raw is not None and len(raw.encode()) < 32:
        raise SettingsError("LEGNEXT_USER_KEY_SECRET must be at least 32 bytes; make one with: "
                            "python -c \"import secrets; print(secrets.token_hex(32))\"")
    return raw


def _oauth(env: Mapping[str, str], public_url: str | None, token: str | None) -> tuple[str | None, tuple[str, ...]]:
    """LEGNEXT_OAUTH_ISSUER and LEGNEXT_OAUTH_SCOPES.

    Raises:
        SettingsError: an issuer that is not an https URL (http only on this machine), without LEGNEXT_PUBLIC_URL,
            or beside LEGNEXT_HTTP_TOKEN; scopes without an issuer.
    """
    issuer = (env.get("LEGNEXT_OAUTH_ISSUER") or "").strip().rstrip("/") or None
    scopes = tuple(s for s in re.split(r"[\s,]+", env.get("LEGNEXT_OAUTH_SCOPES") or "") if s)
    if issuer is None:
        if scopes:
            raise SettingsError("LEGNEXT_OAUTH_SCOPES is set without LEGNEXT_OAUTH_ISSUER; set the issuer too, or "
                                "unset the scopes")
        return None, ()
    parts = urlsplit(issuer)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password \
            or parts.query or parts.fragment:
        raise SettingsError(f"LEGNEXT_OAUTH_ISSUER must be the authorization server's issuer URL, such as "
                            f"https://login.example.com/realms/team, got {issuer[:80]!r}")
    if parts.scheme == "http" and not is_loopback_url(issuer):
        raise SettingsError("LEGNEXT_OAUTH_ISSUER must be https off this machine (its keys decide who is who)")
    if public_url is None:
        raise SettingsError("LEGNEXT_OAUTH_ISSUER needs LEGNEXT_PUBLIC_URL (this server's base URL as users reach "
                            "it): tokens must be issued for {LEGNEXT_PUBLIC_URL}/mcp")
    if token is not None:
        raise SettingsError("LEGNEXT_OAUTH_ISSUER and LEGNEXT_HTTP_TOKEN are exclusive: users sign in through the "
                            "issuer; unset LEGNEXT_HTTP_TOKEN")
    if any(any(ord(c) < 33 or c in '"\\' for c in scope) or not scope.isascii() for scope in scopes):
        raise SettingsError("LEGNEXT_OAUTH_SCOPES must be scope names separated by spaces or commas")
    return issuer, scopes


def parse_prices(raw: str) -> dict[str, int]:
    """``imagine=50,upscale=20`` -> {tool: price}; a relay's prices in its own units.

    Raises:
        SettingsError: a malformed entry.
    """
    prices: dict[str, int] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        name, sep, value = item.partition("=")
        name, value = name.strip().lower(), value.strip()
        if not sep or not re.fullmatch(r"[a-z_]{2,40}", name) or not value.isdigit() or not value.isascii():
            raise SettingsError(f"LEGNEXT_RELAY_PRICES must be tool=whole number pairs such as "
                                f"'imagine=50,upscale=20', got {item[:40]!r}")
        prices[name] = int(value)
    return prices


@dataclass(frozen=True)
class Settings:
    """Everything the server, the service layer and the skill scripts need. The key is kept out of ``repr``."""

    api_key: str | None = field(default=None, repr=False)
    dialect: str = "legnext"
    base_url: str = DEFAULT_BASE_URL
    data_dir: Path = field(default_factory=lambda: _user_data_dir(os.environ))
    output_dir: Path = field(default_factory=lambda: _pictures_dir(os.environ))
    soft_deadline_s: float = DEFAULT_SOFT_DEADLINE_S
    preview_max_bytes: int = DEFAULT_PREVIEW_MAX_BYTES
    #: Largest output file ``save_images`` and previews download; bigger files are refused, not truncated.
    download_max_bytes: int = DEFAULT_DOWNLOAD_MAX_BYTES
    log_level: LogLevel = "WARNING"
    toolsets: frozenset[str] = frozenset(TOOLSETS)
    sandbox: bool = False
    #: Simulated seconds per real second of the API's clock: 1 for real APIs; a simulator's speed
    #: (``--sandbox``, or ``LEGNEXT_TIME_SCALE`` for ``legnext-mcp sandbox`` on a loopback LEGNEXT_BASE_URL).
    time_scale: float = 1.0
    #: Refuse a job that would take the last 24 hours' spending (from the ledger) above this. None: no cap.
    max_points_per_day: int | None = None
    #: The same, per user (HTTP with identities), checked together with the team's limit.
    max_points_per_user_per_day: int | None = None
    #: Ask the user (MCP elicitation) before a job estimated above this. None: never ask.
    confirm_above_points: int | None = None
    #: Refuse (instead of going ahead with a note) jobs above the threshold when the client cannot ask.
    confirm_required: bool = False
    #: Bearer token the Streamable HTTP transport requires (mandatory when not bound to loopback).
    http_token: str | None = field(default=None, repr=False)
    #: ``postgresql://...``: the shared ledger of replicas (SQLite in the data folder otherwise). Never shown.
    database_url: str | None = field(default=None, repr=False)
    #: Streamable HTTP without sessions for legacy-era clients behind a balancer (no server-to-client requests).
    http_stateless: bool = False
    #: Keys sealing the state of a question asked across round trips (a confirmation), shared by replicas so one
    #: can resume what another asked; rotation ring, first one seals. Empty: a fresh key per process.
    request_state_keys: tuple[str, ...] = field(default=(), repr=False)
    #: This server's public base URL as users reach it (scheme, host, port, optional path prefix), on the HTTP
    #: transport: where the API calls back when a job ends (and the OAuth resource's base). None: no callbacks.
    public_url: str | None = None
    #: Proxies whose Forwarded / X-Forwarded-* headers are believed (addresses or networks).
    trusted_proxies: tuple[str, ...] = ()
    #: Prices of a relay (mj-proxy dialect), per tool, in ``relay_price_unit``; empty: unknown.
    relay_prices: Mapping[str, int] = field(default_factory=dict)
    relay_price_unit: str = "credits"
    #: Add resource_link blocks to results (off: several clients break on them; see README).
    resource_links: bool = False
    #: OAuth 2.1 resource-server mode (HTTP): the authorization server whose JWT access tokens identify users.
    oauth_issuer: str | None = None
    #: Scopes every token must carry (OAuth mode).
    oauth_scopes: tuple[str, ...] = ()
    #: Each request brings its user's API key in ``X-Legnext-Api-Key`` (LEGNEXT_USER_KEYS=header).
    user_keys: bool = False
    #: The secret a user's key is hashed with into their user id when no OAuth identity names them.
    user_key_secret: str | None = field(default=None, repr=False)

    @property
    def resource_url(self) -> str | None:
        """The MCP endpoint as users reach it: the OAuth resource (token audience, Protected Resource Metadata)."""
        return None if self.public_url is None else f"{self.public_url}/mcp"

    @property
    def several_people(self) -> bool:
        """Whether calls come from several identities, each of whom sees only their own jobs and budget."""
        return self.oauth_issuer is not None or self.user_keys
    #: Folders whose pictures may be used as inputs (absolute paths or file:// URLs). Empty: the output folder only.
    input_roots: tuple[Path, ...] = ()
    #: Largest local picture accepted as an input.
    input_max_bytes: int = DEFAULT_INPUT_MAX_BYTES
    #: ``s3://bucket/prefix``: where local inputs go for Legnext on stdio (a presigned GET URL is sent). None: off.
    upload_url: str | None = None

    @property
    def allowed_input_roots(self) -> tuple[Path, ...]:
        """LEGNEXT_INPUT_ROOTS, or by default only the output folder (a user's own earlier results); and always the
        folder of pictures handed over by ``upload_picture`` (only what a client sent is there)."""
        return (*(self.input_roots or (self.output_dir,)), self.uploads_dir)

    @property
    def uploads_dir(self) -> Path:
        """Pictures a client handed over (``upload_picture``), kept until they expire."""
        return self.data_dir / ("sandbox-uploads" if self.sandbox else "uploads")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, sandbox: bool = False, time_scale: float = 1.0,
                 dialect: str | None = None, require_key: bool = True) -> Settings:
        """Read ``LEGNEXT_*`` variables. ``require_key=False``: a missing key is not an error (the server then
        starts in setup mode, ``needs_key``); every other setting is still checked.

        Raises:
            SettingsError: a missing key (unless sandbox), a key or base URL that cannot be right, bad values.
        """
        env = _filled(os.environ if env is None else env)
        chosen = (dialect or env.get("LEGNEXT_DIALECT") or "legnext").strip().lower()
        if chosen not in DIALECTS:
            raise SettingsError(f"LEGNEXT_DIALECT must be one of {', '.join(DIALECTS)}, got {chosen[:30]!r}")
        key = (env.get("LEGNEXT_API_KEY") or "").strip() or None
        user_keys = _user_keys(env)
        if key is None and not sandbox and require_key and not user_keys:
            raise SettingsError(missing_key_message(chosen))
        if key is not None and not sandbox:
            try:
                key = check_key(key, dialect=chosen)
            except LocalValidationError as exc:
                raise SettingsError(exc.message) from None
        default_base = DEFAULT_BASE_URL if chosen == "legnext" else ""
        base_url = (env.get("LEGNEXT_BASE_URL") or default_base).strip().rstrip("/")
        if not sandbox:
            base_url = cls._check_base_url(base_url, chosen)
            time_scale = _float(env, "LEGNEXT_TIME_SCALE", 1.0, 1.0, 100_000)
            if time_scale != 1.0 and not is_loopback_url(base_url):
                # A scaled schedule would poll a real API many times faster than its jobs run.
                raise SettingsError("LEGNEXT_TIME_SCALE is for a simulator on this machine (legnext-mcp sandbox); "
                                    "set LEGNEXT_BASE_URL to it, or unset LEGNEXT_TIME_SCALE for a real API")
        toolsets_raw = env.get("LEGNEXT_TOOLSETS", "").strip().lower()
        toolsets = frozenset(TOOLSETS)
        if toolsets_raw and toolsets_raw != "all":
            toolsets = frozenset(t.strip() for t in toolsets_raw.split(",") if t.strip())
            unknown = toolsets - set(TOOLSETS)
            if unknown:
                raise SettingsError(f"LEGNEXT_TOOLSETS has unknown groups {sorted(unknown)}; use any of "
                                    f"{', '.join(TOOLSETS)} or 'all'")
        level = env.get("LEGNEXT_LOG_LEVEL", "WARNING").strip().upper() or "WARNING"
        if level not in LOG_LEVELS:
            raise SettingsError(f"LEGNEXT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level[:20]!r}")
        token = (env.get("LEGNEXT_HTTP_TOKEN") or "").strip() or None
        if token is not None and (len(token) < 16 or any(ord(c) < 33 for c in token)):
            raise SettingsError("LEGNEXT_HTTP_TOKEN must be at least 16 characters without spaces; make one with: "
                                "python -c \"import secrets; print(secrets.token_urlsafe(32))\"")
        database_url = _database_url(env)
        keys = tuple(k.strip() for k in (env.get("LEGNEXT_REQUEST_STATE_KEYS") or "").split(",") if k.strip())
        if any(len(k.encode()) < 32 for k in keys):
            raise SettingsError("LEGNEXT_REQUEST_STATE_KEYS must be keys of at least 32 bytes, comma-separated; make "
                                "one with: python -c \"import secrets; print(secrets.token_hex(32))\"")
        proxies = tuple(p.strip() for p in (env.get("LEGNEXT_TRUSTED_PROXIES") or "").split(",") if p.strip())
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise SettingsError(f"LEGNEXT_TRUSTED_PROXIES must list addresses or networks (10.0.0.0/8), got "
                                    f"{proxy[:40]!r}") from None
        public_url = _public_url(env)
        issuer, scopes = _oauth(env, public_url, token)
        secret = _user_key_secret(env, user_keys)
        data_dir = _folder(env, "LEGNEXT_DATA_DIR") or _user_data_dir(env)
        output_dir = _folder(env, "LEGNEXT_OUTPUT_DIR") or _pictures_dir(env)
        return cls(
            api_key=key, dialect=chosen, base_url=base_url,
            data_dir=data_dir.expanduser().resolve(), output_dir=output_dir.expanduser().resolve(),
            soft_deadline_s=_float(env, "LEGNEXT_WAIT_SOFT_DEADLINE_S", DEFAULT_SOFT_DEADLINE_S, 1, 3600),
            preview_max_bytes=int(_float(env, "LEGNEXT_PREVIEW_MAX_BYTES", DEFAULT_PREVIEW_MAX_BYTES, 5_000,
                                         5_000_000)),
            download_max_bytes=int(_float(env, "LEGNEXT_DOWNLOAD_MAX_BYTES", DEFAULT_DOWNLOAD_MAX_BYTES, 1_000, 2**31)),
            log_level=level, toolsets=toolsets, sandbox=sandbox, time_scale=time_scale,
            max_points_per_day=_points(env, "LEGNEXT_MAX_POINTS_PER_DAY"),
            max_points_per_user_per_day=_points(env, "LEGNEXT_MAX_POINTS_PER_USER_PER_DAY"),
            confirm_above_points=_points(env, "LEGNEXT_CONFIRM_ABOVE_POINTS"),
            confirm_required=_flag(env, "LEGNEXT_CONFIRM_REQUIRED"), http_token=token,
            relay_prices=parse_prices(env.get("LEGNEXT_RELAY_PRICES", "")),
            relay_price_unit=(env.get("LEGNEXT_RELAY_PRICE_UNIT") or "credits").strip()[:20] or "credits",
            resource_links=_flag(env, "LEGNEXT_RESOURCE_LINKS"), database_url=database_url,
            http_stateless=_flag(env, "LEGNEXT_HTTP_STATELESS"), request_state_keys=keys, trusted_proxies=proxies,
            public_url=public_url, oauth_issuer=issuer, oauth_scopes=scopes, user_keys=user_keys,
            user_key_secret=secret,
            input_roots=_input_roots(env),
            input_max_bytes=int(_float(env, "LEGNEXT_INPUT_MAX_BYTES", DEFAULT_INPUT_MAX_BYTES, 1_000, 100_000_000)),
            upload_url=_upload_url(env),
        )

    @staticmethod
    def _check_base_url(base_url: str, dialect: str) -> str:
        if not base_url:
            raise SettingsError("LEGNEXT_BASE_URL is not set: with LEGNEXT_DIALECT=mj-proxy it is your relay's base "
                                "URL, including any mode prefix it gave you (e.g. https://relay.example/mj-fast).")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
            raise SettingsError(f"LEGNEXT_BASE_URL must be an http(s) URL without user:password@, got "
                                f"{base_url[:80]!r}")
        if parts.hostname and parts.hostname.rstrip(".").lower() in ("legnext.ai", "www.legnext.ai") and \
                parts.path.rstrip("/").startswith("/api/v1"):
            raise SettingsError("LEGNEXT_BASE_URL points at legnext.ai/api/v1, the early 'generate API v1' prototype "
                                "that never ran jobs and is gone. Use https://api.legnext.ai/api (or unset "
                                "LEGNEXT_BASE_URL). Nothing was sent.")
        if parts.scheme == "http" and not is_loopback_url(base_url):
            raise SettingsError(f"LEGNEXT_BASE_URL {base_url[:80]!r} is plain http: the key would cross the network "
                                "unencrypted. Use https (plain http is allowed only on this machine).")
        return base_url

    @property
    def needs_key(self) -> bool:
        """No key and no simulator: the server starts, lists its tools and answers every call with how to set the
        key (``missing_key_message``), so a host shows the user the fix instead of a dead connection. Not when
        each request brings its key (LEGNEXT_USER_KEYS=header)."""
        return self.api_key is None and not self.sandbox and not self.user_keys

    @property
    def ledger_path(self) -> Path:
        # Simulated jobs belong to the simulator's account, so they get their own history.
        return self.data_dir / ("sandbox-ledger.sqlite3" if self.sandbox else "ledger.sqlite3")

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / ("sandbox-cache" if self.sandbox else "cache")

    @property
    def inputs_dir(self) -> Path:
        """Local pictures served at capability URLs (copies, kept until they expire)."""
        return self.data_dir / ("sandbox-inputs" if self.sandbox else "inputs")

    @property
    def sandbox_dir(self) -> Path:
        """Where ``--sandbox`` keeps the simulated API's state (jobs, balance), so it survives restarts."""
        return self.data_dir / "sandbox-api" / self.dialect
