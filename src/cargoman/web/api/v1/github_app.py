"""GitHub App: status, installation URL, installations and their repositories."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from cargoman.github_app import installations
from cargoman.github_app.installation_sync import list_repositories, sync_installation
from cargoman.runtime import ServiceContext
from cargoman.web.api.auth import Admin, RuntimeDep
from cargoman.web.api.v1 import schemas
from cargoman.web.api.v1.common import ERRORS, envelope
from cargoman.web.api.v1.schemas import ErrorEnvelope, StrictBody

router = APIRouter(
    prefix="/github-app",
    tags=["github-app"],
    responses={**ERRORS, 502: {"model": ErrorEnvelope, "description": "GITHUB_API_ERROR"}},
)

Env = schemas.Envelope
GitHubId = Annotated[int, Path(ge=1, le=2**63 - 1)]
InstallationId = Annotated[str, Path(min_length=1, max_length=64)]


class AppStatus(BaseModel):
    configured: bool
    app_id: int | str | None = None
    app_slug: str | None = None


class InstallUrl(BaseModel):
    url: str


class InstallationOut(BaseModel):
    id: str
    github_installation_id: int
    account_login: str
    account_type: str
    repository_selection: str
    status: str
    claimed: bool
    claimed_at: str | None
    suspended_at: str | None
    installed_at: str | None


class InstallationList(BaseModel):
    installations: list[InstallationOut]


class ClaimRequest(StrictBody):
    installation_id: int = Field(ge=1, le=2**63 - 1, description="GitHub's numeric installation ID")


class RepositoryOut(BaseModel):
    id: int
    name: str
    full_name: str
    private: bool
    default_branch: str | None
    clone_url: str
    html_url: str | None


class RepositoryList(BaseModel):
    repositories: list[RepositoryOut]


class AddedRepository(BaseModel):
    repository: str
    package: str
    sync_task: str


class SkippedRepository(BaseModel):
    repository: str
    reason: str


class InstallationSyncOut(BaseModel):
    installation_id: str
    repositories: int
    added: list[AddedRepository]
    skipped: list[SkippedRepository]


@router.get("/status", response_model=Env[AppStatus], summary="GitHub App status")
def app_status(_admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    return envelope(installations.status(runtime.settings))


@router.get("/install-url", response_model=Env[InstallUrl], summary="Where to install the GitHub App")
def install_url(_admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    return envelope({"url": installations.install_url(runtime.settings)})


@router.get("/installations", response_model=Env[InstallationList], summary="List installations")
def list_installations(admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        rows = installations.list_installations(ctx)
        return envelope({"installations": [installations.as_dict(row) for row in rows]})


@router.post("/installations/claim", response_model=Env[InstallationOut], summary="Claim an installation")
def claim_installation(body: ClaimRequest, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(installations.as_dict(installations.claim(ctx, body.installation_id)))


@router.get(
    "/installations/by-github-id/{github_installation_id}",
    response_model=Env[InstallationOut],
    summary="Get an installation by its GitHub ID",
)
def get_by_github_id(github_installation_id: GitHubId, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(installations.as_dict(installations.get_by_github_id(ctx, github_installation_id)))


@router.get(
    "/installations/{installation_id}", response_model=Env[InstallationOut], summary="Get an installation"
)
def get_installation(installation_id: InstallationId, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(installations.as_dict(installations.get_installation(ctx, installation_id)))


@router.post(
    "/installations/{installation_id}/sync",
    response_model=Env[InstallationSyncOut],
    summary="Add the installation's Composer repositories as packages",
)
def sync(installation_id: InstallationId, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    def unit_of_work() -> AbstractContextManager[ServiceContext]:
        return admin.unit_of_work(runtime)

    return envelope(sync_installation(unit_of_work, installation_id).as_dict())


@router.get(
    "/installations/{installation_id}/repositories",
    response_model=Env[RepositoryList],
    summary="Repositories the installation can access",
)
def repositories(installation_id: InstallationId, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        found = list_repositories(ctx, installation_id)
    return envelope({"repositories": [repo.as_dict() for repo in found]})
