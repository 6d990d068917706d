"""Cursor pagination arguments shared by every connection field of the schema."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry

from cargoman.errors import ValidationFailed
from cargoman.graphql_limits import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from cargoman.pagination import PageRequest
from cargoman.web.graphql.types import decode_cursor


@strawberry.input(description="Page through a connection: `first` items after the cursor `after`")
class Pagination:
    first: int | None = None
    after: str | None = None


@dataclass(frozen=True)
class Window(PageRequest):
    """A page that starts at any offset (cursor pagination) rather than at a page boundary."""

    start: int = 0

    @property
    def offset(self) -> int:
        return self.start


def window(pagination: Pagination | None, first: int | None, after: str | None) -> Window:
    """The page asked for; top-level ``first`` / ``after`` win over ``pagination``."""
    size = first if first is not None else pagination.first if pagination is not None else None
    cursor = after if after is not None else pagination.after if pagination is not None else None
    if size is None:
        size = DEFAULT_PAGE_SIZE
    if size < 1:
        raise ValidationFailed("first", "must be 1 or more")
    start = 0
    if cursor is not None:
        offset = decode_cursor(cursor)
        if offset is None:
            raise ValidationFailed("after", "is not a valid cursor")
        start = offset + 1
    return Window(per_page=min(size, MAX_PAGE_SIZE), start=start)
