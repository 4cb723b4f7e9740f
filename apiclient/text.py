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


# How deep an answer's arrays and objects may nest. Neither API's documents nest a tenth as
# deep; Python's parser recurses once per level and ends in a RecursionError near 1,000.
MAX_JSON_DEPTH = 512

# What is left of a body to count its depth by: brackets (one kind) and quotes.
_AS_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')


class JsonTooDeep(ValueError):
    """A JSON body nests deeper than :data:`MAX_JSON_DEPTH` levels."""

    def __init__(self) -> None:
        super().__init__(f"nests deeper than {MAX_JSON_DEPTH} levels")


def nests_deeper_than(body: bytes, levels: int) -> bool:
    """Whether ``body``'s arrays and objects nest deeper than ``levels``, brackets inside
    strings not counted.

    Never False for a body the parser would take deeper (up to an invalid body's first error
    the count is the parser's); an invalid body may be counted deeper than it is. Every step
    runs in C, since a page is read on the extract's critical path: escapes go (so no quote
    stays escaped), everything but brackets and quotes goes, then strings (a pair of quotes
    next to each other is always an empty string or the end of one and the start of the next,
    so dropping it keeps every other quote's role), then one level of innermost ``[]`` pairs
    per pass.
    """
    if body.count(b"[") + body.count(b"{") <= levels:
        return False
    plain = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    skeleton = plain.translate(_AS_BRACKETS, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in skeleton:  # strings with brackets in them
        skeleton = b"".join(skeleton.split(b'"')[::2])
    depth = 0
    while depth <= levels:
        if b"[" * (levels + 1 - depth) in skeleton:  # a bomb's shape, found without passes
            return True
        shorter = skeleton.replace(b"[]", b"")
        if len(shorter) == len(skeleton):
            break
        depth, skeleton = depth + 1, shorter
    # what no pass could pair is unbalanced: count its opening brackets as levels too
    return depth + skeleton.count(b"[") > levels


def check_json_depth(body: bytes) -> None:
    """Raise :class:`JsonTooDeep` before ``json.loads`` would recurse past the limit."""
    if nests_deeper_than(body, MAX_JSON_DEPTH):
        raise JsonTooDeep


def load_json(body: bytes) -> Any:
    """``json.loads`` that refuses a body nesting too deep (:class:`JsonTooDeep`, a
    ``ValueError`` like every other unreadable body) instead of raising RecursionError."""
    check_json_depth(body)
    return json.loads(body)


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or empty: error bodies may be HTML from a proxy, or nest
    too deep to read."""
    try:
        data = load_json(body)
    except ValueError:  # UnicodeDecodeError and JsonTooDeep are ones
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
