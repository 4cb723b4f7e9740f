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
from functools import partial

from apiclient.errors import ApiError, ScopeMissing
from extract import probes as go1_probes
from extract.client import Go1Client
from go1sync.settings import Config, SettingsError
from load import probes as l360_probes
from load.client import L360Client


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    info: bool = False  # not a verdict: something check cannot prove without changing data


def _run(name: str, action: Callable[[], str]) -> Check:
    try:
        return Check(name, True, action())
    except ScopeMissing as exc:
        missing = f"missing scope {exc.scope}" if exc.scope else "a scope is missing"
        return Check(name, False, f"{missing}: {exc}")
    except (ApiError, SettingsError) as exc:
        return Check(name, False, str(exc))


def _go1_checks(config: Config) -> list[Check]:
    try:
        go1, limits = config.go1(), config.http_limits()
    except SettingsError as exc:
        return [Check("Go1 settings", False, str(exc))]
    with Go1Client(go1, limits=limits) as client:
        return [_run("Go1 credentials and scope lo.read", partial(go1_probes.library, client)),
                _run("Go1 scope enrollment.read",
                     partial(go1_probes.enrollments, client, go1)),
                _run("Go1 scope user.read", partial(go1_probes.accounts, client)),
                *_webhook_checks(config, client)]


def _webhook_checks(config: Config, client: Go1Client) -> list[Check]:
    """Only for a setup that uses webhooks (a secret or a public URL is set)."""
    try:
        url = config.get("webhooks.public_url")
        used = url is not None or config.webhook_secret() is not None
    except SettingsError as exc:
        return [Check("Go1 webhook settings", False, str(exc))]
    if not used:
        return []
    return [_run("Go1 webhook (scope webhook.read)", partial(go1_probes.webhook, client, url))]


def _l360_checks(config: Config) -> list[Check]:
    try:
        l360, limits = config.l360(), config.http_limits()
    except SettingsError as exc:
        return [Check("360Learning settings", False, str(exc))]
    with L360Client(l360, limits=limits) as client:
        checks = [_run("360Learning credentials and scope integrations:read",
                       partial(l360_probes.credentials, client, l360))]
        for n, group_id in enumerate(l360.group_ids):
            role = "hosts the integration" if n == 0 else "receives the courses"
            checks.append(_run(f"360Learning group {group_id} (groups:read)",
                               partial(l360_probes.group, client, group_id, role)))
        checks.append(_run(f"connector admin {l360.admin_email} (users:read)",
                           partial(l360_probes.admin, client, l360)))
        checks.append(_run(f"integration {l360.platform_name!r}",
                           partial(l360_probes.integration, client, l360)))
        for path in l360_probes.READABLE:
            checks.append(_run(l360_probes.readable_name(path),
                               partial(l360_probes.readable, client, path)))
        checks.append(Check(
            "360Learning write scopes", True,
            f"{', '.join(l360_probes.WRITE_SCOPES)}: not proven here (it would take a write); a "
            "push that lacks one stops at the call 360Learning refuses, naming the scope",
            info=True))
        return checks


def run_checks(config: Config) -> list[Check]:
    return [*_go1_checks(config),
            _run("Go1 portal URL (launch links)", config.portal_url),
            *_l360_checks(config)]
