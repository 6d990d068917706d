"""``uploadPackageVersion``: publish a version from a zip sent as a GraphQL multipart upload.

The same service as ``POST /api/v1/packages/{vendor}/{name}/upload`` with the same checks (upload
size limit, archive, composer.json name, version; an existing version is CONFLICT). The request
body is already capped while it streams in (``multipart.py``); the copy here re-checks the file.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from cargoman.errors import ValidationFailed
from cargoman.storage import create_storage
from cargoman.uploads import service as uploads
from cargoman.web.graphql.mutations import mutation_scope
from cargoman.web.graphql.permissions import CanWrite
from cargoman.web.graphql.types import Ctx, Version

_COPY_CHUNK = 1024 * 1024


def _save(file: UploadFile, target: Path, limit: int) -> None:
    """Copy the spooled upload to ``target``, refusing it past ``limit`` bytes."""
    file.file.seek(0)
    copied = 0
    with target.open("wb") as out:
        while chunk := file.file.read(_COPY_CHUNK):
            copied += len(chunk)
            if copied > limit:
                raise ValidationFailed("file", f"is larger than the upload limit of {limit} bytes")
            out.write(chunk)


def _checked_version(version: str | None) -> str | None:
    if not version:  # omitted (UNSET), null or empty: composer.json's version
        return None
    if "\x00" in version:
        raise ValidationFailed("version", "must not contain NUL characters")
    return version


@strawberry.type
class UploadMutation:
    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Publish a version from a zip (composer.json at its root or in its single top folder), "
        "sent as a GraphQL multipart request; `version` defaults to composer.json's `version`. "
        "Creates the package when it does not exist.",
    )
    def upload_package_version(
        self, info: Ctx, name: str, version: str | None = strawberry.UNSET, *, file: Upload
    ) -> Version:
        upload: object = file
        if not isinstance(upload, UploadFile):
            raise ValidationFailed("file", "must be a file part of a multipart request")
        version = _checked_version(version)
        settings = info.context.ctx.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=settings.data_dir, prefix="upload-"))
        try:
            saved = scratch / "upload.zip"
            _save(upload, saved, settings.upload_max_bytes)
            with mutation_scope(info) as ctx:
                storage = create_storage(settings.storage_backend, settings.storage_path)
                result = uploads.upload_version(ctx, storage, name, saved, version, uploads.Uploader())
                return Version.from_row(result.version, result.package.name, settings.base_url)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
