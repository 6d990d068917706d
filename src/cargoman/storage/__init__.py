"""Where dist archives and generated metadata are kept: one interface, pluggable backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cargoman.storage.base import Storage, StorageKeyNotFound, validate_key, validate_prefix
from cargoman.storage.filesystem import FilesystemStorage

__all__ = [
    "FilesystemStorage",
    "Storage",
    "StorageKeyNotFound",
    "create_storage",
    "validate_key",
    "validate_prefix",
]

SUPPORTED_BACKENDS = ("filesystem",)


def create_storage(backend: str, path: Path, **s3_options: Any) -> Storage:
    """Build the configured backend. Only ``filesystem`` exists so far (S3/R2 will take ``s3_options``)."""
    if backend == "filesystem":
        if s3_options:
            raise ValueError(f"the filesystem storage backend takes no options, got {sorted(s3_options)}")
        return FilesystemStorage(path)
    raise ValueError(f"unknown storage backend {backend!r}; supported: {', '.join(SUPPORTED_BACKENDS)}")
