"""Customers, their scoped tokens (and the legacy token endpoints), and their package access."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from cargoman.customers import service as customers
from cargoman.grants import service as grants
from cargoman.grants.service import GrantRequest
from cargoman.packages import repository as packages_repository
from cargoman.pagination import PageRequest
from cargoman.tokens import service as tokens
from cargoman.tokens.customer_jwt import issue_customer_jwt
from cargoman.web.api.auth import Admin, RuntimeDep
from cargoman.web.api.v1 import schemas, serializers
from cargoman.web.api.v1.collections_schemas import GrantEntries, GrantEntry
from cargoman.web.api.v1.common import ERRORS, envelope, list_envelope, page_request
from cargoman.web.api.v1.customer_jwt_schemas import CustomerJwtIssued

router = APIRouter(prefix="/customers", tags=["customers"], responses=ERRORS)

Env = schemas.Envelope


@router.post("", status_code=201, response_model=Env[schemas.CustomerCreated], summary="Create customer")
def create_customer(body: schemas.CustomerCreate, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        created = customers.create_customer(ctx, body.name, body.email, body.external_id, body.expires_at)
        plain = created.first_token.plain
        data = schemas.CustomerCreated(
            **serializers.customer(created.customer).model_dump(),
            token=plain,
            token_id=created.first_token.token.id,
            composer_auth=serializers.composer_auth(runtime.settings.base_url, plain),
        )
    return envelope(data)


@router.get("", response_model=schemas.ListEnvelope[schemas.CustomerOut], summary="List customers")
def list_customers(
    admin: Admin,
    runtime: RuntimeDep,
    page: Annotated[PageRequest, Depends(page_request)],
    status: Annotated[schemas.CustomerStatus | None, Query()] = None,
) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        result = customers.list_customers(ctx, status, page)
        return list_envelope([serializers.customer(c) for c in result.items], result)


def _detail(ctx: Any, customer_id: str) -> schemas.CustomerDetail:
    customer = customers.get_customer(ctx, customer_id)
    frozen = customers.frozen_versions(ctx, customer.id)
    names = {
        p.id: p.name
        for p in (packages_repository.get(ctx.session, ctx.tenant_id, f.package_id) for f in frozen)
        if p is not None
    }
    return serializers.customer_detail(customer, frozen, names)


@router.get(
    "/by-external/{external_id:path}",
    response_model=Env[schemas.CustomerDetail],
    summary="Get customer by external id",
)
def get_by_external(external_id: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        customer = customers.get_by_external_id(ctx, external_id)
        return envelope(_detail(ctx, customer.id))


@router.get("/{customer_id}", response_model=Env[schemas.CustomerDetail], summary="Get customer")
def get_customer(customer_id: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(_detail(ctx, customer_id))


@router.patch("/{customer_id}", response_model=Env[schemas.CustomerOut], summary="Update customer")
def update_customer(
    customer_id: str, body: schemas.CustomerUpdate, admin: Admin, runtime: RuntimeDep
) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        customer = customers.update_customer(ctx, customer_id, body.model_dump(exclude_unset=True))
        return envelope(serializers.customer(customer))


@router.delete("/{customer_id}", response_model=Env[schemas.Deleted], summary="Delete customer")
def delete_customer(customer_id: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        customers.delete_customer(ctx, customer_id)
    return envelope(schemas.Deleted())


@router.post("/{customer_id}/suspend", response_model=Env[schemas.CustomerOut], summary="Suspend customer")
def suspend_customer(
    customer_id: str,
    admin: Admin,
    runtime: RuntimeDep,
    body: Annotated[schemas.SuspendRequest | None, Body()] = None,
) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        customer = customers.suspend_customer(ctx, customer_id, body.reason if body else None)
        return envelope(serializers.customer(customer))


@router.post(
    "/{customer_id}/reactivate", response_model=Env[schemas.CustomerOut], summary="Reactivate customer"
)
def reactivate_customer(customer_id: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(serializers.customer(customers.reactivate_customer(ctx, customer_id)))


@router.post("/{customer_id}/freeze", response_model=Env[schemas.CustomerDetail], summary="Freeze customer")
def freeze_customer(
    customer_id: str,
    admin: Admin,
    runtime: RuntimeDep,
    body: Annotated[schemas.FreezeRequest | None, Body()] = None,
) -> dict[str, Any]:
    versions = [(v.package, v.version) for v in body.versions] if body and body.versions else None
    with admin.unit_of_work(runtime) as ctx:
        customers.freeze_customer(ctx, customer_id, versions)
        ctx.session.flush()
        return envelope(_detail(ctx, customer_id))


# -- scoped tokens ------------------------------------------------------------------------------


@router.post(
    "/{customer_id}/tokens", status_code=201, response_model=Env[schemas.TokenCreated], summary="Create token"
)
def create_token(
    customer_id: str, body: schemas.TokenCreate, admin: Admin, runtime: RuntimeDep
) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        issued = tokens.create_token(
            ctx, customer_id, body.name, body.scope, body.package_scopes, body.expires_at
        )
        return envelope(serializers.token_created(issued.token, issued.plain, runtime.settings.base_url))


@router.get("/{customer_id}/tokens", response_model=Env[list[schemas.TokenOut]], summary="List tokens")
def list_tokens(customer_id: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope([serializers.token(t) for t in tokens.list_tokens(ctx, customer_id)])


@router.get("/{customer_id}/tokens/{token_id}", response_model=Env[schemas.TokenOut], summary="Get token")
def get_token(customer_id: str, token_id: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(serializers.token(tokens.get_token(ctx, token_id, customer_id)))


@router.delete(
    "/{customer_id}/tokens/{token_id}", response_model=Env[schemas.TokenOut], summary="Revoke token"
)
def revoke_token(customer_id: str, token_id: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(serializers.token(tokens.revoke_token(ctx, token_id, customer_id)))


@router.post(
    "/{customer_id}/tokens/{token_id}/rotate",
    response_model=Env[schemas.TokenCreated],
    summary="Rotate token",
)
def rotate_token(customer_id: str, token_id: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        issued = tokens.rotate_token(ctx, token_id, customer_id)
        return envelope(serializers.token_created(issued.token, issued.plain, runtime.settings.base_url))


@router.post(
    "/{customer_id}/token/regenerate",
    response_model=Env[schemas.TokenCreated],
    summary="Regenerate the customer's token (legacy)",
)
def regenerate_legacy_token(customer_id: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        issued = tokens.regenerate_legacy_token(ctx, customer_id)
        return envelope(serializers.token_created(issued.token, issued.plain, runtime.settings.base_url))


@router.delete(
    "/{customer_id}/token", response_model=Env[schemas.RevokedCount], summary="Revoke all tokens (legacy)"
)
def revoke_legacy_token(customer_id: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(schemas.RevokedCount(revoked=tokens.revoke_all(ctx, customer_id)))


# -- package access -----------------------------------------------------------------------------


@router.get(
    "/{customer_id}/packages", response_model=Env[list[schemas.GrantOut]], summary="List package access"
)
def list_grants(customer_id: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope([serializers.grant(g) for g in grants.list_grants(ctx, customer_id)])


@router.put(
    "/{customer_id}/packages", response_model=Env[list[schemas.GrantOut]], summary="Replace package access"
)
def replace_grants(customer_id: str, body: GrantEntries, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    requests = [GrantRequest(item.package, item.constraint, item.collection) for item in body.packages]
    with admin.unit_of_work(runtime) as ctx:
        return envelope([serializers.grant(g) for g in grants.replace_grants(ctx, customer_id, requests)])


@router.post(
    "/{customer_id}/packages",
    status_code=201,
    response_model=Env[schemas.GrantOut],
    summary="Add package access",
)
def add_grant(customer_id: str, body: GrantEntry, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        grant = grants.add_grant(ctx, customer_id, body.package, body.constraint, collection=body.collection)
        return envelope(serializers.grant(grant))


@router.delete(
    "/{customer_id}/packages/{vendor}/{name}",
    response_model=Env[schemas.Deleted],
    summary="Remove package access",
)
def remove_grant(
    customer_id: str, vendor: str, name: str, admin: Admin, runtime: RuntimeDep
) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        grants.remove_grant(ctx, customer_id, f"{vendor}/{name}")
    return envelope(schemas.Deleted())


@router.delete(
    "/{customer_id}/collections/{slug}",
    response_model=Env[schemas.Deleted],
    summary="Remove collection access",
)
def remove_collection_grant(customer_id: str, slug: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        grants.remove_collection_grant(ctx, customer_id, slug)
    return envelope(schemas.Deleted())


# -- customer JWTs ------------------------------------------------------------------------------


@router.post(
    "/{customer_id}/jwt",
    response_model=Env[CustomerJwtIssued],
    summary="Issue a short-lived download JWT (needs JWT_SECRET)",
)
def issue_jwt(customer_id: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        issued = issue_customer_jwt(ctx, customer_id)
    return envelope(
        CustomerJwtIssued(
            token=issued.token,
            expires_at=issued.expires_at,
            expires_in=runtime.settings.jwt_expiry,
            composer_auth=serializers.composer_auth(runtime.settings.base_url, issued.token),
        )
    )
