"""Small text pieces both API clients share.

Error text is one line and clipped, and bodies are read defensively (a proxy may answer HTML).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Self

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


def error_detail(body: bytes, fields: tuple[str | None, str | None], *,
                 full: bool = True) -> str:
    """An API's error as " code message" (``fields``, read from ``body`` by the client that
    knows its API's shapes), or a clipped body when it is not the API's JSON.

    Not ``full`` (a token call, whose body is never logged): the code alone.
    """
    code, message = fields
    if not full:
        return f" {clip(code)}" if code else ""
    if code or message:
        return " " + clip(" ".join(p for p in (code, message) if p))
    if body.strip():
        return f" (body: {clip(body.decode('utf-8', errors='replace'))})"
    return ""


@dataclass
class Counters:
    """Integer counters several threads add to; a subclass declares them as ``int`` fields."""

    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False,
                                  compare=False)

    def add(self, **amounts: int) -> None:
        with self._lock:
            for name, amount in amounts.items():
                setattr(self, name, getattr(self, name) + amount)

    def snapshot(self) -> Self:
        """A consistent copy, so a report does not mix counts from different moments."""
        with self._lock:
            return replace(self)
