"""Settings come from the environment with absolute defaults and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from legnext_mcp.settings import DEFAULT_SOFT_DEADLINE_S, Settings, SettingsError


def test_a_missing_key_is_a_clear_error_unless_sandboxed() -> None:
    with pytest.raises(SettingsError, match="LEGNEXT_API_KEY is not set"):
        Settings.from_env({"HOME": "/home/u"})
    assert Settings.from_env({"HOME": "/home/u"}, sandbox=True).api_key is None


def test_defaults_are_absolute_platform_dirs_never_the_working_directory() -> None:
    settings = Settings.from_env({"LEGNEXT_API_KEY": "k", "HOME": "/home/u"})
    assert settings.data_dir.is_absolute() and settings.output_dir.is_absolute()
    assert settings.data_dir != Path.cwd() and settings.output_dir != Path.cwd()
    assert settings.soft_deadline_s == DEFAULT_SOFT_DEADLINE_S < 60
    assert settings.toolsets == {"core", "edit", "video", "account"}


def test_the_key_is_not_in_the_repr() -> None:
    settings = Settings.from_env({"LEGNEXT_API_KEY": "CANARY-123", "HOME": "/home/u"})
    assert "CANARY-123" not in repr(settings) and settings.api_key == "CANARY-123"


def test_values_are_read_and_checked() -> None:
    env = {"LEGNEXT_API_KEY": "k", "HOME": "/h", "LEGNEXT_DATA_DIR": "/tmp/d", "LEGNEXT_OUTPUT_DIR": "/tmp/o",
           "LEGNEXT_WAIT_SOFT_DEADLINE_S": "30", "LEGNEXT_TOOLSETS": "core, video", "LEGNEXT_BASE_URL": "https://x/api/"}
    settings = Settings.from_env(env)
    assert settings.soft_deadline_s == 30 and settings.toolsets == {"core", "video"}
    assert settings.data_dir == Path("/tmp/d") and settings.base_url == "https://x/api"
    for name, value in (("LEGNEXT_WAIT_SOFT_DEADLINE_S", "soon"), ("LEGNEXT_WAIT_SOFT_DEADLINE_S", "0"),
                        ("LEGNEXT_TOOLSETS", "core,paint"), ("LEGNEXT_LOG_LEVEL", "LOUD")):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({**env, name: value})


def test_a_time_scale_is_for_a_simulator_never_the_real_api() -> None:
    env = {"LEGNEXT_API_KEY": "k", "HOME": "/h", "LEGNEXT_TIME_SCALE": "400"}
    with pytest.raises(SettingsError, match="LEGNEXT_TIME_SCALE is for a simulator"):
        Settings.from_env(env)
    local = Settings.from_env({**env, "LEGNEXT_BASE_URL": "http://127.0.0.1:8765/api"})
    assert local.time_scale == 400 and Settings.from_env({"LEGNEXT_API_KEY": "k", "HOME": "/h"}).time_scale == 1
    with pytest.raises(SettingsError, match="LEGNEXT_TIME_SCALE"):
        Settings.from_env({**env, "LEGNEXT_BASE_URL": "http://127.0.0.1:8765/api", "LEGNEXT_TIME_SCALE": "fast"})


def test_the_download_cap_is_a_setting() -> None:
    env = {"LEGNEXT_API_KEY": "k", "HOME": "/h"}
    assert Settings.from_env(env).download_max_bytes == 64 * 1024 * 1024
    assert Settings.from_env({**env, "LEGNEXT_DOWNLOAD_MAX_BYTES": "5000000"}).download_max_bytes == 5_000_000
    with pytest.raises(SettingsError, match="LEGNEXT_DOWNLOAD_MAX_BYTES"):
        Settings.from_env({**env, "LEGNEXT_DOWNLOAD_MAX_BYTES": "10"})


async def test_toolsets_limit_the_tools_exposed() -> None:
    from legnext_mcp.server import build_server

    server = build_server(Settings(api_key="k", toolsets=frozenset({"core"})))
    tools = await server.list_tools()
    assert {t.name for t in tools} == {"generate_and_wait", "upscale", "variation", "describe", "wait_for_job",
                                       "get_job", "save_images", "estimate_cost"}
    # What the model reads of the core set (name, description, input schema) stays small (README "Performance").
    size = sum(len(t.name) + len(t.description or "") + len(json.dumps(t.input_schema)) for t in tools)
    assert size <= 9000, size


pytestmark = pytest.mark.anyio


def test_a_relay_needs_its_base_url_and_reads_its_prices() -> None:
    env = {"LEGNEXT_API_KEY": "sk-relay", "HOME": "/home/u", "LEGNEXT_DIALECT": "mj-proxy"}
    with pytest.raises(SettingsError, match="mode prefix"):
        Settings.from_env(env)
    settings = Settings.from_env({**env, "LEGNEXT_BASE_URL": "https://relay.example/mj-fast/",
                                  "LEGNEXT_RELAY_PRICES": "imagine=50, upscale=20",
                                  "LEGNEXT_RELAY_PRICE_UNIT": "quota"})
    assert settings.base_url == "https://relay.example/mj-fast"  # the prefix kept as given, never derived
    assert settings.relay_prices == {"imagine": 50, "upscale": 20} and settings.relay_price_unit == "quota"
    with pytest.raises(SettingsError, match="tool=whole number"):
        Settings.from_env({**env, "LEGNEXT_BASE_URL": "https://r.example", "LEGNEXT_RELAY_PRICES": "imagine=cheap"})
    with pytest.raises(SettingsError, match="LEGNEXT_DIALECT must be one of legnext, mj-proxy"):
        Settings.from_env({**env, "LEGNEXT_DIALECT": "discord"})
    assert Settings.from_env(env, sandbox=True).dialect == "mj-proxy"


def test_settings_read_budget_and_confirmation_from_the_environment() -> None:
    settings = Settings.from_env({"LEGNEXT_MAX_POINTS_PER_DAY": "5000", "LEGNEXT_CONFIRM_ABOVE_POINTS": "300"},
                                 sandbox=True)
    assert (settings.max_points_per_day, settings.confirm_above_points) == (5000, 300)
    assert Settings.from_env({}, sandbox=True).max_points_per_day is None
    with pytest.raises(SettingsError, match="LEGNEXT_MAX_POINTS_PER_DAY"):
        Settings.from_env({"LEGNEXT_MAX_POINTS_PER_DAY": "lots"}, sandbox=True)


def test_many_people_settings_are_read_and_their_mistakes_are_one_line() -> None:
    base = {"HOME": "/h", "LEGNEXT_PUBLIC_URL": "https://mcp.example.com"}
    oauth = Settings.from_env({**base, "LEGNEXT_API_KEY": "k", "LEGNEXT_OAUTH_ISSUER": "https://login.example.com/",
                               "LEGNEXT_OAUTH_SCOPES": "mcp, images"})
    assert oauth.oauth_issuer == "https://login.example.com" and oauth.oauth_scopes == ("mcp", "images")
    assert oauth.resource_url == "https://mcp.example.com/mcp" and oauth.several_people and not oauth.user_keys
    secret = "s" * 32
    keys = Settings.from_env({"HOME": "/h", "LEGNEXT_USER_KEYS": "header", "LEGNEXT_USER_KEY_SECRET": secret})
    assert keys.api_key is None and keys.user_keys and keys.several_people  # no server key needed: each brings one
    assert secret not in repr(keys)
    assert not Settings.from_env({"HOME": "/h", "LEGNEXT_API_KEY": "k"}).several_people  # one person: unchanged
    wrong = [
        ({**base, "LEGNEXT_API_KEY": "k", "LEGNEXT_OAUTH_ISSUER": "login.example.com"}, "LEGNEXT_OAUTH_ISSUER must"),
        ({**base, "LEGNEXT_API_KEY": "k", "LEGNEXT_OAUTH_ISSUER": "http://login.example.com"}, "https off"),
        ({"HOME": "/h", "LEGNEXT_API_KEY": "k", "LEGNEXT_OAUTH_ISSUER": "https://login.example.com"},
         "needs LEGNEXT_PUBLIC_URL"),
        ({**base, "LEGNEXT_API_KEY": "k", "LEGNEXT_OAUTH_ISSUER": "https://login.example.com",
          "LEGNEXT_HTTP_TOKEN": "t" * 32}, "exclusive"),
        ({**base, "LEGNEXT_API_KEY": "k", "LEGNEXT_OAUTH_SCOPES": "mcp"}, "without LEGNEXT_OAUTH_ISSUER"),
        ({"HOME": "/h", "LEGNEXT_USER_KEYS": "header"}, "needs LEGNEXT_USER_KEY_SECRET"),
        ({"HOME": "/h", "LEGNEXT_USER_KEYS": "header", "LEGNEXT_USER_KEY_SECRET": "short"}, "at least 32 bytes"),
        ({"HOME": "/h", "LEGNEXT_API_KEY": "k", "LEGNEXT_USER_KEYS": "bearer"}, "must be 'header'"),
    ]
    for env, message in wrong:
        with pytest.raises(SettingsError, match=message) as raised:
            Settings.from_env(env)
        assert "\n" not in str(raised.value)
        assert "short" not in str(raised.value) or "LEGNEXT_USER_KEY_SECRET=short" not in str(raised.value)
