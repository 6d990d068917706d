"""Mutation input types, and their validation by the REST request models.

Each input mirrors a REST request body (camelCase on the wire) and is checked by that body's
pydantic model before any service runs, so both APIs accept and refuse exactly the same input.
Error fields name the input as GraphQL clients spell it (``packageScopes[0]``, not
``package_scopes[0]``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

import strawberry
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from cargoman.errors import ValidationFailed
from cargoman.web.graphql.mutation_types import TokenScope
from cargoman.web.graphql.types import GitProviderType

Model = TypeVar("Model", bound=BaseModel)


@strawberry.input(description="A new customer (the same fields as POST /api/v1/customers)")
class CreateCustomerInput:
    name: str
    email: str | None = None
    external_id: str | None = None
    expires_at: datetime | None = None


@strawberry.input(description="Fields to change; omitted fields stay as they are, null clears")
class UpdateCustomerInput:
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    external_id: str | None = strawberry.UNSET
    expires_at: datetime | None = strawberry.UNSET


@strawberry.input(description="One package version a frozen customer stays on")
class VersionFreeze:
    package: str
    version: str


@strawberry.input(description="A new scoped token (the same fields as POST /customers/{id}/tokens)")
class CreateTokenInput:
    name: str = "API token"
    scope: TokenScope = TokenScope.ADMIN
    package_scopes: list[str] = strawberry.field(
        default_factory=list, description="Package patterns the token is limited to, e.g. vendor/*"
    )
    expires_at: datetime | None = None


@strawberry.input(description="Access to one package, or to every package of a collection (give one)")
class PackageAccessInput:
    package: str | None = None
    collection: str | None = None
    constraint: str = "*"


@strawberry.input(description="A package to add from a Git repository (as POST /api/v1/packages)")
class AddPackageInput:
    repository_url: str
    name: str | None = strawberry.field(default=None, description="vendor/name; read from composer.json")
    type: GitProviderType = GitProviderType.GIT
    monorepo: str | None = strawberry.field(
        default=None,
        description="Glob of the children's composer.json files (packages/*/composer.json): "
        "makes the package a monorepo root, and then `name` is required",
    )


@strawberry.input(description="A new collection (the same fields as POST /api/v1/collections)")
class CreateCollectionInput:
    name: str
    slug: str
    description: str | None = None
    packages: list[str] = strawberry.field(default_factory=list)


@strawberry.input(description="Fields to change; `packages` replaces the whole list")
class UpdateCollectionInput:
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    packages: list[str] | None = strawberry.UNSET


# -- validation ------------------------------------------------------------------------------------

_SNAKE_PART = re.compile(r"_([a-z0-9])")


def graphql_field(field: str) -> str:
    """``package_scopes[0]`` -> ``packageScopes[0]``: error fields as GraphQL names them."""
    return _SNAKE_PART.sub(lambda match: match.group(1).upper(), field)


def _field_of(location: Sequence[int | str]) -> str:
    field = ""
    for part in location:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    return field or "input"


def _plain(value: Any) -> Any:
    """Inputs as the JSON a REST client would send: enums by value, nested inputs as dicts."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return given(value)
    return value


def given(input_value: object) -> dict[str, Any]:
    """The fields a client set (UNSET ones left out), in snake_case."""
    assert dataclasses.is_dataclass(input_value)
    values = {field.name: getattr(input_value, field.name) for field in dataclasses.fields(input_value)}
    return {name: _plain(value) for name, value in values.items() if value is not strawberry.UNSET}


def given_list(items: Sequence[object] | None) -> list[dict[str, Any]] | None:
    return [given(item) for item in items] if items is not None else None


def checked(model: type[Model], values: dict[str, Any]) -> Model:
    """Validate with the REST body model; the first problem becomes a VALIDATION_ERROR naming its field."""
    try:
        return model.model_validate(values)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        raise ValidationFailed(graphql_field(_field_of(first["loc"])), first["msg"]) from exc


def renamed(exc: ValidationFailed, prefix: str = "") -> ValidationFailed:
    """The same error with its field in GraphQL spelling, under ``prefix`` (``packages[2].``)."""
    detail = exc.message.removeprefix(f"{exc.field}: ")
    return ValidationFailed(prefix + graphql_field(exc.field), detail)
