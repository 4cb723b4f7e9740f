"""Settings: file, environment, defaults, and one-line errors naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from go1sync.settings import Secret, SettingsError, load_config

GO1_ENV = {
    "GO1_CLIENT_ID": "client-1",
    "GO1_CLIENT_SECRET": "s3cr3t-value",
    "GO1_PORTAL_URL": "https://acme.mygo1.com/",
}


def test_defaults_apply_when_only_credentials_are_given() -> None:
    go1 = load_config(env=GO1_ENV).go1()
    assert go1.auth_url == "https://auth.go1.com/oauth/token"
    assert go1.api_url == "https://gateway.go1.com"
    assert go1.max_in_flight == 4
    assert go1.client_secret.reveal() == "s3cr3t-value"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    file = tmp_path / "go1sync.toml"
    file.write_text('[go1]\napi_url = "https://file.example.com"\nclient_id = "from-file"\n'
                    '[warehouse]\npath = "from-file.duckdb"\n')
    config = load_config(file, env={**GO1_ENV, "GO1_API_URL": "https://env.example.com"})
    assert config.go1().api_url == "https://env.example.com"
    assert config.go1().client_id == "client-1"
    assert config.warehouse_path() == Path("from-file.duckdb")


def test_config_file_named_by_environment(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text('[warehouse]\npath = "x.duckdb"\n')
    assert load_config(env={"GO1SYNC_CONFIG": str(file)}).warehouse_path() == Path("x.duckdb")


def test_portal_url_loses_its_trailing_slash() -> None:
    assert load_config(env=GO1_ENV).portal_url() == "https://acme.mygo1.com"


def test_missing_setting_is_named() -> None:
    with pytest.raises(SettingsError, match="missing setting GO1_CLIENT_SECRET"):
        load_config(env={"GO1_CLIENT_ID": "x"}).go1()


@pytest.mark.parametrize("url", ["http://gateway.go1.com", "ftp://127.0.0.1", "gateway.go1.com"])
def test_plain_http_or_odd_urls_are_refused(url: str) -> None:
    with pytest.raises(SettingsError, match="invalid setting GO1_API_URL"):
        load_config(env={**GO1_ENV, "GO1_API_URL": url}).go1()


@pytest.mark.parametrize("url", ["http://127.0.0.1:8701", "http://localhost:1", "http://[::1]:5",
                                 "http://localhost", "https://gateway.go1.com",
                                 "https://auth.go1.com/oauth/token", "https://acme.mygo1.com:8443"])
def test_plain_http_is_accepted_on_loopback(url: str) -> None:
    assert load_config(env={**GO1_ENV, "GO1_API_URL": url}).go1().api_url == url


# URLs that the check's parser and the sender's parser (urllib3) could read as different hosts,
# or that carry what a base URL must not: each is refused with one line naming the setting.
DISGUISES = [
    ("http://evil.invalid\\@127.0.0.1", "backslash"),  # urllib3 sends to evil.invalid
    ("https://127.0.0.1\\@evil.invalid", "backslash"),
    ("http://user@127.0.0.1", "user info"),
    ("http://:pass@127.0.0.1:8701", "user info"),
    ("https://user:pass@gateway.go1.com", "user info"),
    ("http://a@b@127.0.0.1", "user info"),
    ("http://127.0.0.1%2f@evil.invalid", "user info"),
    ("http://%31%32%37.0.0.1", "percent-encoded"),  # urllib3 decodes it to 127.0.0.1
    ("http://127.0.0.1%2eevil.invalid", "percent-encoded"),
    ("http://[::1%25eth0]:5", "percent-encoded"),
    ("http://127.0.0.1 .evil.invalid", "whitespace or a control character"),
    ("http://127.0.0.1\t.evil.invalid", "whitespace or a control character"),
    ("http://127.0.0.1\x00.evil.invalid", "whitespace or a control character"),
    ("http://local\u200bhost", "whitespace or a control character"),
    ("http://", "no host"),
    ("http:///path", "no host"),
    ("http:127.0.0.1", "no host"),
    ("http://:8701", "no host"),
    ("http://127.0.0.1:80:80", "not a URL"),
    ("http://localhost:99999", "not a URL"),
    ("https://b\u00fccher.example", "host"),
    ("http://127.0.0.1#@evil.invalid", "query or fragment"),
    ("http://127.0.0.1?@evil.invalid", "query or fragment"),
    ("http://evil.invalid#@127.0.0.1", "query or fragment"),
    ("http://2130706433", "loopback hosts only"),  # 127.0.0.1 to the resolver, not to the check
    ("http://localhost.evil.invalid", "loopback hosts only"),
]


@pytest.mark.parametrize(("url", "reason"), DISGUISES)
def test_urls_two_parsers_could_read_differently_are_refused(url: str, reason: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_config(env={**GO1_ENV, "GO1_API_URL": url}).go1()
    message = str(caught.value)
    assert message.startswith("invalid setting GO1_API_URL (from environment variable "
                              "GO1_API_URL)")
    assert reason in message
    assert "\n" not in message


def test_a_url_with_a_password_is_refused_without_echoing_it() -> None:
    with pytest.raises(SettingsError) as caught:
        load_config(env={**GO1_ENV, "L360_API_URL": "https://me:hunter2@app.360learning.com",
                         "L360_CLIENT_ID": "c", "L360_CLIENT_SECRET": "s",
                         "L360_GROUP_IDS": "g", "L360_ADMIN_EMAIL": "a@b.co"}).l360()
    assert "L360_API_URL" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_every_url_setting_is_checked_the_same_way() -> None:
    for name in ("GO1_AUTH_URL", "GO1_API_URL"):
        with pytest.raises(SettingsError, match=f"invalid setting {name} .*backslash"):
            load_config(env={**GO1_ENV, name: "http://evil.invalid\\@127.0.0.1"}).go1()
    with pytest.raises(SettingsError, match="invalid setting GO1_PORTAL_URL .*user info"):
        load_config(env={"GO1_PORTAL_URL": "https://x@acme.mygo1.com"}).portal_url()


def test_http_limits_come_from_the_settings() -> None:
    limits = load_config(env={}).http_limits()
    assert (limits.max_response_bytes, limits.max_retry_after) == (64 * 1024 * 1024, 120.0)
    limits = load_config(env={"GO1SYNC_MAX_RESPONSE_MIB": "2",
                              "GO1SYNC_MAX_RETRY_AFTER": "30"}).http_limits()
    assert (limits.max_response_bytes, limits.max_retry_after) == (2 * 1024 * 1024, 30.0)


def test_memory_limit_takes_an_amount() -> None:
    assert load_config(env={}).memory_limit() == "256MB"
    assert load_config(env={"GO1SYNC_DUCKDB_MEMORY_LIMIT": "2GB"}).memory_limit() == "2GB"
    with pytest.raises(SettingsError, match="GO1SYNC_DUCKDB_MEMORY_LIMIT"):
        load_config(env={"GO1SYNC_DUCKDB_MEMORY_LIMIT": "lots"}).memory_limit()


def test_invalid_number_is_named() -> None:
    with pytest.raises(SettingsError, match="GO1SYNC_MAX_IN_FLIGHT"):
        load_config(env={**GO1_ENV, "GO1SYNC_MAX_IN_FLIGHT": "0"}).go1()


def test_unknown_key_and_bad_toml_are_refused(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text('[go1]\nclient_sercet = "typo"\n')
    with pytest.raises(SettingsError, match="unknown setting 'go1.client_sercet'"):
        load_config(file, env={})
    file.write_text("[go1\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_config(file, env={})
    with pytest.raises(SettingsError, match="does not exist"):
        load_config(tmp_path / "nope.toml", env={})


def test_secret_never_shows_in_text() -> None:
    secret = load_config(env=GO1_ENV).go1().client_secret
    assert isinstance(secret, Secret)
    assert "s3cr3t" not in f"{secret} {secret!r} {load_config(env=GO1_ENV).go1()!r}"


def test_invalid_secret_value_is_not_echoed() -> None:
    with pytest.raises(SettingsError) as info:
        load_config(env={**GO1_ENV, "GO1_CLIENT_SECRET": "   "}).go1()
    assert "GO1_CLIENT_SECRET" in str(info.value)
