"""The package list with GitLab-style ordering and filters (order_by, sort, package_name, status)."""

from __future__ import annotations

from dataclasses import dataclass

from cargoman.composer.versions import sort_versions
from cargoman.db.models import Package
from cargoman.errors import ValidationFailed
from cargoman.packages import repository
from cargoman.pagination import Page, PageRequest, paginate
from cargoman.runtime import ServiceContext

ORDER_BY = ("created_at", "name", "version")
SORT_DIRECTIONS = ("asc", "desc")
SYNC_STATUSES = ("pending", "syncing", "ready", "error")
MAX_NAME_FILTER = 214


@dataclass(frozen=True)
class PackageFilters:
    order_by: str = "name"
    sort: str = "asc"
    package_name: str | None = None
    status: str | None = None

    def __post_init__(self) -> None:
        if self.order_by not in ORDER_BY:
            raise ValidationFailed("order_by", f"must be one of {', '.join(ORDER_BY)}")
        if self.sort not in SORT_DIRECTIONS:
            raise ValidationFailed("sort", f"must be one of {', '.join(SORT_DIRECTIONS)}")
        if self.status is not None and self.status not in SYNC_STATUSES:
            raise ValidationFailed("status", f"must be one of {', '.join(SYNC_STATUSES)}")
        if self.package_name is not None and (
            len(self.package_name) > MAX_NAME_FILTER or "\x00" in self.package_name
        ):
            raise ValidationFailed("package_name", f"must be at most {MAX_NAME_FILTER} characters")


def list_packages(ctx: ServiceContext, page: PageRequest, filters: PackageFilters) -> Page[Package]:
    query = repository.filtered_query(
        ctx.tenant_id,
        package_name=_name_filter(filters),
        status=filters.status,
        order_by=filters.order_by,
        descending=filters.sort == "desc",
    )
    if filters.order_by != "version":
        return paginate(ctx.session, query, page)
    # SQL cannot order Composer versions, so the newest release of each package is ranked here.
    by_name = repository.filtered_query(
        ctx.tenant_id, package_name=_name_filter(filters), status=filters.status, order_by="name"
    )
    releases = repository.release_versions_of(ctx.session, ctx.tenant_id, by_name)
    newest = {
        package_id: sort_versions(versions, reverse=True)[0]
        for package_id, versions in releases.items()
        if versions
    }
    rank = {version: index for index, version in enumerate(sort_versions(set(newest.values())))}
    ordered_ids = list(ctx.session.scalars(by_name.with_only_columns(Package.id)))
    # Packages without a release rank lowest; a stable sort keeps name order among equals.
    ordered_ids.sort(
        key=lambda package_id: (package_id in newest, rank.get(newest.get(package_id, ""), -1)),
        reverse=filters.sort == "desc",
    )
    page_ids = ordered_ids[page.offset : page.offset + page.per_page]
    rows = repository.get_many(ctx.session, ctx.tenant_id, page_ids)
    return Page(items=[rows[package_id] for package_id in page_ids], total=len(ordered_ids), request=page)


def _name_filter(filters: PackageFilters) -> str | None:
    return (filters.package_name or "").strip() or None
