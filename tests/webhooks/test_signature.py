"""Go1-Signature: what is accepted and refused, and that no reason gives away a digest."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from go1sync.webhooks.signature import SignatureRefused, digest, sign, verify

SECRET = "whsec-test"
BODY = b'{"id":"evt-1","event_type":"enrollment.complete"}'
NOW = 1_700_000_000.0
# openssl dgst -sha256 -hmac whsec-test of '1700000000.' + BODY: computed apart from the code
VECTOR = "b07972a9590bdc37659a6bca72d853b5ddba41ceb47bbd5678703f3a8e8b853e"


def refused(header: str | None, body: bytes = BODY, secret: str = SECRET,
            now: float = NOW) -> str:
    with pytest.raises(SignatureRefused) as caught:
        verify(header, body, secret, now)
    reason = caught.value.reason
    for secret_part in (SECRET, digest(SECRET, body, int(NOW)), VECTOR):
        assert secret_part not in reason
    return reason


def test_a_known_vector_and_the_header_sign_gives() -> None:
    assert digest(SECRET, BODY, 1_700_000_000) == VECTOR
    assert sign(SECRET, BODY, NOW) == f"t=1700000000,v1={VECTOR}"
    # the form Go1's verifier's own tests build: t=<t>,v1=HMAC(secret, "<t>.<payload>")
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, 1_700_000_000.9) == f"t=1700000000,v1={expected}"


def test_a_good_signature_is_accepted() -> None:
    verify(sign(SECRET, BODY, NOW), BODY, SECRET, NOW)
    verify(sign(SECRET, BODY, NOW - 300), BODY, SECRET, NOW)  # the edge of the tolerance
    verify(sign(SECRET, BODY, NOW + 300), BODY, SECRET, NOW)


def test_a_tampered_body_or_a_wrong_secret_is_refused() -> None:
    header = sign(SECRET, BODY, NOW)
    assert refused(header, body=BODY.replace(b"complete", b"create")) == \
        "no v1 matches the body and the secret"
    assert refused(header, body=BODY + b" ") == "no v1 matches the body and the secret"
    assert refused(header, secret="another-secret") == "no v1 matches the body and the secret"
    assert refused(sign("another-secret", BODY, NOW)) == "no v1 matches the body and the secret"
    # the timestamp is signed too: moving it breaks the signature
    assert refused(f"t={int(NOW) + 1},v1={VECTOR}") == "no v1 matches the body and the secret"


def test_a_stale_or_future_timestamp_is_refused_past_300_s() -> None:
    assert refused(sign(SECRET, BODY, NOW - 301)) == \
        "timestamp 301 s away from now (more than 300 s)"
    assert refused(sign(SECRET, BODY, NOW + 301)) == \
        "timestamp 301 s away from now, in the future (more than 300 s)"
    assert refused(sign(SECRET, BODY, NOW - 412)).startswith("timestamp 412 s away from now")
    with pytest.raises(SignatureRefused):
        verify(sign(SECRET, BODY, NOW - 61), BODY, SECRET, NOW, tolerance=60)


@pytest.mark.parametrize(("header", "reason"), [
    (None, "no Go1-Signature header"),
    ("", "no Go1-Signature header"),
    ("   ", "no Go1-Signature header"),
    ("nonsense", "malformed Go1-Signature header: no t"),
    (f"v1={VECTOR}", "malformed Go1-Signature header: no t"),
    (f"t=abc,v1={VECTOR}", "malformed Go1-Signature header: t is not a whole number of seconds"),
    (f"t=1700000000.5,v1={VECTOR}",
     "malformed Go1-Signature header: t is not a whole number of seconds"),
    (f"t=-1700000000,v1={VECTOR}",
     "malformed Go1-Signature header: t is not a whole number of seconds"),
    (f"t=1_700_000_000,v1={VECTOR}",
     "malformed Go1-Signature header: t is not a whole number of seconds"),
    (f"t=1700000000,t=1700000001,v1={VECTOR}",
     "malformed Go1-Signature header: several different t"),
    ("t=1700000000", "malformed Go1-Signature header: no v1"),
    (f"t=1700000000,v0={VECTOR}", "malformed Go1-Signature header: no v1"),
    ("t=1700000000,v1=", "malformed Go1-Signature header: v1 is not hexadecimal"),
    ("t=1700000000,v1=not-hex", "malformed Go1-Signature header: v1 is not hexadecimal"),
])
def test_malformed_headers_are_refused(header: str | None, reason: str) -> None:
    assert refused(header) == reason


def test_several_pairs_several_v1_and_unknown_keys() -> None:
    wrong = digest("old-secret", BODY, int(NOW))
    verify(f"t=1700000000,v1={wrong},v1={VECTOR}", BODY, SECRET, NOW)  # any v1 is enough
    verify(f"v1={VECTOR}, t=1700000000", BODY, SECRET, NOW)  # any order, spaces
    verify(f"t=1700000000,v2=zzz,v1={VECTOR},scheme", BODY, SECRET, NOW)  # unknown keys
    verify(f"t=1700000000,v1={VECTOR.upper()}", BODY, SECRET, NOW)
    assert refused(f"t=1700000000,v1={wrong},v1={wrong[::-1]}") == \
        "no v1 matches the body and the secret"
    assert refused(f"t=1700000000,v1={VECTOR[:-2]}") == "no v1 matches the body and the secret"
