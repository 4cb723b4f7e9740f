"""Harmless reads that prove a Go1 scope, for ``check``: each answers a sentence or raises.

One read per scope (extract/endpoints.py): the smallest page of the call a run makes with it.
"""

from __future__ import annotations

from extract.client import Go1Client
from extract.endpoints import ENROLLMENTS_PATH
from extract.streams.enrollments import first_page, path_candidates
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
