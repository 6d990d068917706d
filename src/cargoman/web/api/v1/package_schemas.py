"""Bodies of the package extras: monorepos, README, validation, webhook deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from cargoman.db.models import Package, WebhookDelivery
from cargoman.packages.checks import CheckReport
from cargoman.packages.readme import Readme
from cargoman.web.api.v1 import schemas, serializers


class PackageAdd(schemas.PackageCreate):
    monorepo: str | None = Field(
        default=None,
        max_length=255,
        description="Glob of the children's composer.json files, e.g. packages/*/composer.json; "
        "makes this package a monorepo root (then `name` is required).",
    )


class ReadmeOut(BaseModel):
    filename: str
    content: str
    ref: str


class ProblemOut(BaseModel):
    ref: str
    kind: str
    message: str


class ValidationOut(BaseModel):
    valid: bool
    problems: list[ProblemOut]
    refs_checked: int


class WebhookDeliveryOut(BaseModel):
    id: int
    provider: str
    event: str
    delivery_id: str | None
    verified: bool
    outcome: str
    message: str | None
    task_ids: list[Any]
    created_at: datetime


class MonorepoChildOut(schemas.PackageOut):
    subdir: str | None
    version_count: int


class MonorepoOut(BaseModel):
    package: schemas.PackageOut
    glob: str
    default_branch: str | None
    sync_warnings: list[schemas.SyncWarning]
    children_count: int
    children: list[MonorepoChildOut]


def readme(value: Readme) -> ReadmeOut:
    return ReadmeOut(filename=value.filename, content=value.content, ref=value.ref)


def validation_report(report: CheckReport) -> ValidationOut:
    return ValidationOut(
        valid=report.valid,
        problems=[ProblemOut(ref=p.ref, kind=p.kind, message=p.message) for p in report.problems],
        refs_checked=report.refs_checked,
    )


def webhook_delivery(row: WebhookDelivery) -> WebhookDeliveryOut:
    return WebhookDeliveryOut(
        id=row.id,
        provider=row.provider,
        event=row.event,
        delivery_id=row.delivery_id,
        verified=row.verified,
        outcome=row.outcome,
        message=row.message,
        task_ids=list(row.task_ids or []),
        created_at=row.created_at,
    )


def monorepo_child(row: Package, version_count: int) -> MonorepoChildOut:
    return MonorepoChildOut(
        **serializers.package(row).model_dump(), subdir=row.subdir, version_count=version_count
    )


def monorepo(root: Package, children: list[Package], counts: dict[str, int]) -> MonorepoOut:
    assert root.monorepo_glob is not None
    return MonorepoOut(
        package=serializers.package(root),
        glob=root.monorepo_glob,
        default_branch=root.default_branch,
        sync_warnings=[schemas.SyncWarning(**w) for w in root.sync_warnings or []],
        children_count=len(children),
        children=[monorepo_child(child, counts.get(child.id, 0)) for child in children],
    )
