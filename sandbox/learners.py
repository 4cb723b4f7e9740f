"""The learners a 360Learning stand-in should know: the Go1 stand-in's, by the same email.

The integration needs the same people on both sides, so tests, the demo and ``cli.py sandbox``
seed the 360Learning sandbox with these.
"""

from __future__ import annotations

from sandbox.go1 import Go1Sandbox


def learner_emails(go1: Go1Sandbox) -> list[str]:
    """The Go1 learners' emails, spelt as Go1 spells them (one per address, case aside): the
    same people by the same email. 360Learning's matching of ``mail`` is undocumented as to
    case, and the sandbox matches it exactly, so a client that changes the spelling (lowers
    it, say) and sends it as ``mail`` is caught wherever Go1's spelling has capitals."""
    found: dict[str, str] = {}
    for account in sorted(go1.user_accounts.values(), key=lambda a: str(a.get("id"))):
        email = ((account.get("user") or {}).get("email") or "").strip()
        if email:
            found.setdefault(email.lower(), email)
    return sorted(found.values(), key=str.lower)
