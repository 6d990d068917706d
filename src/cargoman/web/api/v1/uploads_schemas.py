"""Response bodies of the upload and package-file routes, and their serializers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from cargoman.db.models import Version
from cargoman.uploads.service import UploadResult, file_name
from cargoman.web.api.v1 import schemas, serializers

# The multipart body of the upload route, for the OpenAPI document (the route reads the form itself
# so that it can refuse an oversized body while it arrives).
UPLOAD_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "The package zip"},
                        "version": {
                            "type": "string",
                            "description": "The version; defaults to composer.json's version",
                        },
                    },
                }
            }
        },
    }
}


class PackageFileOut(BaseModel):
    id: int
    package: str
    version: str
    version_normalized: str
    source: Literal["git", "upload"]
    file_name: str
    size: int | None
    md5: str | None
    sha1: str | None
    sha256: str | None
    created_at: datetime


class UploadOut(BaseModel):
    package: schemas.PackageOut
    version: schemas.VersionOut
    package_created: bool


def package_file(row: Version, package_name: str) -> PackageFileOut:
    return PackageFileOut(
        id=row.id,
        package=package_name,
        version=row.version,
        version_normalized=row.version_normalized,
        source="upload" if row.source == "upload" else "git",
        file_name=file_name(package_name, row.version),
        size=row.dist_size,
        md5=row.dist_md5,
        sha1=row.dist_sha1,
        sha256=row.dist_sha256,
        created_at=row.created_at,
    )


def upload(result: UploadResult, base_url: str) -> UploadOut:
    return UploadOut(
        package=serializers.package(result.package),
        version=serializers.version(result.version, result.package.name, base_url),
        package_created=result.package_created,
    )
