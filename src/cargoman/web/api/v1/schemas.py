"""Request and response bodies of the REST API (they make the OpenAPI document)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

T = TypeVar("T")

TokenScope = Literal["admin", "developer", "download", "webhook"]
RepositoryType = Literal["git", "github", "gitlab", "bitbucket"]
CustomerStatus = Literal["active", "suspended", "frozen", "expired"]


def _as_utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_contains_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_contains_nul(key) or _contains_nul(item) for key, item in value.items())
    return False


def _datetime_fields(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(
        name for name, field in model.model_fields.items() if "datetime" in str(field.annotation)
    )


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any, info: ValidationInfo) -> Any:
        if _contains_nul(value):
            raise ValueError("must not contain NUL characters")
        # Lax parsing would read a number as a Unix timestamp; the API documents ISO 8601 strings.
        if isinstance(value, int | float) and info.field_name in _datetime_fields(cls):
            raise ValueError("must be an ISO 8601 date-time string")
        return value


class Pagination(BaseModel):
    page: int
    per_page: int
    total: int
    total_pages: int


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None


class Envelope(BaseModel, Generic[T]):
    data: T
    error: ErrorBody | None = None


class ListEnvelope(BaseModel, Generic[T]):
    data: list[T]
    error: ErrorBody | None = None
    pagination: Pagination


class ErrorEnvelope(BaseModel):
    data: None = None
    error: ErrorBody


# -- customers ---------------------------------------------------------------------------------


class CustomerCreate(StrictBody):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    external_id: str | None = Field(default=None, max_length=200)
    expires_at: datetime | None = None

    _utc = field_validator("expires_at")(_as_utc)


class CustomerUpdate(StrictBody):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    external_id: str | None = Field(default=None, max_length=200)
    expires_at: datetime | None = None

    _utc = field_validator("expires_at")(_as_utc)


class SuspendRequest(StrictBody):
    reason: str | None = Field(default=None, max_length=1000)


class FreezeVersion(StrictBody):
    package: str
    version: str = Field(min_length=1)


class FreezeRequest(StrictBody):
    versions: list[FreezeVersion] | None = None


class FrozenVersionOut(BaseModel):
    package: str
    version: str


class ComposerAuth(BaseModel):
    username: str
    password: str
    repository_url: str


class CustomerOut(BaseModel):
    id: str
    name: str
    email: str | None
    external_id: str | None
    status: CustomerStatus
    status_reason: str | None
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CustomerDetail(CustomerOut):
    frozen_versions: list[FrozenVersionOut]


class CustomerCreated(CustomerOut):
    token: str
    token_id: str
    composer_auth: ComposerAuth


# -- tokens ------------------------------------------------------------------------------------


class TokenCreate(StrictBody):
    name: str = Field(default="API token", min_length=1, max_length=200)
    scope: TokenScope = "admin"
    package_scopes: list[str] = Field(default_factory=list, max_length=100)
    expires_at: datetime | None = None

    _utc = field_validator("expires_at")(_as_utc)


class TokenOut(BaseModel):
    id: str
    customer_id: str
    name: str
    scope: TokenScope
    package_scopes: list[str]
    token_hint: str
    expires_at: datetime | None
    last_used_at: datetime | None
    last_used_ip: str | None
    created_at: datetime


class TokenCreated(BaseModel):
    token: TokenOut
    plain_token: str
    composer_auth: ComposerAuth


class RevokedCount(BaseModel):
    revoked: int


# -- package access ----------------------------------------------------------------------------


class GrantCreate(StrictBody):
    package: str = Field(min_length=1)
    constraint: str = Field(default="*", min_length=1, max_length=255)


class GrantReplace(StrictBody):
    packages: list[GrantCreate]


class GrantOut(BaseModel):
    """A grant names either one package or a collection (all of its current and future packages)."""

    package: str | None
    collection: str | None = None
    constraint: str
    created_at: datetime


class PackageCustomerOut(BaseModel):
    """One grant reaching the package: directly (`collection` null) or through a collection."""

    customer: CustomerOut
    constraint: str
    collection: str | None = None
    granted_at: datetime


# -- packages ----------------------------------------------------------------------------------


class PackageCreate(StrictBody):
    name: str | None = Field(default=None, max_length=214)
    repository_url: str = Field(min_length=1, max_length=2000)
    type: RepositoryType = "git"


class DistOut(BaseModel):
    url: str | None
    sha1: str | None
    sha256: str | None
    md5: str | None
    size: int | None


class VersionOut(BaseModel):
    version: str
    version_normalized: str
    kind: Literal["tag", "branch"]
    ref_name: str | None
    reference: str
    released_at: datetime | None
    yanked: bool
    deprecated: bool
    deprecated_at: datetime | None = None
    dist: DistOut
    composer: dict[str, Any]


class SyncWarning(BaseModel):
    ref: str
    kind: str
    reference: str | None = None
    message: str


class PackageOut(BaseModel):
    id: str
    name: str
    repository_url: str | None
    type: RepositoryType
    description: str | None
    sync_status: str
    sync_error: str | None
    last_synced_at: datetime | None
    created_at: datetime
    updated_at: datetime


class PackageDetail(PackageOut):
    default_branch: str | None
    sync_warnings: list[SyncWarning]
    versions: list[VersionOut]


class TaskOut(BaseModel):
    id: str
    kind: str
    status: str
    attempts: int
    max_attempts: int
    payload: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    run_after: datetime
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class PackageCreated(PackageOut):
    sync_task: TaskOut


class Deleted(BaseModel):
    deleted: bool = True
