"""A package's README: from the default branch, else from the newest stable (then any) version.

Git versions are read from the mirror (no network: a missing mirror falls back to the stored
archive); uploaded versions from their stored zip. Monorepo children look in their own folder.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from cargoman.composer.versions import parse_stability, sort_versions
from cargoman.db.models import Package, Version
from cargoman.errors import NotFound
from cargoman.gitsync.errors import GitError
from cargoman.packages.mirrors import open_mirror
from cargoman.packages.monorepo import glob_escape
from cargoman.packages.service import get_package
from cargoman.runtime import ServiceContext
from cargoman.storage import Storage
from cargoman.storage.base import StorageKeyNotFound

# Preferred first; matched case-insensitively.
README_NAMES = ("readme.md", "readme.markdown", "readme", "readme.txt", "readme.rst")
MAX_README_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Readme:
    filename: str
    content: str
    ref: str


def find_readme(ctx: ServiceContext, name: str, storage: Storage) -> Readme:
    package = get_package(ctx, name, with_versions=True)
    for row in _sources(package):
        found = None
        if row.source == "git" and package.repository_url is not None:
            found = _from_mirror(ctx, package, row)
        if found is None and row.dist_key is not None:
            found = _from_archive(storage, row)
        if found is not None:
            return found
    raise NotFound(f"No README found for {package.name}")


def _sources(package: Package) -> list[Version]:
    """Versions to look in, best first: default branch, newest stable, newest of any kind."""
    by_normalized = {v.version_normalized: v for v in package.versions if not v.yanked}
    newest_first = [by_normalized[n] for n in sort_versions(list(by_normalized), reverse=True)]
    default = [v for v in newest_first if v.is_branch and v.ref_name == package.default_branch]
    stable = [v for v in newest_first if not v.is_branch and parse_stability(v.version) == "stable"]
    ordered = default + stable[:1] + newest_first[:1]
    return list({id(v): v for v in ordered}.values())


def _pick(names: list[str]) -> str | None:
    by_lower = {PurePosixPath(n).name.lower(): n for n in sorted(names, reverse=True)}
    return next((by_lower[wanted] for wanted in README_NAMES if wanted in by_lower), None)


def _decode(data: bytes) -> str:
    return data[:MAX_README_BYTES].decode("utf-8", errors="replace")


def _from_mirror(ctx: ServiceContext, package: Package, row: Version) -> Readme | None:
    assert package.repository_url is not None
    mirror = open_mirror(ctx.settings, ctx.tenant_id, package.repository_url)
    if not mirror.exists():
        return None
    folder = f"{glob_escape(package.subdir)}/" if package.subdir else ""
    try:
        chosen = _pick(mirror.list_paths(row.reference, f"{folder}*"))
        if chosen is None:
            return None
        content = mirror.read_blobs([(row.reference, chosen)]).get((row.reference, chosen))
    except GitError:
        return None  # the commit left the mirror (force push): the archive may still have it
    if content is None:
        return None
    return Readme(PurePosixPath(chosen).name, _decode(content), row.ref_name or row.version)


def _from_archive(storage: Storage, row: Version) -> Readme | None:
    assert row.dist_key is not None
    try:
        local = storage.local_path(row.dist_key)
        source = (
            local if local is not None and local.is_file() else io.BytesIO(storage.get_bytes(row.dist_key))
        )
        with zipfile.ZipFile(source) as archive:
            files = [info.filename for info in archive.infolist() if not info.is_dir()]
            top = _top_level_files(files)
            chosen = _pick(top)
            if chosen is None:
                return None
            with archive.open(chosen) as member:
                content = member.read(MAX_README_BYTES)
    except (StorageKeyNotFound, zipfile.BadZipFile, OSError):
        return None
    return Readme(PurePosixPath(chosen).name, _decode(content), row.ref_name or row.version)


def _top_level_files(files: list[str]) -> list[str]:
    """Files at the package root: the zip root, or the single folder everything sits in (GitHub zips)."""
    at_root = [f for f in files if "/" not in f.strip("/")]
    if at_root:
        return at_root
    folders = {f.split("/", 1)[0] for f in files}
    if len(folders) == 1:
        folder = folders.pop()
        return [f for f in files if f.count("/") == 1 and f.startswith(folder + "/")]
    return []
