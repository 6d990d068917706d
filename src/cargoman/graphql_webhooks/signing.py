"""Delivery signatures, so a receiver can tell a delivery came from this registry and is fresh.

Headers of every delivery:

* ``X-Cargoman-Event``: the event (``PACKAGE_SYNCED``...);
* ``X-Cargoman-Delivery``: the event id (all attempts of one event share it: deduplicate on it);
* ``X-Cargoman-Timestamp``: Unix seconds when the attempt was signed;
* ``X-Cargoman-Signature``: ``sha256=`` + hex HMAC-SHA256, keyed with the webhook secret, of
  ``<timestamp>.<body>`` (the timestamp header, a dot, then the exact body bytes).

The timestamp is signed too, so a captured delivery cannot be replayed later under a new
timestamp: receivers should verify the signature, then refuse timestamps too far from their clock.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SIGNATURE_SCHEME = "sha256="

EVENT_HEADER = "X-Cargoman-Event"
DELIVERY_HEADER = "X-Cargoman-Delivery"
TIMESTAMP_HEADER = "X-Cargoman-Timestamp"
SIGNATURE_HEADER = "X-Cargoman-Signature"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signed_material(timestamp: str, body: bytes) -> bytes:
    return timestamp.encode("ascii") + b"." + body


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Cargoman-Signature`` value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), signed_material(timestamp, body), hashlib.sha256).hexdigest()
    return SIGNATURE_SCHEME + digest


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)
