"""The query root: thin resolvers calling the same services as the REST API."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from cargoman.collections import service as collections
from cargoman.customers import service as customers
from cargoman.graphql_limits import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from cargoman.packages import listing
from cargoman.packages import service as packages
from cargoman.stats import service as stats
from cargoman.timeutil import isoformat
from cargoman.web.graphql.mutations import MUTATIONS
from cargoman.web.graphql.paging import Pagination
from cargoman.web.graphql.paging import window as _window
from cargoman.web.graphql.queries_operations import OperationsQuery
from cargoman.web.graphql.subscriptions import EventSubscription
from cargoman.web.graphql.types import (
    ApiVersion,
    Collection,
    Connection,
    Ctx,
    Customer,
    CustomerStatus,
    Package,
    QueryComplexity,
    RegistryStats,
    SyncStatus,
)
from cargoman.web.graphql.upload_mutation import UploadMutation
from cargoman.web.graphql.webhook_payload import WEBHOOK_PAYLOAD_TYPES, WebhookPayloadQuery
from cargoman.web.graphql.webhooks import WebhookMutation, WebhookQuery

# Semantic versioning of the schema: a new field is a minor step; a removal (after its
# deprecation period) a major one.
API_VERSION = (1, 0, 0)


@strawberry.input
class CustomerFilter:
    status: CustomerStatus | None = None


@strawberry.input
class PackageFilter:
    name: str | None = strawberry.field(default=None, description="Name contains (any case)")
    status: SyncStatus | None = None


@strawberry.type
class CoreQuery:
    @strawberry.field(description="A customer by id")
    def customer(self, info: Ctx, id: strawberry.ID) -> Customer | None:
        return Customer.from_row(customers.get_customer(info.context.ctx, str(id)))

    @strawberry.field(description="A customer by the id your own systems gave it")
    def customer_by_external_id(self, info: Ctx, external_id: str) -> Customer | None:
        return Customer.from_row(customers.get_by_external_id(info.context.ctx, external_id))

    @strawberry.field(description="Customers, by name")
    def customers(
        self,
        info: Ctx,
        filter: CustomerFilter | None = None,
        pagination: Pagination | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Customer]:
        window = _window(pagination, first, after)
        status = filter.status.value if filter is not None and filter.status is not None else None
        page = customers.list_customers(info.context.ctx, status, window)
        return Connection.build([Customer.from_row(row) for row in page.items], window.start, page.total)

    @strawberry.field(description="A package by name (vendor/name)")
    def package(self, info: Ctx, name: str) -> Package | None:
        return Package.from_row(packages.get_package(info.context.ctx, name))

    @strawberry.field(description="Packages, by name")
    def packages(
        self,
        info: Ctx,
        filter: PackageFilter | None = None,
        pagination: Pagination | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Package]:
        window = _window(pagination, first, after)
        filters = listing.PackageFilters(
            package_name=filter.name if filter is not None else None,
            status=filter.status.value if filter is not None and filter.status is not None else None,
        )
        page = listing.list_packages(info.context.ctx, window, filters)
        return Connection.build([Package.from_row(row) for row in page.items], window.start, page.total)

    @strawberry.field(description="A collection by slug")
    def collection(self, info: Ctx, slug: str) -> Collection | None:
        return Collection.from_detail(collections.get_collection_detail(info.context.ctx, slug))

    @strawberry.field(
        description=f"Collections, by slug: the first `first` ({DEFAULT_PAGE_SIZE} unless asked, at most "
        f"{MAX_PAGE_SIZE})"
    )
    def collections(self, info: Ctx, first: int = DEFAULT_PAGE_SIZE) -> list[Collection]:
        window = _window(None, first, None)
        page = collections.list_collections(info.context.ctx, window)
        return [Collection.from_detail(detail) for detail in page.items]

    @strawberry.field(description="Registry totals: packages, versions, customers, downloads, installs")
    def stats(self, info: Ctx) -> RegistryStats:
        return RegistryStats.from_overview(stats.overview(info.context.ctx))

    @strawberry.field(description="The API version")
    def version(self) -> ApiVersion:
        major, minor, patch = API_VERSION
        return ApiVersion(major=major, minor=minor, patch=patch, deprecation_date=None)

    @strawberry.field(description="The complexity score of this query and the limit it was checked against")
    def query_complexity(self, info: Ctx) -> QueryComplexity:
        limits = info.context.limits
        return QueryComplexity(
            score=limits.complexity, limit=info.context.complexity_limit, depth=limits.depth
        )


def _serialize_datetime(value: datetime) -> str | None:
    return isoformat(value)


def _parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO 8601 string")
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# The same text as the REST API: ISO 8601 in UTC with a `Z` (`2025-01-31T12:00:00.123456Z`).
DATETIME_SCALAR = strawberry.scalar(
    name="DateTime",
    description="An ISO 8601 timestamp in UTC, e.g. 2025-01-31T12:00:00Z",
    serialize=_serialize_datetime,
    parse_value=_parse_datetime,
)


class CargomanSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Logged by the endpoint, which knows which errors are expected (NOT_FOUND...) and which not."""


# The root types are assembled from one part per area, so each area keeps its own module.
QUERY_PARTS: tuple[type, ...] = (CoreQuery, OperationsQuery, WebhookQuery, WebhookPayloadQuery)
MUTATION_PARTS: tuple[type, ...] = (*MUTATIONS, WebhookMutation, UploadMutation)
SUBSCRIPTION_PARTS: tuple[type, ...] = (EventSubscription,)
# Types no field returns directly (implementations of an interface) but the schema must know.
EXTRA_TYPES: tuple[Any, ...] = (*WEBHOOK_PAYLOAD_TYPES,)


def _merge(name: str, parts: tuple[type, ...]) -> type | None:
    return merge_types(name, parts) if parts else None


def build_schema(extensions: Sequence[type[SchemaExtension]] = ()) -> strawberry.Schema:
    return CargomanSchema(
        query=cast(type, _merge("Query", QUERY_PARTS)),
        mutation=_merge("Mutation", MUTATION_PARTS),
        subscription=_merge("Subscription", SUBSCRIPTION_PARTS),
        config=StrawberryConfig(auto_camel_case=True, scalar_map={datetime: DATETIME_SCALAR}),
        types=list(EXTRA_TYPES),
        extensions=list(extensions),
    )
