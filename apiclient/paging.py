"""Following ``Link: <url>; rel="next"`` headers (RFC 8288), the paging 360Learning uses.

Kept apart from the client, as dlt keeps its paginators: how the next page is found is one
small rule, tested on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit


def next_link(value: str | None) -> str | None:
    """The ``rel="next"`` target of a ``Link`` header, or None (the last page has none)."""
    if not value:
        return None
    for target, params in _links(value):
        if "next" in params.get("rel", "").split() and target:
            return target
    return None


def _links(value: str) -> Iterator[tuple[str, dict[str, str]]]:
    """``<url>; rel="next", <url>; rel="prev"`` as (url, {param: value}) pairs."""
    quotes = " '\""
    for link in re.split(r",\s*(?=<)", value.strip()):
        target, _, rest = link.partition(";")
        params: dict[str, str] = {}
        for param in rest.split(";"):
            key, _, text = param.partition("=")
            if key.strip():
                params[key.strip(quotes).lower()] = text.strip(quotes)
        yield target.strip(" <>"), params


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port: a next link elsewhere would carry the token to another host."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default
