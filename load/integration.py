"""Finding (or creating) the 360Learning integration the courses and statistics belong to.

One integration per platform, group and ``externalPlatform`` name: found by name in the first
group of ``L360_GROUP_IDS``, else created with the connector admin as author. The other groups
receive the courses in their catalog and library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apiclient.paths import segment
from go1sync.settings import L360Settings
from load.client import L360Client
from load.errors import LoadError


@dataclass(frozen=True)
class Integration:
    id: str
    group_id: str
    author_id: str | None
    share_group_ids: tuple[str, ...]
    created: bool = False


def admin_user_id(client: L360Client, email: str) -> str:
    """The connector admin's user id, by ``mail[eq]``; whether that filter ignores case is not
    documented, so when it finds nobody the user list is searched trimmed and
    case-insensitively, as learners are matched."""
    users = client.get("/api/v2/users", [("mail[eq]", email)]).data
    if isinstance(users, list) and users and users[0].get("_id"):
        return str(users[0]["_id"])
    wanted = email.strip().lower()
    for user in client.get_all("/api/v2/users"):
        mail = user.get("mail") if isinstance(user, dict) else None
        if isinstance(mail, str) and mail.strip().lower() == wanted and user.get("_id") and \
                user.get("status") != "deleted":
            return str(user["_id"])
    raise LoadError(f"the connector admin {email} (L360_ADMIN_EMAIL) is not a 360Learning user")


def check_group(client: L360Client, group_id: str) -> None:
    try:
        client.get(f"/api/v2/groups/{segment(group_id)}")
    except LoadError as exc:
        if exc.status == 404:
            raise LoadError(f"360Learning has no group {group_id} (L360_GROUP_IDS)") from None
        raise


def find_integration(client: L360Client, settings: L360Settings) -> dict[str, Any] | None:
    """The integration of this platform name in the host group (the first of
    ``L360_GROUP_IDS``), as 360Learning lists it, or None when there is none yet."""
    found = client.get("/api/v2/integrations",
                       [("externalPlatform[eq]", settings.platform_name)]).data
    for item in found if isinstance(found, list) else []:
        if isinstance(item, dict) and str(item.get("groupId")) == settings.group_ids[0] \
                and item.get("_id"):
            return item
    return None


def ensure_integration(client: L360Client, settings: L360Settings) -> Integration:
    host, *others = settings.group_ids
    found = find_integration(client, settings)
    if found is not None:
        return Integration(str(found["_id"]), host, found.get("authorId"), tuple(others))
    check_group(client, host)
    author = admin_user_id(client, settings.admin_email)
    try:
        created = client.post("/api/v2/integrations", {
            "externalPlatform": settings.platform_name, "groupId": host, "authorId": author,
        }).data
    except LoadError as exc:
        if exc.code == "reservedPlatformName":
            raise LoadError(f"360Learning reserves the platform name {settings.platform_name!r}"
                            " (L360_PLATFORM_NAME): choose another") from None
        raise
    return Integration(str(created["_id"]), host, author, tuple(others), created=True)
