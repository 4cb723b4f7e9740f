"""Cassette helpers both API clients' tests share: what is filtered before a cassette is
written, and how a cassette is read back to check that no credential is left in it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def vcr_settings(record_mode: str, **secret_filter: Any) -> dict[str, Any]:
    """The VCR configuration of both clients' cassette tests; ``secret_filter`` says how the
    posted client secret is taken out (a form field, or a JSON key via a request hook)."""
    return {
        "filter_headers": ["authorization"],
        "before_record_response": filter_token,
        "decode_compressed_response": True,  # a gzipped body would hide a token from review
        "match_on": ["method", "path", "query"],  # host and port differ between runs
        "record_mode": record_mode,
        **secret_filter,
    }


def filter_token(response: dict[str, Any]) -> dict[str, Any]:
    """Replace ``access_token`` in a token answer before it is written to a cassette.

    Content-Length is rewritten too: urllib3 refuses a replayed body shorter than announced.
    """
    body = response.get("body", {}).get("string")
    if not body:
        return response
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return response
    if not isinstance(data, dict) or "access_token" not in data:
        return response
    data["access_token"] = "FILTERED"
    text = json.dumps(data)
    response["body"]["string"] = text.encode("utf-8") if isinstance(body, bytes) else text
    for name in list(response.get("headers", {})):
        if name.lower() == "content-length":
            response["headers"][name] = [str(len(text.encode("utf-8")))]
    return response


def strings(node: Any) -> Iterator[str]:
    """Every text in a parsed cassette, bodies stored as ``!!binary`` decoded too."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif isinstance(node, bytes):
        yield node.decode("utf-8", errors="replace")
    elif node is not None:
        yield str(node)
