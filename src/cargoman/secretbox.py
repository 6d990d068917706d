"""Secrets the registry must read back (provider tokens, webhook signing keys), encrypted at rest.

AES-256-GCM with ENCRYPTION_KEY (64 hex characters). Without one, a random key is created once in
DATA_DIR/encryption-key (mode 0600), so the embedded defaults still never store a plain secret.
Each value is bound to its purpose (the associated data), so a ciphertext copied from one column
into another does not decrypt.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cargoman.config import Settings

PREFIX = "v1:"
NONCE_BYTES = 12


class SecretBoxError(Exception):
    """The key is malformed, or a ciphertext does not decrypt with it."""


def _key_from_hex(text: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError as exc:
        raise SecretBoxError("ENCRYPTION_KEY must be 64 hexadecimal characters (256 bits)") from exc
    if len(key) != 32:
        raise SecretBoxError("ENCRYPTION_KEY must be 64 hexadecimal characters (256 bits)")
    return key


def _key_file(path: Path) -> bytes:
    if path.exists():
        return _key_from_hex(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    hex_key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return _key_from_hex(path.read_text())
    with os.fdopen(fd, "w") as handle:
        handle.write(hex_key + "\n")
    return _key_from_hex(hex_key)


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        if settings.encryption_key:
            return cls(_key_from_hex(settings.encryption_key))
        return cls(_key_file(settings.data_dir / "encryption-key"))

    def encrypt(self, plaintext: str, purpose: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), purpose.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, ciphertext: str, purpose: str) -> str:
        if not ciphertext.startswith(PREFIX):
            raise SecretBoxError("unknown ciphertext format")
        try:
            raw = base64.urlsafe_b64decode(ciphertext[len(PREFIX) :])
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode()).decode()
        except (InvalidTag, ValueError) as exc:
            raise SecretBoxError("the secret does not decrypt with this ENCRYPTION_KEY") from exc
