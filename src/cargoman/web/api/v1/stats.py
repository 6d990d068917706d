"""Download analytics (Pro and higher): totals, per package, per version, per day."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from cargoman.stats import service as stats
from cargoman.web.api.auth import Admin, RuntimeDep
from cargoman.web.api.v1 import schemas
from cargoman.web.api.v1 import stats_schemas as out
from cargoman.web.api.v1.common import ERRORS, envelope

router = APIRouter(prefix="/stats", tags=["stats"], responses=ERRORS)

Env = schemas.Envelope
# Range checks happen in the service, so the 400 names the field like every other validation error.
Days = Annotated[int, Query(description=f"How many days back, 1 to {stats.MAX_DAYS}")]


@router.get("", response_model=Env[out.OverviewOut], summary="Registry totals")
def overview(admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(out.OverviewOut.model_validate(stats.overview(ctx)))


@router.get("/daily", response_model=Env[out.DailyStatsOut], summary="Downloads and installs per day")
def daily(
    admin: Admin,
    runtime: RuntimeDep,
    days: Days = stats.RECENT_DAYS,
    package: Annotated[str | None, Query(description="Only this package (vendor/name)")] = None,
) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(out.DailyStatsOut.model_validate(stats.daily_stats(ctx, days, package)))


@router.get(
    "/packages/{vendor}/{name}", response_model=Env[out.PackageStatsOut], summary="Package statistics"
)
def package_stats(vendor: str, name: str, admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        return envelope(out.PackageStatsOut.model_validate(stats.package_stats(ctx, f"{vendor}/{name}")))


@router.get(
    "/packages/{vendor}/{name}/versions/{version:path}",
    response_model=Env[out.VersionStatsOut],
    summary="Version statistics",
)
def version_stats(
    vendor: str, name: str, version: str, admin: Admin, runtime: RuntimeDep, days: Days = stats.RECENT_DAYS
) -> dict[str, Any]:
    with admin.unit_of_work(runtime) as ctx:
        result = stats.version_stats(ctx, f"{vendor}/{name}", version, days)
        return envelope(out.VersionStatsOut.model_validate(result))
