"""The Go1 streams, in the order a full extract runs them."""

from __future__ import annotations

from collections.abc import Callable

from extract.streams.context import StreamContext, StreamStats
from extract.streams.enrollments import extract_enrollments
from extract.streams.learning_objects import extract_learning_objects
from extract.streams.user_accounts import extract_user_accounts

StreamFn = Callable[[StreamContext], StreamStats]

# user_accounts reads the enrollments landed before it, so it comes last.
STREAMS: dict[str, StreamFn] = {
    "learning_objects": extract_learning_objects,
    "enrollments": extract_enrollments,
    "user_accounts": extract_user_accounts,
}

__all__ = ["STREAMS", "StreamContext", "StreamFn", "StreamStats"]
