"""The storage interface for dist archives and generated metadata, and the key rules all backends share."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

DEFAULT_CHUNK_SIZE = 65536


class StorageKeyNotFound(KeyError):
    """No object is stored under the key."""

    def __str__(self) -> str:
        # KeyError's own __str__ shows the repr of its argument; a message reads better in logs.
        return f"no stored object with key {self.args[0]!r}" if self.args else "no stored object"


def validate_key(key: str) -> str:
    """Return ``key`` if it is a relative ``/``-separated path that cannot escape the storage root.

    Refused: empty keys, absolute keys, ``.``/``..`` or empty segments (``a//b``, trailing ``/``),
    backslashes and control characters.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("storage key must be a non-empty string")
    if key.startswith("/"):
        raise ValueError(f"storage key must be relative, got {key!r}")
    if "\\" in key:
        raise ValueError(f"storage key must not contain backslashes, got {key!r}")
    if any(ord(c) < 0x20 or c == "\x7f" for c in key):
        raise ValueError(f"storage key must not contain control characters, got {key!r}")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise ValueError(f"storage key has an empty, '.' or '..' segment: {key!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """Like validate_key, but a trailing ``/`` is allowed (``dist/acme/`` selects that folder only)."""
    if not isinstance(prefix, str) or not prefix.rstrip("/"):
        # An empty prefix would select everything; nobody wants delete_prefix("") by accident.
        raise ValueError("storage prefix must be non-empty")
    validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified_at: datetime


@runtime_checkable
class Storage(Protocol):
    """A flat namespace of immutable-looking objects addressed by ``/``-separated keys.

    Writes are atomic: a reader sees either the previous object or the complete new one, never a mix.
    Every method raises ValueError for an invalid key (see validate_key).
    """

    def put_file(self, key: str, source: Path) -> None:
        """Store a copy of the file ``source`` under ``key``, replacing any previous object.

        ``source`` is left in place; the caller deletes it.
        """
        ...

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing any previous object."""
        ...

    def get_bytes(self, key: str) -> bytes:
        """The whole object; StorageKeyNotFound if there is none."""
        ...

    def open_stream(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """The object in chunks of at most ``chunk_size`` bytes.

        StorageKeyNotFound is raised by this call itself, not on first iteration.
        """
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int:
        """Size in bytes; StorageKeyNotFound if there is no object."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with ``prefix`` (plain string prefix, as in S3).

        Returns how many objects were removed.
        """
        ...

    def list_objects(self, prefix: str) -> Iterator[StoredObject]:
        """Every object whose key starts with ``prefix`` (plain string prefix, as in S3), any order."""
        ...

    def local_path(self, key: str) -> Path | None:
        """Filesystem path of the object (for X-Accel-Redirect / sendfile), or None for remote backends.

        The path is computed, not checked: it need not exist.
        """
        ...

    def presigned_url(self, key: str, expires_in: int) -> str | None:
        """A time-limited download URL, or None where the backend has no such thing (filesystem)."""
        ...
