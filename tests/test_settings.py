"""Settings: file, environment, defaults, and one-line errors naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from settings import Secret, SettingsError, load_config

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


@pytest.mark.parametrize("url", ["http://127.0.0.1:8701", "http://localhost:1", "http://[::1]:5"])
def test_plain_http_is_accepted_on_loopback(url: str) -> None:
    assert load_config(env={**GO1_ENV, "GO1_API_URL": url}).go1().api_url == url


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
