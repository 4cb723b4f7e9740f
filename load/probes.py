"""Harmless reads that prove a 360Learning scope, for ``check``: each answers a sentence or
raises. The write scopes cannot be proven without writing (``WRITE_SCOPES``)."""

from __future__ import annotations

from go1sync.settings import L360Settings
from load.bulk import OPERATIONS_PATH
from load.client import L360Client
from load.endpoints import ENDPOINTS
from load.integration import admin_user_id, check_group, find_integration

_READ_SCOPES = {e.scope for e in ENDPOINTS if e.method == "GET"}
WRITE_SCOPES = tuple(dict.fromkeys(e.scope for e in ENDPOINTS
                                   if e.scope and e.scope not in _READ_SCOPES))

# path -> what a successful read of its first page says
READABLE = {
    OPERATIONS_PATH: "bulk operations readable (a push settles each one it submits)",
    "/api/v2/courses": "courses readable",
    "/api/v2/courses/stats": "course statistics readable",
}


def credentials(client: L360Client, settings: L360Settings) -> str:
    client.get("/api/v2/integrations", [("externalPlatform[eq]", settings.platform_name)])
    return "token issued, integrations readable"


def group(client: L360Client, group_id: str, role: str) -> str:
    check_group(client, group_id)
    return f"exists, {role}"


def admin(client: L360Client, settings: L360Settings) -> str:
    return f"user {admin_user_id(client, settings.admin_email)}"


def integration(client: L360Client, settings: L360Settings) -> str:
    found = find_integration(client, settings)
    if found is None:
        return "not set up yet: the first push creates it"
    return f"exists (id {found['_id']})"


def readable_name(path: str) -> str:
    """The check's name for a READABLE path: the scope its endpoint needs (load/endpoints.py),
    and whether only reconcile makes the call."""
    endpoint = next(e for e in ENDPOINTS if e.matches("GET", path))
    reconcile_only = "" if "run" in endpoint.commands else " (reconcile)"
    return f"360Learning scope {endpoint.scope}{reconcile_only}"


def readable(client: L360Client, path: str) -> str:
    client.get(path)
    return READABLE[path]
