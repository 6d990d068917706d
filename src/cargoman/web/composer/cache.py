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


@dataclass(frozen=True)
class Rendered:
    body: bytes
    gzipped: bytes
    last_modified: str
    last_modified_at: datetime


def render(document: object, last_modified: datetime) -> Rendered:
    body = orjson.dumps(document)
    return Rendered(
        body=body,
        gzipped=gzip.compress(body, compresslevel=6, mtime=0),
        last_modified=http_date(last_modified),
        last_modified_at=last_modified.replace(microsecond=0),
    )


@dataclass
class Generation:
    """Everything cached while the registry stays unchanged."""

    revision: int
    credentials: dict[str, Access | None] = field(default_factory=dict)
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
