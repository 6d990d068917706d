"""The GraphQL object types (camelCase on the wire), built from the same rows REST serializes."""

from __future__ import annotations

import base64
from datetime import datetime
from enum import Enum
from typing import Generic, TypeVar
from urllib.parse import quote

import strawberry
from strawberry.types import Info

from cargoman.collections.service import CollectionDetail
from cargoman.composer.versions import parse_stability
from cargoman.db import models
from cargoman.stats.service import Overview
from cargoman.web.graphql.context import GraphQLContext

Ctx = Info[GraphQLContext, None]
N = TypeVar("N")


@strawberry.enum(description="Lifecycle state of a customer")
class CustomerStatus(Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    FROZEN = "frozen"
    EXPIRED = "expired"


@strawberry.enum(description="Where a package comes from")
class GitProviderType(Enum):
    GIT = "git"
    GITHUB = "github"
    GITLAB = "gitlab"
    BITBUCKET = "bitbucket"


@strawberry.enum(description="State of a package's last synchronisation")
class SyncStatus(Enum):
    PENDING = "pending"
    SYNCING = "syncing"
    READY = "ready"
    ERROR = "error"


@strawberry.enum
class VersionKind(Enum):
    TAG = "tag"
    BRANCH = "branch"


# -- connections ------------------------------------------------------------------------------------


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int | None:
    """The offset inside an opaque cursor; None when it is not one of ours."""
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
    except (ValueError, UnicodeError):
        return None
    if kind != "offset" or not value.isdigit():
        return None
    return int(value)


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[N]):
    node: N
    cursor: str


@strawberry.type
class Connection(Generic[N]):
    edges: list[Edge[N]]
    page_info: PageInfo
    total_count: int

    @strawberry.field(description="The nodes of `edges` without their cursors (GitLab's shortcut)")
    def nodes(self) -> list[N]:
        return [edge.node for edge in self.edges]

    @classmethod
    def build(cls, nodes: list[N], start: int, total: int) -> Connection[N]:
        edges = [Edge(node=node, cursor=encode_cursor(start + index)) for index, node in enumerate(nodes)]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=start + len(nodes) < total,
                has_previous_page=start > 0,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=total,
        )


# -- packages ---------------------------------------------------------------------------------------


@strawberry.type
class Dist:
    url: str | None
    sha1: str | None
    sha256: str | None
    md5: str | None
    size: int | None


@strawberry.type(description="One installable version (tag) or branch of a package")
class Version:
    version: str
    version_normalized: str
    kind: VersionKind
    ref_name: str | None
    reference: str
    released_at: datetime | None
    yanked: bool
    deprecated: bool
    deprecated_at: datetime | None
    dist: Dist
    package_name: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: models.Version, package_name: str, base_url: str) -> Version:
        url = f"{base_url}/dist/{package_name}/{quote(row.version, safe='')}.zip" if row.dist_key else None
        return cls(
            version=row.version,
            version_normalized=row.version_normalized,
            kind=VersionKind.BRANCH if row.is_branch else VersionKind.TAG,
            ref_name=row.ref_name,
            reference=row.reference,
            released_at=row.released_at,
            yanked=row.yanked,
            deprecated=row.deprecated,
            deprecated_at=row.deprecated_at,
            dist=Dist(
                url=url, sha1=row.dist_sha1, sha256=row.dist_sha256, md5=row.dist_md5, size=row.dist_size
            ),
            package_name=package_name,
        )

    @strawberry.field(description="Dist downloads of this version (the figure of the package statistics)")
    async def downloads(self, info: Ctx) -> int:
        by_version = await info.context.loaders.version_downloads.load(self.package_name)
        return by_version.get(self.version, 0)


def latest_release(rows: list[models.Version]) -> str | None:
    """The newest stable, not yanked tag; else the newest not yanked tag (rows are newest first)."""
    tags = [row for row in rows if not row.is_branch and not row.yanked]
    stable = [row for row in tags if parse_stability(row.version) == "stable"]
    chosen = stable or tags
    return chosen[0].version if chosen else None


@strawberry.type(description="A Composer package served by the registry")
class Package:
    id: strawberry.ID
    name: str
    description: str | None
    repository_url: str | None
    type: GitProviderType
    sync_status: SyncStatus
    sync_error: str | None
    synced_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: models.Package) -> Package:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            description=row.description,
            repository_url=row.repository_url,
            type=GitProviderType(row.repository_type),
            sync_status=SyncStatus(row.sync_status),
            sync_error=row.sync_error,
            synced_at=row.last_synced_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(description="Versions and branches, newest first")
    async def versions(self, info: Ctx) -> list[Version]:
        rows = await info.context.loaders.package_versions.load(str(self.id))
        base_url = info.context.ctx.settings.base_url
        return [Version.from_row(row, self.name, base_url) for row in rows]

    @strawberry.field(description="The newest stable release (else the newest release), if any")
    async def latest_version(self, info: Ctx) -> str | None:
        return latest_release(await info.context.loaders.package_versions.load(str(self.id)))


