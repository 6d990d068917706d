"""How each provider proves a delivery is its own. Pure functions over the raw body and the headers.

GitHub (and GitHub Apps) and Bitbucket Cloud sign the raw body with HMAC-SHA256 (``sha256=<hex>``),
GitLab echoes a shared token, Stripe signs ``"{timestamp}.{body}"`` and sends the timestamp along
so that an old delivery cannot be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Protocol


class SignatureError(Exception):
    """The delivery cannot be trusted; the message says why (it never contains the secret)."""


class Verifier(Protocol):
    def __call__(
        self, secret: str, headers: Mapping[str, str], body: bytes, *, now: float, tolerance: int
    ) -> None: ...


# Unix seconds in ASCII digits only: str.isdigit() also accepts "²" or "١٢٣", which then break
# the ASCII signing input; twelve digits reach far beyond any sane clock.
_STRIPE_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def verify_hub_signature(secret: str, body: bytes, header: str | None, header_name: str) -> None:
    """``sha256=<hex HMAC-SHA256 of the raw body>``, as GitHub and Bitbucket Cloud send it."""
    if not header or not header.strip():
        raise SignatureError(f"missing {header_name} header")
    algorithm, _, digest = header.strip().partition("=")
    if algorithm.lower() != "sha256" or not digest:
        raise SignatureError(f"{header_name} must be sha256=<hex digest>")
    if not _same(hmac_sha256_hex(secret, body), digest.lower()):
        raise SignatureError(f"{header_name} does not match the payload")


def verify_github(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float, tolerance: int
) -> None:
    verify_hub_signature(secret, body, headers.get("x-hub-signature-256"), "X-Hub-Signature-256")


def verify_bitbucket(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float, tolerance: int
) -> None:
    verify_hub_signature(secret, body, headers.get("x-hub-signature"), "X-Hub-Signature")


def verify_gitlab(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float, tolerance: int
) -> None:
    """GitLab signs nothing: it sends the configured secret token back in X-Gitlab-Token."""
    token = headers.get("x-gitlab-token")
    if not token:
        raise SignatureError("missing X-Gitlab-Token header")
    if not _same(secret, token):
        raise SignatureError("X-Gitlab-Token does not match the configured secret")


def verify_stripe(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float, tolerance: int
) -> None:
    """``Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`` (several v1 while a secret rolls)."""
    header = headers.get("stripe-signature")
    if not header:
        raise SignatureError("missing Stripe-Signature header")
    timestamp: str | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1" and value:
            signatures.append(value.lower())
    if timestamp is None or not _STRIPE_TIMESTAMP.fullmatch(timestamp):
        raise SignatureError("Stripe-Signature has no valid timestamp (t=)")
    if not signatures:
        raise SignatureError("Stripe-Signature has no v1 signature")
    expected = hmac_sha256_hex(secret, timestamp.encode("ascii") + b"." + body)
    # Compare with every candidate (no early exit): the time taken says nothing about which matched.
    matched = [_same(expected, candidate) for candidate in signatures]
    if not any(matched):
        raise SignatureError("Stripe-Signature does not match the payload")
    if abs(now - int(timestamp)) > tolerance:
        raise SignatureError(f"Stripe-Signature timestamp is more than {tolerance} seconds from now")
