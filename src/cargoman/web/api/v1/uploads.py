"""Publish a version by uploading its zip: admins (and CMA tokens that may write), or customer tokens
of scope developer or admin for the packages granted to them."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from cargoman.access.policy import check_credential
from cargoman.db.models import DEFAULT_TENANT_ID
from cargoman.errors import Forbidden, Unauthorized, ValidationFailed
from cargoman.runtime import Runtime, ServiceContext
from cargoman.security import CUSTOMER_TOKEN_PREFIX, token_digest
from cargoman.timeutil import utcnow
from cargoman.tokens.access import load_customer_access
from cargoman.uploads import service as uploads
from cargoman.web.api.auth import RuntimeDep, get_runtime, require_admin
from cargoman.web.api.v1 import schemas
from cargoman.web.api.v1.common import ERRORS, envelope
from cargoman.web.api.v1.uploads_schemas import UPLOAD_REQUEST_BODY, UploadOut, upload
from cargoman.web.body_limit import capped_request

router = APIRouter(prefix="/packages", tags=["packages"], responses=ERRORS)

UPLOAD_SCOPES = frozenset({"admin", "developer"})
# Room for the multipart boundaries and the version field around the file itself.
FORM_OVERHEAD = 64 * 1024


@dataclass(frozen=True)
class UploaderPrincipal:
    uploader: uploads.Uploader
    actor: str
    actor_kind: str
    tenant_id: str
    ip: str | None

    def unit_of_work(self, runtime: Runtime) -> AbstractContextManager[ServiceContext]:
        return runtime.unit_of_work(self.actor, self.tenant_id, actor_kind=self.actor_kind, ip=self.ip)


def _bearer(request: Request) -> str | None:
    kind, _, value = request.headers.get("authorization", "").partition(" ")
    return (value.strip() or None) if kind.lower() == "bearer" else None


def require_uploader(
    request: Request, runtime: Annotated[Runtime, Depends(get_runtime)]
) -> UploaderPrincipal:
    """A management credential with write permission, or a customer token allowed to upload."""
    token = _bearer(request)
    ip = request.client.host if request.client else None
    if token is None or not token.startswith(CUSTOMER_TOKEN_PREFIX) or runtime.admin_tokens.verify(token):
        admin = require_admin(request, runtime)
        return UploaderPrincipal(uploads.Uploader(), admin.id, admin.kind, DEFAULT_TENANT_ID, admin.ip)
    with runtime.session_factory() as session:
        access = load_customer_access(session, token_digest(token))
    # Like the Composer endpoints: a revoked token is answered as an unknown one.
    if access is None or access.token_revoked or access.tenant_id != DEFAULT_TENANT_ID:
        raise Unauthorized("Invalid or missing authentication token")
    now = utcnow()
    denial = check_credential(access, now)
    if denial is not None:
        raise Forbidden(denial.message)
    if access.scope not in UPLOAD_SCOPES:
        raise Forbidden(f"Tokens of scope '{access.scope}' cannot upload packages")
    if access.customer_status != "active":
        raise Forbidden(f"A {access.customer_status} customer cannot upload packages")
    request.app.state.recorder.token_used(access.token_id, ip, now)
    return UploaderPrincipal(
        uploads.Uploader(customer_id=access.customer_id, package_scopes=access.package_scopes),
        access.token_id,
        "customer",
        access.tenant_id,
        ip,
    )


UploaderDep = Annotated[UploaderPrincipal, Depends(require_uploader)]


async def _read_form(request: Request, max_body: int) -> FormData:
    """The multipart form, refused with a 400 on `file` as soon as the body grows past ``max_body``."""

    def too_large() -> ValidationFailed:
        return ValidationFailed(
            "file", f"is larger than the upload limit of {max_body - FORM_OVERHEAD} bytes"
        )

    capped = capped_request(request, max_body, too_large)
    try:
        return await capped.form(max_files=1, max_fields=8)
    except HTTPException as exc:  # malformed multipart bodies
        raise ValidationFailed("file", str(exc.detail)) from exc


@router.post(
    "/{vendor}/{name}/upload",
    status_code=201,
    response_model=schemas.Envelope[UploadOut],
    summary="Upload a version",
    description="Multipart: `file` (a zip with composer.json at its root or in its single top folder) "
    "and an optional `version` (default: composer.json's `version`). Admins may create the package this "
    "way; customer tokens of scope developer or admin may add versions to packages granted to them.",
    openapi_extra=UPLOAD_REQUEST_BODY,
)
async def upload_version(
    vendor: str, name: str, request: Request, uploader: UploaderDep, runtime: RuntimeDep
) -> dict[str, Any]:
    limit = runtime.settings.upload_max_bytes
    form = await _read_form(request, limit + FORM_OVERHEAD)
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise ValidationFailed("file", "a zip file in the multipart field 'file' is required")
        version = form.get("version")
        if version is not None and not isinstance(version, str):
            raise ValidationFailed("version", "must be a text field")
        publish = _publisher(runtime, uploader, f"{vendor}/{name}", file, uploads.version_field(version))
        return await run_in_threadpool(publish)
    finally:
        await form.close()


def _publisher(
    runtime: Runtime,
    uploader: UploaderPrincipal,
    package_name: str,
    file: UploadFile,
    version: str | None,
) -> Callable[[], dict[str, Any]]:
    def publish() -> dict[str, Any]:
        with (
            uploads.received_archive(runtime.settings, file.file) as saved,
            uploader.unit_of_work(runtime) as ctx,
        ):
            result = uploads.upload_version(
                ctx, runtime.storage, package_name, saved, version, uploader.uploader
            )
            return envelope(upload(result, runtime.settings.base_url))

    return publish
