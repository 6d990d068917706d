"""``uploadPackageVersion``: publish a version from a zip sent as a GraphQL multipart upload.

The same service as ``POST /api/v1/packages/{vendor}/{name}/upload`` with the same checks (upload
size limit, archive, composer.json name, version; an existing version is CONFLICT). The request
body is already capped while it streams in (``multipart.py``); the service's copy re-checks the file.
"""

from __future__ import annotations

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from cargoman.errors import ValidationFailed
from cargoman.storage import create_storage
from cargoman.uploads import service as uploads
from cargoman.web.graphql.mutations import mutation_scope
from cargoman.web.graphql.permissions import CanWrite
from cargoman.web.graphql.types import Ctx, Version


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
        version = uploads.version_field(version)
        settings = info.context.ctx.settings
        with uploads.received_archive(settings, upload.file) as saved, mutation_scope(info) as ctx:
            storage = create_storage(settings.storage_backend, settings.storage_path)
            result = uploads.upload_version(ctx, storage, name, saved, version, uploads.Uploader())
            return Version.from_row(result.version, result.package.name, settings.base_url)
