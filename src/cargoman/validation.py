"""Shared input rules, so the REST API, GraphQL and the CLI refuse the same things."""

from __future__ import annotations

import re

from cargoman.composer.constraints import InvalidConstraint, parse_constraint
from cargoman.errors import ValidationFailed

PACKAGE_NAME = re.compile(r"^[a-z0-9]([_.-]?[a-z0-9]+)*/[a-z0-9](([_.]|-{1,2})?[a-z0-9]+)*$")
PACKAGE_SCOPE = re.compile(r"^[a-z0-9*?_.\-\[\]]+/[a-z0-9*?_.\-\[\]]+$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def package_name(value: str, field: str = "name") -> str:
    name = value.strip().lower()
    if not PACKAGE_NAME.match(name):
        raise ValidationFailed(field, f"'{value}' is not a valid Composer package name (vendor/name)")
    return name


def version_constraint(value: str, field: str = "constraint") -> str:
    text = value.strip()
    if not text:
        raise ValidationFailed(field, "must not be empty")
    try:
        parse_constraint(text)
    except InvalidConstraint as exc:
        raise ValidationFailed(field, f"'{value}' is not a valid version constraint: {exc}") from exc
    return text


def package_scope(value: str, field: str = "package_scopes") -> str:
    pattern = value.strip().lower()
    if not PACKAGE_SCOPE.match(pattern):
        raise ValidationFailed(field, f"'{value}' is not a package pattern such as vendor/* or vendor/name")
    return pattern


def non_empty(value: str, field: str, max_length: int = 200) -> str:
    text = value.strip()
    if not text:
        raise ValidationFailed(field, "must not be empty")
    if len(text) > max_length:
        raise ValidationFailed(field, f"must be at most {max_length} characters")
    return text


def email(value: str | None, field: str = "email") -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if len(text) > 320 or not EMAIL.match(text):
        raise ValidationFailed(field, f"'{value}' is not a valid email address")
    return text
