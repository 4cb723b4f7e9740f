"""go1sync's webhook on the Go1 portal: register it (idempotently), list, remove.

``register`` finds go1sync's webhook by its URL (the public address), so running it twice, or
after a lost answer, updates the one webhook instead of adding a second. Go1 answers a
webhook's ``secret_key`` in every read (the OpenAPI's response schema has it): this module
keeps it out of what it returns, and the client scrubs it from any message.

Removing: the contract README lists ``DELETE /webhooks/{id}``, the OpenAPI file only
``PATCH``. A portal that answers the delete with 404 or 405 on an id it just listed gets the
webhook set ``inactive`` instead, which stops the deliveries as surely, and the caller says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apiclient.paths import segment
from extract.client import Go1Client
from extract.errors import ExtractError

PATH = "/webhooks"
NAME = "go1sync"
#: What go1sync listens to: the OpenAPI enum, but content.library.sync.request (which needs an
#: integration_system_id and asks for a catalog sync go1sync's schedule already does).
EVENT_TYPES = ("enrollment.create", "enrollment.complete", "content.add", "content.remove",
               "content.decommission", "content.decommission.pending")


@dataclass(frozen=True)
class Webhook:
    """A portal webhook as shown to the user: never its secret."""

    id: str
    name: str
    url: str
    status: str
    event_types: tuple[str, ...]
    updated_time: str

    @property
    def active(self) -> bool:
        return self.status.lower() == "active"

    def calls(self, url: str | None) -> bool:
        """Whether this webhook calls ``url`` (a trailing slash aside): how go1sync's own is
        told from the portal's others."""
        return url is not None and self.url.rstrip("/") == url.rstrip("/")


@dataclass(frozen=True)
class Registered:
    webhook: Webhook
    created: bool  # False: an existing webhook with that URL was updated


def _webhook(hit: Any) -> Webhook | None:
    if not isinstance(hit, dict) or hit.get("id") in (None, ""):
        return None
    types = hit.get("event_types")
    return Webhook(
        id=str(hit["id"]), name=str(hit.get("name") or ""), url=str(hit.get("url") or ""),
        status=str(hit.get("status") or "unknown"),
        event_types=tuple(str(t) for t in types) if isinstance(types, list) else (),
        updated_time=str(hit.get("updated_time") or ""))


def list_webhooks(client: Go1Client) -> list[Webhook]:
    page = client.get(PATH)
    hits = page.data.get("hits") if isinstance(page.data, dict) else None
    if not isinstance(hits, list):
        raise ExtractError(f"GET {PATH}: the response has no 'hits' list")
    return [w for w in (_webhook(h) for h in hits) if w is not None]


def find(client: Go1Client, url: str) -> Webhook | None:
    """go1sync's webhook: the one that calls ``url`` (trailing slash aside)."""
    return next((w for w in list_webhooks(client) if w.calls(url)), None)


def register(client: Go1Client, url: str, secret: str) -> Registered:
    """Create go1sync's webhook, or update the one with that URL: event types, secret,
    active."""
    client.hide(secret)
    body: dict[str, Any] = {"name": NAME, "url": url, "secret_key": secret,
                            "event_types": list(EVENT_TYPES)}
    existing = find(client, url)
    if existing is None:
        answer = client.write("POST", PATH, body)
        created = True
    else:
        answer = client.write("PATCH", f"{PATH}/{segment(existing.id)}",
                              {**body, "status": "active"})
        created = False
    webhook = _webhook(answer) or find(client, url)
    if webhook is None:
        raise ExtractError(f"Go1 accepted the webhook for {url} but does not list it: run "
                           "`webhooks list` to see the portal's webhooks")
    return Registered(webhook, created)


def remove(client: Go1Client, webhook_id: str) -> str:
    """Delete a webhook; ``"deleted"``, or ``"deactivated"`` where the portal refuses the
    delete (see the module docstring)."""
    path = f"{PATH}/{segment(webhook_id)}"
    try:
        client.write("DELETE", path)
        return "deleted"
    except ExtractError as exc:
        if exc.status not in (404, 405) or not any(
                w.id == webhook_id for w in list_webhooks(client)):
            raise
    client.write("PATCH", path, {"status": "inactive"})
    return "deactivated"
