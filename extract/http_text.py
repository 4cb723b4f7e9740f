"""Small pieces both API clients (Go1 here, 360Learning in load/) share.

Error text is one line and clipped, and bodies are read defensively (a proxy may answer HTML).
"""

from __future__ import annotations

import json
from typing import Any

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
