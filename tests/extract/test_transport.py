"""What the Go1 transport takes from the environment, as requests did before it."""

from __future__ import annotations

import pytest

from apiclient.transport import ca_bundle, environment_proxy

PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
              "all_proxy", "NO_PROXY", "no_proxy")


@pytest.fixture(autouse=True)
def clean_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


def test_no_proxy_without_the_variables() -> None:
    assert environment_proxy("https://gateway.go1.com") is None


def test_the_proxy_of_the_url_scheme_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("https_proxy", "http://proxy.corp:3128")
    monkeypatch.setenv("http_proxy", "http://plain.corp:80")
    assert environment_proxy("https://gateway.go1.com") == "http://proxy.corp:3128"
    assert environment_proxy("http://127.0.0.1:8701") == "http://plain.corp:80"


def test_no_proxy_exempts_a_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("https_proxy", "http://proxy.corp:3128")
    monkeypatch.setenv("no_proxy", "localhost,.go1.com")
    assert environment_proxy("https://gateway.go1.com") is None
    assert environment_proxy("https://api.360learning.com") == "http://proxy.corp:3128"


def test_ca_bundle_named_by_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/corp/ca.pem")
    assert ca_bundle() == "/etc/corp/ca.pem"
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/corp/curl.pem")
    assert ca_bundle() == "/etc/corp/curl.pem"
    monkeypatch.delenv("CURL_CA_BUNDLE")
    import certifi

    assert ca_bundle() == certifi.where()
