"""Secrets: token generation, digests, and the root admin token check.

Customer and CMA tokens are high-entropy, so a SHA-256 digest is enough to store and look them up;
Argon2 is only for ADMIN_TOKEN_HASH (a possibly low-entropy operator secret) and its result is
memoised so it never runs on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import threading
import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_ALPHABET = string.ascii_letters + string.digits
CUSTOMER_TOKEN_PREFIX = "tok_"


def random_alphanumeric(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_customer_token() -> str:
    return CUSTOMER_TOKEN_PREFIX + random_alphanumeric(40)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_hint(token: str) -> str:
    """A short, non-secret reminder of which token this is (prefix + last 4)."""
    return f"{token[:4]}…{token[-4:]}"


class AdminTokenVerifier:
    """Checks a presented bearer/basic secret against ADMIN_TOKEN or ADMIN_TOKEN_HASH."""

    def __init__(self, plain: str | None, argon2_hash: str | None) -> None:
        self._plain_digest = token_digest(plain) if plain else None
        self._hash = argon2_hash
        self._verified_digests: set[str] = set()
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        return bool(self._plain_digest or self._hash)

    def verify(self, presented: str) -> bool:
        digest = token_digest(presented)
        if self._plain_digest is not None and hmac.compare_digest(digest, self._plain_digest):
            return True
        if not self._hash:
            return False
        if digest in self._verified_digests:
            return True
        try:
            PasswordHasher().verify(self._hash, presented)
        except (VerificationError, InvalidHashError):
            return False
        with self._lock:
            self._verified_digests.add(digest)
        return True
