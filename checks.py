"""``python cli.py check``: is everything a run needs in place? Reads only, changes nothing.

Mirrors the description's last step ("Verify the API information is correct"): both sets of
credentials, the scopes the run uses, the 360Learning groups, the connector admin and the
integration's name. Each check answers on its own, so one failure does not hide the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from extract.client import Go1Client
from extract.errors import ExtractError
from load.client import L360Client
from load.errors import LoadError, ScopeError
from load.integration import admin_user_id, check_group
from settings import Config, SettingsError


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def _run(name: str, action: Callable[[], str]) -> Check:
    try:
        return Check(name, True, action())
    except ScopeError as exc:
        scope = f" (missing scope {exc.scope})" if exc.scope else ""
        return Check(name, False, f"invalid_scope{scope}: {exc}")
    except ExtractError as exc:
        if exc.status == 403:
            return Check(name, False, f"invalid_scope: the Go1 integration may not do this: {exc}")
        return Check(name, False, str(exc))
    except (LoadError, SettingsError) as exc:
        return Check(name, False, str(exc))


def _go1_checks(config: Config) -> list[Check]:
    try:
        go1 = config.go1()
    except SettingsError as exc:
        return [Check("Go1 settings", False, str(exc))]
    with Go1Client(go1) as client:
        def library() -> str:
            client.get("/learning-objects", [("collection", "library"), ("limit", "1")])
            return "token issued, My Library readable"

        def enrollments() -> str:
            client.get(go1.enrollments_path, [("limit", "1"), ("offset", "0")])
            return "enrollments readable"

        return [_run("Go1 credentials and scope lo.read", library),
                _run("Go1 scope enrollment.read", enrollments)]


def _l360_checks(config: Config) -> list[Check]:
    try:
        l360 = config.l360()
    except SettingsError as exc:
        return [Check("360Learning settings", False, str(exc))]
    with L360Client(l360) as client:
        def credentials() -> str:
            client.get("/api/v2/integrations", [("externalPlatform[eq]", l360.platform_name)])
            return "token issued"

        def group(group_id: str, role: str) -> Callable[[], str]:
            def run() -> str:
                check_group(client, group_id)
                return f"exists, {role}"
            return run

        checks = [_run("360Learning credentials", credentials)]
        for n, group_id in enumerate(l360.group_ids):
            role = "hosts the integration" if n == 0 else "receives the courses"
            checks.append(_run(f"360Learning group {group_id}", group(group_id, role)))
        checks.append(_run(f"connector admin {l360.admin_email}",
                           lambda: f"user {admin_user_id(client, l360.admin_email)}"))
        checks.append(_run(f"integration {l360.platform_name!r}",
                           lambda: _integration(client, l360.platform_name, l360.group_ids[0])))
        return checks


def run_checks(config: Config) -> list[Check]:
    return [*_go1_checks(config),
            _run("Go1 portal URL (launch links)", config.portal_url),
            *_l360_checks(config)]


def _integration(client: L360Client, name: str, host: str) -> str:
    found = client.get("/api/v2/integrations", [("externalPlatform[eq]", name)]).data
    for item in found if isinstance(found, list) else []:
        if str(item.get("groupId")) == host:
            return f"exists (id {item.get('_id')})"
    return "not set up yet: the first push creates it"
