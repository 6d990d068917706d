"""Collections: named groups of packages that customers can be granted as a whole."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from cargoman.collections import service as collections
from cargoman.pagination import PageRequest
from cargoman.web.api.auth import Admin, RuntimeDep
from cargoman.web.api.v1 import schemas
from cargoman.web.api.v1.collections_schemas import (
    CollectionCreate,
    CollectionOut,
    CollectionUpdate,
    collection,
)
from cargoman.web.api.v1.common import ERRORS, envelope, list_envelope, page_request

router = APIRouter(prefix="/collections", tags=["collections"], responses=ERRORS)

Env = schemas.Envelope


@router.get("", response_model=schemas.ListEnvelope[CollectionOut], summary="List collections")
def list_collections(
    admin: Admin, runtime: RuntimeDep, page: Annotated[PageRequest, Depends(page_request)]
) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        result = collections.list_collections(ctx, page)
        return list_envelope([collection(detail) for detail in result.items], result)


@router.post("", status_code=201, response_model=Env[CollectionOut], summary="Create collection")
def create_collection(body: CollectionCreate, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        detail = collections.create_collection(ctx, body.name, body.slug, body.packages, body.description)
        return envelope(collection(detail))


@router.get("/{slug}", response_model=Env[CollectionOut], summary="Get collection")
def get_collection(slug: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(collection(collections.get_collection_detail(ctx, slug)))


@router.patch("/{slug}", response_model=Env[CollectionOut], summary="Update collection")
def update_collection(slug: str, body: CollectionUpdate, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        detail = collections.update_collection(ctx, slug, body.model_dump(exclude_unset=True))
        return envelope(collection(detail))


@router.delete("/{slug}", response_model=Env[schemas.Deleted], summary="Delete collection")
def delete_collection(slug: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        collections.delete_collection(ctx, slug)
    return envelope(schemas.Deleted())
