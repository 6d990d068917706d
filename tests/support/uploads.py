"""Package zips for upload tests, and the multipart upload request."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path
from typing import Any, Protocol

import httpx
from tests.support.gitrepo import composer_json


class _Poster(Protocol):
    def post(self, path: str, **kwargs: Any) -> httpx.Response: ...


def zip_of(files: dict[str, str | bytes]) -> bytes:
    """A zip holding exactly ``files`` (path -> content)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    return buffer.getvalue()


def package_zip(
    name: str = "acme/widget",
    *,
    top: str | None = None,
    version: str | None = None,
    extra: dict[str, str | bytes] | None = None,
    symlinks: dict[str, str] | None = None,
    manifest: str | None = None,
) -> bytes:
    """A package zip: composer.json (in folder ``top`` if given), a source file, ``extra`` entries
    (absolute and ``..`` paths are kept as given) and ``symlinks`` (path -> target) entries."""
    fields: dict[str, Any] = {"description": f"{name} uploaded", "license": "MIT"}
    if version is not None:
        fields["version"] = version
    files: dict[str, str | bytes] = {
        "composer.json": manifest if manifest is not None else composer_json(name, **fields),
        "src/Widget.php": "<?php\nnamespace Acme;\nclass Widget {}\n",
    }
    files.update(extra or {})
    prefix = f"{top}/" if top else ""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if top:
            archive.writestr(zipfile.ZipInfo(prefix), b"")
        for path, content in files.items():
            archive.writestr(path if path.startswith(("/", "..")) else prefix + path, content)
        for path, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(prefix + path)
            info.create_system = 3  # unix: the mode lives in the high bits of external_attr
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def upload(
    api: _Poster, package: str, data: bytes, version: str | None = None, token: str | None = None
) -> httpx.Response:
    """POST the zip to the upload route (as the admin unless ``token`` is given)."""
    kwargs: dict[str, Any] = {
        "files": {"file": ("package.zip", data, "application/zip")},
        "data": {"version": version} if version is not None else {},
    }
    if token is not None:
        kwargs["token"] = token
    return api.post(f"/packages/{package}/upload", **kwargs)


def stored_objects(storage_path: Path) -> list[str]:
    """Every object key in a filesystem storage."""
    if not storage_path.exists():
        return []
    return sorted(str(p.relative_to(storage_path)) for p in storage_path.rglob("*") if p.is_file())
