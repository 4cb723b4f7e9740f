"""Go1's webhooks: the receiver that answers ``POST /go1/webhooks`` and its durable inbox.

A delivery is checked (:mod:`webhooks.signature`), read (:mod:`webhooks.events`) and stored
(:mod:`webhooks.inbox`) before it is answered 2xx (:mod:`webhooks.receiver`, served by
waitress in :mod:`webhooks.server`). The inbox is a few append-only files beside the
warehouse, never the warehouse itself, so the receiver keeps accepting events while a run
holds the warehouse's lock; the worker that turns stored events into micro-runs reads the same
files from another process or thread. This package sits beside the HTTP core: it imports
nothing of the sandboxes, commands, extract, load or warehouse.
"""

from __future__ import annotations

from go1sync.webhooks.events import Event, EventRefused, parse_event
from go1sync.webhooks.inbox import Inbox, StoredEvent
from go1sync.webhooks.receiver import ReceiverApp
from go1sync.webhooks.server import ListenError, ReceiverServer, parse_listen
from go1sync.webhooks.signature import SignatureRefused, sign, verify

__all__ = [
    "Event",
    "EventRefused",
    "Inbox",
    "ListenError",
    "ReceiverApp",
    "ReceiverServer",
    "SignatureRefused",
    "StoredEvent",
    "parse_event",
    "parse_listen",
    "sign",
    "verify",
]