# -- customers --------------------------------------------------------------------------------------


@strawberry.type(description="One grant: a package (or a whole collection) and the versions allowed")
class PackageAccess:
    name: str | None = strawberry.field(description="The package, null for a collection grant")
    collection: str | None = strawberry.field(description="The collection, null for a package grant")
    constraint: str
    granted_at: datetime

    @classmethod
    def from_row(cls, row: models.PackageGrant) -> PackageAccess:
        return cls(
            name=row.package.name if row.package is not None else None,
            collection=row.collection.slug if row.collection is not None else None,
            constraint=row.version_constraint,
            granted_at=row.created_at,
        )


@strawberry.type(description="A customer of the registry")
class Customer:
    id: strawberry.ID
    name: str
    email: str | None
    external_id: str | None
    status: CustomerStatus
    status_reason: str | None
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: models.Customer) -> Customer:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            email=row.email,
            external_id=row.external_id,
            status=CustomerStatus(row.status),
            status_reason=row.status_reason,
            expires_at=row.expires_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    async def _access(self, info: Ctx) -> list[PackageAccess]:
        rows = await info.context.loaders.customer_grants.load(str(self.id))
        return [PackageAccess.from_row(row) for row in rows]

    @strawberry.field(description="The customer's grants (the same list as packageAccess)")
    async def packages(self, info: Ctx) -> list[PackageAccess]:
        return await self._access(info)

    @strawberry.field(description="The customer's grants: packages and collections, with constraints")
    async def package_access(self, info: Ctx) -> list[PackageAccess]:
        return await self._access(info)

    @strawberry.field(description="The versions a frozen customer is held at (empty unless frozen)")
    async def frozen_versions(self, info: Ctx) -> list[FrozenVersion]:
        pairs = await info.context.loaders.customer_frozen_versions.load(str(self.id))
        return [FrozenVersion(package=package, version=version) for package, version in pairs]


@strawberry.type(description="A package version a frozen customer may still install")
class FrozenVersion:
    package: str
    version: str


# -- collections ------------------------------------------------------------------------------------


@strawberry.type(description="A named group of packages, granted to customers as a whole")
class Collection:
    id: strawberry.ID
    slug: str
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_detail(cls, detail: CollectionDetail) -> Collection:
        row = detail.collection
        return cls(
            id=strawberry.ID(row.id),
            slug=row.slug,
            name=row.name,
            description=row.description,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(description="The packages of the collection, by name")
    async def packages(self, info: Ctx) -> list[Package]:
        rows = await info.context.loaders.collection_packages.load(str(self.id))
        return [Package.from_row(row) for row in rows]


# -- meta -------------------------------------------------------------------------------------------


@strawberry.type
class CustomerCounts:
    total: int
    active: int
    suspended: int
    frozen: int
    expired: int


@strawberry.type
class Usage:
    total: int
    last_30_days: int = strawberry.field(name="last30Days")


@strawberry.type(description="Registry totals (the same figures as GET /api/v1/stats)")
class RegistryStats:
    packages: int
    versions: int
    customers: CustomerCounts
    downloads: Usage
    installs: Usage

    @classmethod
    def from_overview(cls, overview: Overview) -> RegistryStats:
        counts = overview.customers
        return cls(
            packages=overview.packages,
            versions=overview.versions,
            customers=CustomerCounts(
                total=counts.get("total", 0),
                active=counts.get("active", 0),
                suspended=counts.get("suspended", 0),
                frozen=counts.get("frozen", 0),
                expired=counts.get("expired", 0),
            ),
            downloads=Usage(total=overview.downloads.total, last_30_days=overview.downloads.last_30_days),
            installs=Usage(total=overview.installs.total, last_30_days=overview.installs.last_30_days),
        )


@strawberry.type(description="The API version (semantic versioning)")
class ApiVersion:
    major: int
    minor: int
    patch: int
    deprecation_date: datetime | None = strawberry.field(
        description="When set, the date a major version increment is planned"
    )


@strawberry.type(description="The complexity of the current query and the edition's limit")
class QueryComplexity:
    score: int
    limit: int | None = strawberry.field(description="Null: unlimited")
    depth: int
