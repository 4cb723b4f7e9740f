"""Harmless reads that prove a Go1 scope, for ``check``: each answers a sentence or raises.

One read per scope (extract/endpoints.py): the smallest page of the call a run makes with it.
"""

from __future__ import annotations

from extract.client import Go1Client
from extract.endpoints import ENROLLMENTS_PATH
from extract.errors import ExtractError
from extract.streams.enrollments import first_page, path_candidates
from extract.subscriptions import list_webhooks
from go1sync.settings import Go1Settings


def library(client: Go1Client) -> str:
    client.get("/learning-objects", [("collection", "library"), ("limit", "1")])
    return "token issued, My Library readable"


def enrollments(client: Go1Client, settings: Go1Settings) -> str:
    """Where the gateway answers the enrollment list (the stream's own choice of path)."""
    candidates = path_candidates(settings.enrollments_path, None)
    path, _ = first_page(lambda p: client.get(p, [("limit", "1"), ("offset", "0")]),
                         candidates)
    if settings.enrollments_path:
        return f"enrollments readable at GET {path} (GO1_ENROLLMENTS_PATH)"
    if path != ENROLLMENTS_PATH:
        return (f"enrollments readable at GET {path} (the OpenAPI's server entry: GET "
                f"{ENROLLMENTS_PATH} answered 404)")
    return f"enrollments readable at GET {path}"


def accounts(client: Go1Client) -> str:
    client.get("/user-accounts", [("limit", "1")])
    return "user accounts readable"


class NotRegistered(ExtractError):
    """go1sync's webhook is missing or inactive on the portal."""


def webhook(client: Go1Client, url: str | None) -> str:
    """Whether go1sync's webhook (the one calling ``url``) is registered and active."""
    hooks = list_webhooks(client)
    if url is None:
        return (f"webhooks readable ({len(hooks)} on the portal); GO1SYNC_WEBHOOK_URL is "
                "unset, so go1sync's cannot be told apart")
    found = next((w for w in hooks if w.calls(url)), None)
    if found is None:
        raise NotRegistered(f"no webhook calls {url}: run `webhooks register`")
    if not found.active:
        raise NotRegistered(f"webhook {found.id} calls {url} but is {found.status}: run "
                            "`webhooks register` to make it active again")
    return f"go1sync's webhook {found.id} is registered and active ({url})"
