"""Collections: named groups of packages, granted to customers as a whole.

A collection grant reaches whatever the collection holds at the time of each request, so changing
a collection's packages (or deleting it) changes what every holder's Composer clients may see: each
holder gets a new access stamp and the Composer caches are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from cargoman import validation
from cargoman.collections import repository
from cargoman.db.models import Collection, Package
from cargoman.errors import Conflict, NotFound, ValidationFailed
from cargoman.grants import repository as grants_repository
from cargoman.packages import repository as packages_repository
from cargoman.pagination import Page, PageRequest, paginate
from cargoman.runtime import ServiceContext
from cargoman.security import new_id
from cargoman.stamps import next_change_stamp
from cargoman.timeutil import utcnow

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MAX_SLUG_LENGTH = 100
MAX_DESCRIPTION_LENGTH = 5000
UPDATABLE_FIELDS = ("name", "description", "packages")


@dataclass(frozen=True)
class CollectionDetail:
    collection: Collection
    packages: list[str]

    def audit_record(self) -> dict[str, Any]:
        return {
            "slug": self.collection.slug,
            "name": self.collection.name,
            "description": self.collection.description,
            "packages": list(self.packages),
        }


def _slug(value: str, field: str = "slug") -> str:
    if len(value) > MAX_SLUG_LENGTH:
        raise ValidationFailed(field, f"must be at most {MAX_SLUG_LENGTH} characters")
    if not SLUG.match(value):
        raise ValidationFailed(
            field, f"'{value}' is not a valid slug: use lower-case letters, digits and '-', not leading '-'"
        )
    return value


def _description(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > MAX_DESCRIPTION_LENGTH:
        raise ValidationFailed("description", f"must be at most {MAX_DESCRIPTION_LENGTH} characters")
    return value.strip()


def _resolve_packages(ctx: ServiceContext, names: list[str]) -> list[Package]:
    """Every named package, in order; the first bad entry is reported by its index."""
    wanted: list[str] = []
    for index, name in enumerate(names):
        normalized = validation.package_name(name, f"packages[{index}]")
        if normalized in wanted:
            raise ValidationFailed(f"packages[{index}]", f"{normalized} is listed twice")
        wanted.append(normalized)
    found = packages_repository.get_many_by_name(ctx.session, ctx.tenant_id, wanted)
    for index, name in enumerate(wanted):
        if name not in found:
            raise ValidationFailed(f"packages[{index}]", f"no package named {name}")
    return [found[name] for name in wanted]


def _holders_changed(ctx: ServiceContext, collection: Collection) -> list[str]:
    """Give every customer holding the collection a new access stamp; their ids, for the audit."""
    holders = grants_repository.customers_with_collection(ctx.session, ctx.tenant_id, collection.id)
    if holders:
        stamp = next_change_stamp(ctx)
        for customer in holders:
            customer.access_changed_at = stamp
        ctx.changed()
    return [customer.id for customer in holders]


def get_collection(ctx: ServiceContext, slug: str) -> Collection:
    collection = repository.get_by_slug(ctx.session, ctx.tenant_id, slug)
    if collection is None:
        raise NotFound(f"Collection {slug} not found")
    return collection


def _detail(ctx: ServiceContext, collection: Collection) -> CollectionDetail:
    names = repository.package_names(ctx.session, ctx.tenant_id, [collection.id])
    return CollectionDetail(collection, names[collection.id])


def get_collection_detail(ctx: ServiceContext, slug: str) -> CollectionDetail:
    return _detail(ctx, get_collection(ctx, slug))


def list_collections(ctx: ServiceContext, page: PageRequest) -> Page[CollectionDetail]:
    result = paginate(ctx.session, repository.list_query(ctx.tenant_id), page)
    names = repository.package_names(ctx.session, ctx.tenant_id, [c.id for c in result.items])
    return Page(
        items=[CollectionDetail(c, names[c.id]) for c in result.items], total=result.total, request=page
    )


def packages_of_collections(ctx: ServiceContext, collection_ids: list[str]) -> dict[str, list[Package]]:
    """The packages of several collections (by name), in one query: for batched readers."""
    return repository.packages_of(ctx.session, ctx.tenant_id, collection_ids)


def create_collection(
    ctx: ServiceContext, name: str, slug: str, packages: list[str], description: str | None = None
) -> CollectionDetail:
    checked_slug = _slug(slug)
    checked_name = validation.non_empty(name, "name")
    checked_description = _description(description)
    resolved = _resolve_packages(ctx, packages)
    if repository.get_by_slug(ctx.session, ctx.tenant_id, checked_slug) is not None:
        raise Conflict(f"A collection with slug {checked_slug} already exists")
    collection = Collection(
        id=new_id("coll"),
        tenant_id=ctx.tenant_id,
        slug=checked_slug,
        name=checked_name,
        description=checked_description,
    )
    ctx.session.add(collection)
    try:
        ctx.session.flush()
    except IntegrityError as exc:  # created concurrently by another request
        raise Conflict(f"A collection with slug {checked_slug} already exists") from exc
    repository.replace_packages(ctx.session, ctx.tenant_id, collection.id, [p.id for p in resolved])
    detail = CollectionDetail(collection, sorted(p.name for p in resolved))
    ctx.audit("collection.create", "collection", collection.slug, None, detail.audit_record())
    return detail


def update_collection(ctx: ServiceContext, slug: str, changes: dict[str, Any]) -> CollectionDetail:
    """Change name, description and/or the whole package list (validated before anything changes)."""
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValidationFailed(sorted(unknown)[0], "cannot be changed")
    collection = get_collection(ctx, slug)
    before = _detail(ctx, collection)
    name = collection.name
    if "name" in changes:
        if changes["name"] is None:
            raise ValidationFailed("name", "must not be empty")
        name = validation.non_empty(changes["name"], "name")
    description = _description(changes["description"]) if "description" in changes else collection.description
    resolved: list[Package] | None = None
    if "packages" in changes:
        if changes["packages"] is None:
            raise ValidationFailed("packages", "must be a list of package names")
        resolved = _resolve_packages(ctx, changes["packages"])
    collection.name = name
    collection.description = description
    packages = before.packages
    holders: list[str] = []
    if resolved is not None and sorted(p.name for p in resolved) != before.packages:
        repository.replace_packages(ctx.session, ctx.tenant_id, collection.id, [p.id for p in resolved])
        packages = sorted(p.name for p in resolved)
        holders = _holders_changed(ctx, collection)
    collection.updated_at = utcnow()
    after = CollectionDetail(collection, packages)
    record = after.audit_record()
    if holders:
        record["customers_affected"] = holders
    ctx.audit("collection.update", "collection", collection.slug, before.audit_record(), record)
    return after


def delete_collection(ctx: ServiceContext, slug: str) -> None:
    """Delete the collection; grants on it go with it, so its holders lose what it gave them."""
    collection = get_collection(ctx, slug)
    before = _detail(ctx, collection).audit_record()
    before["granted_to"] = _holders_changed(ctx, collection)
    ctx.session.delete(collection)
    ctx.audit("collection.delete", "collection", collection.slug, before, None)
