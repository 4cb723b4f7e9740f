"""Small pieces both API clients (Go1 here, 360Learning in load/) share.

Error text is one line and clipped, bodies are read defensively (a proxy may answer HTML), and
requests' per-call scan of the environment for proxies is done once per session.
"""

from __future__ import annotations

import json
import os
from typing import Any

import requests

PREVIEW_CHARS = 200


def one_line(text: str) -> str:
    return " ".join(text.split())


def clip(text: str, limit: int = PREVIEW_CHARS) -> str:
    text = one_line(text)
    return text if len(text) <= limit else text[:limit] + "…"


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {clip(str(exc))}"


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or empty: error bodies may be HTML from a proxy."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def settle_environment(session: requests.Session, url: str) -> requests.Session:
    """Read proxies and the CA bundle from the environment once, not on every request.

    requests scans every environment variable per call when ``trust_env`` is on (half a
    millisecond, a third of a client's CPU per page); what it would find is the same each
    time, so it is fixed on the session once and the scan is turned off. The API's host's
    proxy rules are used for every call of the session (token host included).
    """
    if not session.trust_env:
        return session
    for scheme, proxy in requests.utils.get_environ_proxies(url).items():
        session.proxies.setdefault(scheme, proxy)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and session.verify is True:
        session.verify = bundle
    session.trust_env = False
    return session
