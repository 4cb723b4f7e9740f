"""An API's table of calls: each one's path template, OAuth scope, commands and source.

Each API package keeps one table (``extract/endpoints.py``, ``load/endpoints.py``); the client
names a missing scope from it, ``check`` probes from it, the README's "Endpoints and scopes" is
generated from it, and the contract tests assert that the calls made are exactly its rows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    """One call: ``path`` is a template (``{id}`` is one segment)."""

    method: str
    path: str
    scope: str | None  # None: the token call, which needs credentials, not a scope
    commands: tuple[str, ...]  # the commands that make this call
    purpose: str
    source: str

    def matches(self, method: str, path: str) -> bool:
        wanted, given = self.path.split("/"), path.split("?", 1)[0].split("/")
        return method.upper() == self.method and len(wanted) == len(given) and all(
            w == g or (w.startswith("{") and w.endswith("}") and g != "")
            for w, g in zip(wanted, given, strict=True))


def scope_of(table: tuple[Endpoint, ...], method: str, path: str) -> str | None:
    """The scope a call of ``table`` (Go1's or 360Learning's) needs; None for a call go1sync
    does not make."""
    return next((e.scope for e in table if e.matches(method, path)), None)
