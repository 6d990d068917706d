"""The short-lived RS256 JWT that authenticates the app itself to GitHub."""

from __future__ import annotations

import time
from functools import lru_cache

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from cargoman.github_app.config import AppConfig, GitHubAppNotConfigured

# GitHub refuses an `exp` more than 10 minutes ahead; `iat` lies 60 s back to absorb clock drift.
ISSUED_BEFORE_NOW = 60
LIFETIME = 540


@lru_cache(maxsize=4)
def _private_key(pem: str) -> RSAPrivateKey:
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise GitHubAppNotConfigured(
            "GITHUB_APP_PRIVATE_KEY is not a valid unencrypted PEM private key"
        ) from None
    if not isinstance(key, RSAPrivateKey):
        raise GitHubAppNotConfigured("GITHUB_APP_PRIVATE_KEY must be an RSA private key")
    return key


def app_jwt(config: AppConfig, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now) - ISSUED_BEFORE_NOW
    # GitHub accepts the app ID (or the client ID) as issuer; JWT claims carry it as a string.
    claims = {"iat": issued, "exp": issued + ISSUED_BEFORE_NOW + LIFETIME, "iss": config.app_id}
    return jwt.encode(claims, _private_key(config.private_key), algorithm="RS256")
