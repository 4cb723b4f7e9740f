"""Go1's webhook signature: ``Go1-Signature: t=<unix seconds>,v1=<hex>``.

``v1`` is ``HMAC-SHA256(secret_key, "<t>.<raw body>")`` in hexadecimal, as Go1's published
verifier (``go1com/webhook-verifier-js``) computes it: over the timestamp as an integer, a dot
and the body exactly as it arrived. A delivery is refused (:class:`SignatureRefused`) when the
header is missing or malformed, when ``t`` is more than ``tolerance`` seconds from now (a
replayed delivery), or when no ``v1`` matches.

This verifier accepts a little more than Go1's, never less of what Go1 sends:

- Go1's reads the header by position (``t`` first, ``v1`` second, one of each). This one reads
  ``key=value`` pairs in any order, ignores keys it does not know (a future ``v2``, say) and
  accepts several ``v1`` values, any one matching being enough, so a secret can be rotated.
- Go1's refuses only a ``t`` too far in the past, 60 s by default. This one refuses a ``t`` too
  far either way (a clock running ahead is as suspicious as a replay), 300 s by default, as
  the receiver's contract says.
- The hex digest is compared without regard to case, with :func:`hmac.compare_digest`.

No reason text ever holds the secret, the expected digest or the digest received: the reasons
are fixed sentences, logged and answered as they are.
"""

from __future__ import annotations

import hashlib
import hmac
import re

HEADER = "Go1-Signature"
#: The WSGI ``environ`` key of :data:`HEADER`.
ENVIRON_KEY = "HTTP_GO1_SIGNATURE"
DEFAULT_TOLERANCE = 300.0

_DIGITS = re.compile(r"[0-9]{1,15}")
_HEX = re.compile(r"[0-9a-fA-F]+")


class SignatureRefused(Exception):
    """Internal to the receiver: the delivery's signature is refused; ``reason`` says why, in
    words that hold nothing secret. The receiver answers 401 and drops the event."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def digest(secret: str, body: bytes, t: int) -> str:
    """The ``v1`` of ``body`` sent at ``t`` (unix seconds), in lowercase hexadecimal."""
    message = b"%d." % t + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, t: int | float) -> str:
    """The ``Go1-Signature`` header value Go1 would send with ``body`` at ``t``."""
    seconds = int(t)
    return f"t={seconds},v1={digest(secret, body, seconds)}"


def verify(header: str | None, body: bytes, secret: str, now: float,
           tolerance: float = DEFAULT_TOLERANCE) -> None:
    """Return when ``header`` signs ``body`` with ``secret`` at a time within ``tolerance``
    seconds of ``now``; else raise :class:`SignatureRefused`."""
    if header is None or not header.strip():
        raise SignatureRefused(f"no {HEADER} header")
    stamps: set[str] = set()
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            continue  # not a pair: nothing Go1 sends, nothing to check
        key, value = key.strip(), value.strip()
        if key == "t":
            stamps.add(value)
        elif key == "v1":
            signatures.append(value)
    if not stamps:
        raise SignatureRefused(f"malformed {HEADER} header: no t")
    if len(stamps) > 1:
        raise SignatureRefused(f"malformed {HEADER} header: several different t")
    (stamp,) = stamps
    if not _DIGITS.fullmatch(stamp):
        raise SignatureRefused(f"malformed {HEADER} header: t is not a whole number of seconds")
    if not signatures:
        raise SignatureRefused(f"malformed {HEADER} header: no v1")
    if not all(_HEX.fullmatch(value) for value in signatures):
        raise SignatureRefused(f"malformed {HEADER} header: v1 is not hexadecimal")
    t = int(stamp)
    away = abs(now - t)
    if away > tolerance:
        ahead = ", in the future" if t > now else ""
        raise SignatureRefused(f"timestamp {away:.0f} s away from now{ahead} (more than "
                               f"{tolerance:.0f} s)")
    expected = digest(secret, body, t)
    # every value is compared, so the time taken says nothing of which one matched
    matched = [hmac.compare_digest(expected, value.lower()) for value in signatures]
    if not any(matched):
        raise SignatureRefused("no v1 matches the body and the secret")
