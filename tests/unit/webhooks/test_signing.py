"""Signatures: HMAC-SHA256 over "t.body", verified by the exported helper."""

from __future__ import annotations

import hashlib
import hmac

from chalicelib.webhooks.signing import parse_header, sign, verify_signature

SECRET = "whsec_abc123"
BODY = b'{"event":"project.completed","project_id":"proj_1"}'


def test_sign_is_hmac_sha256_over_timestamp_dot_body() -> None:
    header = sign(SECRET, 1_700_000_000, BODY)
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_verify_accepts_its_own_signature_and_str_bodies() -> None:
    header = sign(SECRET, 1000, BODY)
    assert verify_signature(SECRET, header, BODY, now=1000)
    assert verify_signature(SECRET, header, BODY.decode(), now=1100)


def test_verify_rejects_tampering_wrong_secret_and_stale_timestamps() -> None:
    header = sign(SECRET, 1000, BODY)
    assert not verify_signature(SECRET, header, BODY + b" ", now=1000)
    assert not verify_signature("whsec_other", header, BODY, now=1000)
    assert not verify_signature(SECRET, header, BODY, now=1000 + 301)
    assert verify_signature(SECRET, header, BODY, tolerance=0, now=99999)  # tolerance 0 disables the window
    forged_time = header.replace("t=1000", "t=1001")
    assert not verify_signature(SECRET, forged_time, BODY, now=1001)


def test_verify_rejects_malformed_headers_and_accepts_any_of_several_v1() -> None:
    for bad in ("", "garbage", "t=abc,v1=00", "v1=deadbeef", "t=1000"):
        assert not verify_signature(SECRET, bad, BODY, now=1000)
    good = sign(SECRET, 1000, BODY).split("v1=")[1]
    rotated = f"t=1000,v1={'0' * 64},v1={good}"
    assert verify_signature(SECRET, rotated, BODY, now=1000)
    assert parse_header(rotated) == (1000, ["0" * 64, good])


def test_standard_headers_verify_with_the_standardwebhooks_package_for_each_secret() -> None:
    import time

    from standardwebhooks import Webhook, WebhookVerificationError

    from chalicelib.webhooks.signing import standard_headers, verify_standard
    from chalicelib.webhooks.signing_secrets import new_secret

    new, old = new_secret(), new_secret()
    headers = standard_headers([new, old], "evt_1", int(time.time()), BODY)
    assert headers["webhook-id"] == "evt_1" and headers["webhook-signature"].count("v1,") == 2
    for secret in (new, old):
        assert Webhook(secret).verify(BODY, headers)["project_id"] == "proj_1"
        assert verify_standard(secret, headers, BODY)
    try:
        Webhook(new_secret()).verify(BODY, headers)
    except WebhookVerificationError:
        pass
    else:
        raise AssertionError("a third secret verified")
    assert not verify_standard(new, headers, BODY + b" ")
    assert not verify_standard(new, {**headers, "webhook-signature": "garbage"}, BODY)
