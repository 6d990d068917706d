"""ORM rows to response bodies; one place so REST, CLI --json and later GraphQL agree."""

from __future__ import annotations

from urllib.parse import quote

from cargoman.db.models import Customer, CustomerToken, FrozenVersion, Package, PackageGrant, Task, Version
from cargoman.web.api.v1 import schemas


def customer(row: Customer) -> schemas.CustomerOut:
    return schemas.CustomerOut(
        id=row.id,
        name=row.name,
        email=row.email,
        external_id=row.external_id,
        status=row.status,
        status_reason=row.status_reason,
        expires_at=row.expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def customer_detail(
    row: Customer, frozen: list[FrozenVersion], names: dict[str, str]
) -> schemas.CustomerDetail:
    return schemas.CustomerDetail(
        **customer(row).model_dump(),
        frozen_versions=[
            schemas.FrozenVersionOut(package=names.get(f.package_id, f.package_id), version=f.version)
            for f in frozen
        ],
    )


def composer_auth(base_url: str, plain: str) -> schemas.ComposerAuth:
    return schemas.ComposerAuth(username="token", password=plain, repository_url=base_url)


def token(row: CustomerToken) -> schemas.TokenOut:
    return schemas.TokenOut(
        id=row.id,
        customer_id=row.customer_id,
        name=row.name,
        scope=row.scope,
        package_scopes=list(row.package_scopes or []),
        token_hint=row.token_hint,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        last_used_ip=row.last_used_ip,
        created_at=row.created_at,
    )


def token_created(row: CustomerToken, plain: str, base_url: str) -> schemas.TokenCreated:
    return schemas.TokenCreated(
        token=token(row), plain_token=plain, composer_auth=composer_auth(base_url, plain)
    )


def grant(row: PackageGrant) -> schemas.GrantOut:
    return schemas.GrantOut(
        package=row.package.name if row.package is not None else None,
        collection=row.collection.slug if row.collection is not None else None,
        constraint=row.version_constraint,
        created_at=row.created_at,
    )


def package(row: Package) -> schemas.PackageOut:
    return schemas.PackageOut(
        id=row.id,
        name=row.name,
        repository_url=row.repository_url,
        type=row.repository_type,
        description=row.description,
        sync_status=row.sync_status,
        sync_error=row.sync_error,
        last_synced_at=row.last_synced_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def version(row: Version, package_name: str, base_url: str) -> schemas.VersionOut:
    url = f"{base_url}/dist/{package_name}/{quote(row.version, safe='')}.zip" if row.dist_key else None
    return schemas.VersionOut(
        version=row.version,
        version_normalized=row.version_normalized,
        kind="branch" if row.is_branch else "tag",
        ref_name=row.ref_name,
        reference=row.reference,
        released_at=row.released_at,
        yanked=row.yanked,
        deprecated=row.deprecated,
        deprecated_at=row.deprecated_at,
        dist=schemas.DistOut(
            url=url, sha1=row.dist_sha1, sha256=row.dist_sha256, md5=row.dist_md5, size=row.dist_size
        ),
        composer=row.manifest,
    )


def package_detail(row: Package, versions: list[Version], base_url: str) -> schemas.PackageDetail:
    return schemas.PackageDetail(
        **package(row).model_dump(),
        default_branch=row.default_branch,
        sync_warnings=[schemas.SyncWarning(**w) for w in row.sync_warnings or []],
        versions=[version(v, row.name, base_url) for v in versions],
    )


def task(row: Task) -> schemas.TaskOut:
    return schemas.TaskOut(
        id=row.id,
        kind=row.kind,
        status=row.status,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        payload=row.payload,
        result=row.result,
        error=row.error,
        run_after=row.run_after,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )
