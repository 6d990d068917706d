"""Publishing a version by uploading its zip, and the package files (stored archives) of a package.

An upload is checked completely (who may upload, the archive, composer.json, the version) before
anything is written; the archive is stored only after the version row passed the database's
uniqueness check, so a refused upload leaves neither a row nor a stored object behind.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.exc import IntegrityError

from cargoman import validation
from cargoman.access.policy import matches_package_scopes
from cargoman.composer.metadata import manifest_from_composer_json
from cargoman.composer.versions import InvalidVersion, normalize, sort_versions
from cargoman.config import Settings
from cargoman.db.models import Package, Version
from cargoman.errors import Conflict, Forbidden, NotFound, ValidationFailed
from cargoman.packages import repository as packages_repository
from cargoman.packages.service import dist_prefix
from cargoman.pagination import Page, PageRequest, paginate
from cargoman.runtime import ServiceContext
from cargoman.security import new_id
from cargoman.stamps import next_change_stamp
from cargoman.storage import Storage
from cargoman.timeutil import utcnow
from cargoman.uploads import repository
from cargoman.uploads.archive import file_digests, inspect_archive, repack_without_root

# An archive may unpack to this many times the upload limit (bounds the work of checking it).
UNCOMPRESSED_RATIO = 20
MAX_VERSION_LENGTH = 255
_COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Uploader:
    """Who uploads: a management credential (customer_id None) or a customer's token."""

    customer_id: str | None = None
    package_scopes: tuple[str, ...] = ()

    @property
    def is_customer(self) -> bool:
        return self.customer_id is not None


@dataclass(frozen=True)
class UploadResult:
    package: Package
    version: Version
    package_created: bool


def file_name(package_name: str, version: str) -> str:
    """The name the archive is downloaded under (as in the dist Content-Disposition)."""
    return f"{package_name.replace('/', '-')}-{version}.zip"


def _file_fields(row: Version) -> dict[str, Any]:
    return {
        "version": row.version,
        "dist_key": row.dist_key,
        "sha1": row.dist_sha1,
        "sha256": row.dist_sha256,
        "md5": row.dist_md5,
        "size": row.dist_size,
        "source": row.source,
    }


def _authorize(ctx: ServiceContext, uploader: Uploader, name: str, package: Package | None) -> None:
    if not uploader.is_customer:
        return
    assert uploader.customer_id is not None
    # One answer for unknown, out-of-scope and ungranted packages: a token learns nothing about others.
    allowed = (
        package is not None
        and matches_package_scopes(uploader.package_scopes, name)
        and repository.customer_holds_grant(ctx.session, ctx.tenant_id, uploader.customer_id, package.id)
    )
    if not allowed:
        raise Forbidden(f"This token may not upload versions of {name}")


def _pretty(version: str) -> str:
    # Same pretty form as a tag: v1.2.0 is published as 1.2.0.
    return version[1:] if version[:1] in ("v", "V") and version[1:2].isdigit() else version


def _normalized(value: str, origin: str) -> str:
    if len(value) > MAX_VERSION_LENGTH:
        raise ValidationFailed("version", f"{origin} is longer than {MAX_VERSION_LENGTH} characters")
    try:
        return normalize(value)
    except InvalidVersion as exc:
        raise ValidationFailed(
            "version", f"{origin} '{value}' is not a valid Composer version: {exc}"
        ) from exc


def resolve_version(form_value: str | None, declared: object) -> tuple[str, str]:
    """(pretty, normalized) from the form field, else from composer.json's `version`."""
    given = form_value.strip() if form_value and form_value.strip() else None
    in_manifest = declared.strip() if isinstance(declared, str) and declared.strip() else None
    if given is None and in_manifest is None:
        raise ValidationFailed("version", "give a version field or a version in composer.json")
    if given is not None:
        normalized = _normalized(given, "the version")
        if in_manifest is not None and _normalized(in_manifest, "composer.json version") != normalized:
            raise ValidationFailed(
                "version", f"the version '{given}' differs from '{in_manifest}' declared in composer.json"
            )
        return _pretty(given), normalized
    assert in_manifest is not None
    return _pretty(in_manifest), _normalized(in_manifest, "composer.json version")


def version_field(value: str | None) -> str | None:
    """The version sent along with an upload; None when omitted or empty (composer.json's applies)."""
    if not value:
        return None
    if "\x00" in value:
        raise ValidationFailed("version", "must not contain NUL characters")
    return value


@contextmanager
def received_archive(settings: Settings, stream: BinaryIO) -> Iterator[Path]:
    """The uploaded ``stream`` copied to a scratch file under the data directory (refused past the
    upload limit), for `upload_version`; removed on exit."""
    limit = settings.upload_max_bytes
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=settings.data_dir, prefix="upload-"))
    try:
        saved = scratch / "upload.zip"
        stream.seek(0)
        copied = 0
        with saved.open("wb") as out:
            while chunk := stream.read(_COPY_CHUNK):
                copied += len(chunk)
                if copied > limit:
                    raise ValidationFailed("file", f"is larger than the upload limit of {limit} bytes")
                out.write(chunk)
        yield saved
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def upload_version(
    ctx: ServiceContext,
    storage: Storage,
    package_name: str,
    upload: Path,
    version_field: str | None,
    uploader: Uploader,
) -> UploadResult:
    """Publish the zip at ``upload`` as a new version of ``package_name`` (created for admins)."""
    name = validation.package_name(package_name, field="name")
    package = packages_repository.get_by_name(ctx.session, ctx.tenant_id, name)
    _authorize(ctx, uploader, name, package)

    limit = ctx.settings.upload_max_bytes
    if upload.stat().st_size > limit:
        raise ValidationFailed("file", f"is larger than the upload limit of {limit} bytes")
    inspected = inspect_archive(upload, name, limit * UNCOMPRESSED_RATIO)
    pretty, normalized = resolve_version(version_field, inspected.composer.get("version"))

    existing = None
    if package is not None:
        existing = packages_repository.find_version(ctx.session, ctx.tenant_id, package.id, normalized)
    # An uploaded version whose file was deleted may be uploaded again; anything else is taken.
    if existing is not None and not (existing.source == "upload" and existing.dist_key is None):
        raise Conflict(f"Version {existing.version} of {name} already exists")

    ctx.settings.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ctx.settings.data_dir, prefix="upload-") as scratch:
        archive = upload
        if inspected.root:
            archive = Path(scratch) / "archive.zip"
            repack_without_root(upload, inspected.root, archive)
        digests = file_digests(archive)
        key = f"{dist_prefix(ctx.tenant_id, name)}upload-{digests.sha256}.zip"

        created = package is None
        if package is None:
            package = Package(
                id=new_id("pkg"),
                tenant_id=ctx.tenant_id,
                name=name,
                repository_url=None,
                repository_type="git",
                sync_status="ready",
                sync_warnings=[],
            )
            ctx.session.add(package)
        row = existing or Version(tenant_id=ctx.tenant_id, package_id=package.id)
        before = _file_fields(existing) if existing is not None else None
        row.version = pretty
        row.version_normalized = normalized
        row.is_branch = normalized.startswith("dev-") or normalized.endswith("-dev")
        row.ref_name = None
        row.reference = digests.sha1
        row.manifest = manifest_from_composer_json(inspected.composer)
        row.dist_key = key
        row.dist_sha1 = digests.sha1
        row.dist_sha256 = digests.sha256
        row.dist_md5 = digests.md5
        row.dist_size = digests.size
        row.released_at = utcnow()
        row.source = "upload"
        ctx.session.add(row)
        try:
            ctx.session.flush()
        except IntegrityError as exc:
            # Another upload of the same package or version committed first.
            raise Conflict(f"Version {pretty} of {name} (or the package) was created meanwhile") from exc
        storage.put_file(key, archive)

    if package.repository_url is None and not row.is_branch:
        _describe_from_newest_release(ctx, package, row)
    package.metadata_changed_at = next_change_stamp(ctx)
    if created:
        ctx.audit("package.create", "package", name, None, {"name": name, "source": "upload"})
    ctx.audit("version.upload", "version", f"{name}:{pretty}", before, _file_fields(row))
    ctx.changed()
    return UploadResult(package=package, version=row, package_created=created)


def _describe_from_newest_release(ctx: ServiceContext, package: Package, uploaded: Version) -> None:
    """Upload-only packages take their description from the newest release, as a sync does."""
    releases = {
        v.version_normalized: v
        for v in packages_repository.versions_of(ctx.session, ctx.tenant_id, package.id)
        if not v.is_branch
    }
    if sort_versions(list(releases), reverse=True)[0] == uploaded.version_normalized:
        description = uploaded.manifest.get("description")
        package.description = description if isinstance(description, str) else None


# -- package files --------------------------------------------------------------------------------


def _package(ctx: ServiceContext, name: str) -> Package:
    package = packages_repository.get_by_name(ctx.session, ctx.tenant_id, name)
    if package is None:
        raise NotFound(f"Package {name} not found")
    return package


def list_files(ctx: ServiceContext, name: str, page: PageRequest) -> tuple[Package, Page[Version]]:
    """The stored archives of a package, one per version that has one."""
    package = _package(ctx, name)
    return package, paginate(ctx.session, packages_repository.files_query(ctx.tenant_id, package.id), page)


def delete_file(ctx: ServiceContext, storage: Storage, name: str, version: str) -> Version:
    """Remove a version's stored archive. The version stays but cannot be downloaded until a sync
    rebuilds the archive (Git versions) or it is uploaded again (uploaded versions)."""
    package = _package(ctx, name)
    row = packages_repository.find_version(ctx.session, ctx.tenant_id, package.id, version)
    if row is None or row.dist_key is None:
        raise NotFound(f"Version {version} of {package.name} has no stored file")
    before = _file_fields(row)
    key = row.dist_key
    row.dist_key = None
    row.dist_sha1 = row.dist_sha256 = row.dist_md5 = None
    row.dist_size = None
    ctx.session.flush()
    # A branch and a tag at one commit share an archive: keep it while another version uses it.
    if not repository.dist_key_in_use(ctx.session, ctx.tenant_id, key):
        ctx.after_commit(lambda: storage.delete(key))
    package.metadata_changed_at = next_change_stamp(ctx)
    ctx.audit("version.file.delete", "version", f"{package.name}:{row.version}", before, None)
    ctx.changed()
    return row
