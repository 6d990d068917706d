"""Delivery signatures: HMAC-SHA256 of ``<timestamp>.<body>``, hex, prefixed ``sha256=``."""

from __future__ import annotations

import hashlib
import hmac

from cargoman.graphql_webhooks import signing


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"data":{"package":{"name":"acme/lib"}}}'
    expected = hmac.new(b"whsec_key", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signing.sign("whsec_key", "1700000000", body) == "sha256=" + expected


def test_verify_accepts_the_signature_and_refuses_any_change() -> None:
    body = b'{"data":null}'
    signature = signing.sign("whsec_key", "1700000000", body)
    assert signing.verify("whsec_key", "1700000000", body, signature)
    assert not signing.verify("whsec_other", "1700000000", body, signature)
    assert not signing.verify("whsec_key", "1700000001", body, signature)  # replayed under a new time
    assert not signing.verify("whsec_key", "1700000000", body + b" ", signature)


def test_secrets_are_random_and_prefixed() -> None:
    first, second = signing.new_secret(), signing.new_secret()
    assert first != second
    assert first.startswith("whsec_") and len(first) > 40
