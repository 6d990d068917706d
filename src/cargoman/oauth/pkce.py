"""PKCE (RFC 7636): a one-time verifier kept server-side and its S256 challenge sent to the provider."""

from __future__ import annotations

import base64
import hashlib
import secrets


def new_code_verifier() -> str:
    # 64 URL-safe characters: inside RFC 7636's 43-128 and only from its unreserved alphabet.
    return secrets.token_urlsafe(48)


def s256_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
