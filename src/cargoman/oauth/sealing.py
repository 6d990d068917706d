"""Encryption of the OAuth secrets we must read back; each column has its own purpose string, so a
ciphertext copied into another column does not decrypt."""

from __future__ import annotations

from cargoman.config import Settings
from cargoman.secretbox import SecretBox

ACCESS_TOKEN = "oauth_connections.access_token"
REFRESH_TOKEN = "oauth_connections.refresh_token"
CODE_VERIFIER = "oauth_states.code_verifier"


def seal(settings: Settings, plaintext: str, purpose: str) -> str:
    return SecretBox.from_settings(settings).encrypt(plaintext, purpose)


def unseal(settings: Settings, ciphertext: str, purpose: str) -> str:
    return SecretBox.from_settings(settings).decrypt(ciphertext, purpose)
