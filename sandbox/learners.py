"""The learners a 360Learning stand-in should know: the Go1 stand-in's, by the same email.

The integration needs the same people on both sides, so tests, the demo and ``cli.py sandbox``
seed the 360Learning sandbox with these.
"""

from __future__ import annotations

from sandbox.go1 import Go1Sandbox


def learner_emails(go1: Go1Sandbox) -> list[str]:
    """The Go1 learners' emails: 360Learning must know the same people by the same email."""
    found = {((a.get("user") or {}).get("email") or "").strip().lower()
             for a in go1.user_accounts.values()}
    return sorted(e for e in found if e)
