"""``python cli.py check``: is everything a run needs in place? Reads only, changes nothing.

Mirrors the description's last step ("Verify the API information is correct"): both sets of
credentials, each scope a run and a reconcile use that a harmless read can prove (the write
scopes cannot be proven without writing: a push names any that is missing), the 360Learning
groups, the connector admin and the integration's name. Each check answers on its own, so one
failure does not hide the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from extract.client import Go1Client
from extract.endpoints import ENROLLMENTS_PATH
from extract.errors import ExtractError, ScopeError
from extract.streams.enrollments import first_page, path_candidates
from load.bulk import OPERATIONS_PATH
from load.client import L360Client
from load.endpoints import ENDPOINTS as L360_ENDPOINTS
from load.errors import LoadError
from load.errors import ScopeError as L360ScopeError
from load.integration import admin_user_id, check_group
from settings import Config, SettingsError

# Scopes only a write can prove; named so that nobody takes the checklist for a proof of them.
_READ_SCOPES = {e.scope for e in L360_ENDPOINTS if e.method == "GET"}
WRITE_SCOPES = tuple(dict.fromkeys(e.scope for e in L360_ENDPOINTS
                                   if e.scope and e.scope not in _READ_SCOPES))


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    info: bool = False  # not a verdict: something check cannot prove without changing data


def _run(name: str, action: Callable[[], str]) -> Check:
    try:
        return Check(name, True, action())
    except (ScopeError, L360ScopeError) as exc:
        scope = f" (missing scope {exc.scope})" if exc.scope else ""
        return Check(name, False, f"invalid_scope{scope}: {exc}")
    except (ExtractError, LoadError, SettingsError) as exc:
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
            candidates = path_candidates(go1.enrollments_path, None)
            path, _ = first_page(
                lambda p: client.get(p, [("limit", "1"), ("offset", "0")]), candidates)
            if go1.enrollments_path:
                return f"enrollments readable at GET {path} (GO1_ENROLLMENTS_PATH)"
            if path != ENROLLMENTS_PATH:
                return (f"enrollments readable at GET {path} (the OpenAPI's server entry: GET "
                        f"{ENROLLMENTS_PATH} answered 404)")
            return f"enrollments readable at GET {path}"

        def accounts() -> str:
            client.get("/user-accounts", [("limit", "1")])
            return "user accounts readable"

        return [_run("Go1 credentials and scope lo.read", library),
                _run("Go1 scope enrollment.read", enrollments),
                _run("Go1 scope user.read", accounts)]


def _l360_checks(config: Config) -> list[Check]:
    try:
        l360 = config.l360()
    except SettingsError as exc:
        return [Check("360Learning settings", False, str(exc))]
    with L360Client(l360) as client:
        def credentials() -> str:
            client.get("/api/v2/integrations", [("externalPlatform[eq]", l360.platform_name)])
            return "token issued, integrations readable"

        def group(group_id: str, role: str) -> Callable[[], str]:
            def run() -> str:
                check_group(client, group_id)
                return f"exists, {role}"
            return run

        def readable(path: str, what: str) -> Callable[[], str]:
            def run() -> str:
                client.get(path)
                return what
            return run

        checks = [_run("360Learning credentials and scope integrations:read", credentials)]
        for n, group_id in enumerate(l360.group_ids):
            role = "hosts the integration" if n == 0 else "receives the courses"
            checks.append(_run(f"360Learning group {group_id} (groups:read)",
                               group(group_id, role)))
        checks.append(_run(f"connector admin {l360.admin_email} (users:read)",
                           lambda: f"user {admin_user_id(client, l360.admin_email)}"))
        checks.append(_run(f"integration {l360.platform_name!r}",
                           lambda: _integration(client, l360.platform_name, l360.group_ids[0])))
        checks.append(_run("360Learning scope bulkOperations:read", readable(
            OPERATIONS_PATH, "bulk operations readable (a push settles each one it submits)")))
        checks.append(_run("360Learning scope courses:read (reconcile)",
                           readable("/api/v2/courses", "courses readable")))
        checks.append(_run("360Learning scope courseStats:read (reconcile)",
                           readable("/api/v2/courses/stats", "course statistics readable")))
        checks.append(Check(
            "360Learning write scopes", True,
            f"{', '.join(WRITE_SCOPES)}: not proven here (it would take a write); a push that "
            "lacks one stops at the call 360Learning refuses, naming the scope", info=True))
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
