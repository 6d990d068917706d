"""Request/response bodies of the collection endpoints and of grants that may name a collection."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from cargoman.collections.service import CollectionDetail
from cargoman.web.api.v1.schemas import StrictBody


class CollectionCreate(StrictBody):
    name: str = Field(min_length=1, max_length=200)
    # Format (lower-case letters, digits, '-') is checked by the service, with a clearer message.
    slug: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=5000)
    packages: list[str] = Field(default_factory=list, max_length=1000)


class CollectionUpdate(StrictBody):
    """Every field is optional; `packages` replaces the whole list."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    packages: list[str] | None = Field(default=None, max_length=1000)


class CollectionOut(BaseModel):
    slug: str
    name: str
    description: str | None
    packages: list[str]
    created_at: datetime
    updated_at: datetime


class GrantEntry(StrictBody):
    """Access to one package, or to every package of a collection (give exactly one)."""

    package: str | None = Field(default=None, min_length=1)
    collection: str | None = Field(default=None, min_length=1, max_length=100)
    constraint: str = Field(default="*", min_length=1, max_length=255)


class GrantEntries(StrictBody):
    packages: list[GrantEntry]


def collection(detail: CollectionDetail) -> CollectionOut:
    row = detail.collection
    return CollectionOut(
        slug=row.slug,
        name=row.name,
        description=row.description,
        packages=list(detail.packages),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
