"""Per-process caches for the Composer endpoints, dropped whenever the shared change counter moves."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from cargoman.access.policy import Access, VersionRule
from cargoman.packages.snapshot import PackageSnapshot
from cargoman.timeutil import http_date

# Beyond this many remembered credentials, start over (bounds memory under credential stuffing).
MAX_CACHED_CREDENTIALS = 50_000


Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Rendered:
    """A rendered JSON document with its response headers built once, not per request."""

    body: bytes
    gzipped: bytes
    last_modified_at: datetime
    headers: Headers
    gzip_headers: Headers
    not_modified_headers: Headers


def render(document: object, last_modified: datetime, conditional: bool) -> Rendered:
    body = orjson.dumps(document)
    gzipped = gzip.compress(body, compresslevel=6, mtime=0)
    stamp = http_date(last_modified).encode()
    common: Headers = [
        (b"content-type", b"application/json"),
        (b"vary", b"Accept-Encoding, Authorization"),
        (b"cache-control", b"private, no-cache"),
    ]
    if conditional:
        common.append((b"last-modified", stamp))
    return Rendered(
        body=body,
        gzipped=gzipped,
        last_modified_at=last_modified.replace(microsecond=0),
        headers=[*common, (b"content-length", str(len(body)).encode())],
        gzip_headers=[
            *common,
            (b"content-length", str(len(gzipped)).encode()),
            (b"content-encoding", b"gzip"),
        ],
        not_modified_headers=[(b"last-modified", stamp)] if conditional else [],
    )


@dataclass
class Generation:
    """Everything cached while the registry stays unchanged."""

    revision: int
    # Keyed by the raw Authorization header, so a known caller costs no decoding or hashing.
    credentials: dict[bytes, Access | None] = field(default_factory=dict)
    snapshots: dict[tuple[str, str], PackageSnapshot | None] = field(default_factory=dict)
    package_files: dict[tuple[str, VersionRule, bool, datetime], Rendered] = field(default_factory=dict)
    roots: dict[tuple[str, str], Rendered] = field(default_factory=dict)


class ComposerCache:
    def __init__(self, read_revision: Callable[[], int]) -> None:
        self._read_revision = read_revision
        self._generation = Generation(revision=read_revision())
        self._lock = threading.Lock()

    def current(self) -> Generation:
        revision = self._read_revision()
        generation = self._generation
        if generation.revision != revision:
            with self._lock:
                if self._generation.revision != revision:
                    self._generation = Generation(revision=revision)
                generation = self._generation
        if len(generation.credentials) > MAX_CACHED_CREDENTIALS:
            generation.credentials.clear()
        return generation
