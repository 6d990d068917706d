"""Page-based list results shared by services and APIs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cargoman.errors import ValidationFailed

T = TypeVar("T")

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    def __post_init__(self) -> None:
        if self.page < 1:
            raise ValidationFailed("page", "must be 1 or more")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise ValidationFailed("per_page", f"must be between 1 and {MAX_PER_PAGE}")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    request: PageRequest

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total / self.request.per_page) if self.total else 0

    def pagination(self) -> dict[str, int]:
        return {
            "page": self.request.page,
            "per_page": self.request.per_page,
            "total": self.total,
            "total_pages": self.total_pages,
        }


def paginate(session: Session, query: Select[Any], request: PageRequest) -> Page[Any]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(session.scalars(query.offset(request.offset).limit(request.per_page)))
    return Page(items=items, total=total, request=request)
