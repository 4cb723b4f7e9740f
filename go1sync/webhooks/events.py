"""A Go1 webhook delivery, read from its JSON body.

Deliveries are thin envelopes: ``{id, event_type, webhook_version, sent, attempt_number,
webhook_id, data: {id, lo_id, ...}}``. Only ``event_type``, ``data.id`` and ``data.lo_id`` are
confirmed by public code, so every other field may be missing, and any field may be added: an
:class:`Event` names the fields the worker needs and keeps the whole envelope (``body``)
verbatim. Ids may arrive as numbers; they are kept as strings.

Go1 does not document its retries or their order, so each event carries its dedupe keys
(:attr:`Event.keys`): its id, and its type, object and ``sent`` together. A delivery is a
repeat when any of its keys was seen before.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class EventRefused(Exception):
    """Internal to the receiver: the body is not a webhook event; ``reason`` says why. The
    receiver answers 400."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Event:
    """One delivery. ``object_id`` is ``data.id`` (the enrollment or learning object),
    ``lo_id`` is ``data.lo_id``; ``received_at`` is when the receiver read it (ISO 8601, UTC);
    ``body`` is the whole envelope as it arrived, extra fields included."""

    event_id: str | None
    event_type: str
    object_id: str | None
    lo_id: str | None
    sent: str | None
    attempt_number: int | None
    data: dict[str, Any] = field(hash=False)
    received_at: str
    body: dict[str, Any] = field(hash=False)

    @property
    def keys(self) -> tuple[str, ...]:
        """The dedupe keys: ``id:<event id>`` when the event has an id, and
        ``ots:<type>|<data.id or lo_id>|<sent>`` when it has an object and a ``sent``. An event
        with neither has one key from its body (``attempt_number`` left out, so Go1's retry of
        it is still a repeat): the worker needs a key to mark it done."""
        keys: list[str] = []
        if self.event_id is not None:
            keys.append(f"id:{self.event_id}")
        target = self.object_id if self.object_id is not None else self.lo_id
        if target is not None and self.sent is not None:
            keys.append(f"ots:{self.event_type}|{target}|{self.sent}")
        if not keys:
            rest = {name: value for name, value in self.body.items()
                    if name != "attempt_number"}
            canonical = json.dumps(rest, sort_keys=True, separators=(",", ":"))
            keys.append("body:" + hashlib.sha256(canonical.encode()).hexdigest())
        return tuple(keys)

    @classmethod
    def from_envelope(cls, body: dict[str, Any], received_at: str) -> Event:
        """The event of an envelope already parsed (and checked by :func:`parse_event`), as
        the inbox reads it back."""
        data = body.get("data")
        data = data if isinstance(data, dict) else {}
        return cls(event_id=_text(body.get("id")), event_type=str(body["event_type"]),
                   object_id=_text(data.get("id")), lo_id=_text(data.get("lo_id")),
                   sent=_text(body.get("sent")),
                   attempt_number=_whole(body.get("attempt_number")),
                   data=data, received_at=received_at, body=body)


def parse_event(body: bytes, *, received_at: str | None = None) -> Event:
    """The event in a delivery's raw body; :class:`EventRefused` when it is not UTF-8 JSON,
    not an object, has no string ``event_type``, or has a ``data`` that is not an object.
    ``received_at`` defaults to now."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise EventRefused("the body is not UTF-8") from None
    try:
        envelope = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventRefused(f"the body is not JSON ({exc.msg} at character {exc.pos})") \
            from None
    except RecursionError:
        raise EventRefused("the body is not JSON Go1 would send (nested too deep)") from None
    if not isinstance(envelope, dict):
        raise EventRefused(f"the body is not a JSON object (it is {_kind(envelope)})")
    event_type = envelope.get("event_type")
    if event_type is None:
        raise EventRefused("the event has no event_type")
    if not isinstance(event_type, str):
        raise EventRefused(f"the event's event_type is not a string (it is {_kind(event_type)})")
    if not event_type.strip():
        raise EventRefused("the event's event_type is empty")
    if "data" in envelope and not isinstance(envelope["data"], dict):
        raise EventRefused(f"the event's data is not an object (it is {_kind(envelope['data'])})")
    return Event.from_envelope(envelope, received_at or utc_now())


def utc_now(now: float | None = None) -> str:
    """``now`` (unix seconds; default: the clock) as ISO 8601 UTC with milliseconds and Z."""
    moment = datetime.now(UTC) if now is None else datetime.fromtimestamp(now, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(value: object) -> str | None:
    """An id or a ``sent`` as a string: numbers as their digits; nothing else counts."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str) and value.strip():
        return value
    return None


def _whole(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdecimal():
        return int(value.strip())
    return None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
