"""Response bodies of the statistics endpoints (read from the stats service's dataclasses)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict


class _FromService(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class UsageOut(_FromService):
    total: int
    last_30_days: int


class OverviewOut(_FromService):
    packages: int
    versions: int
    customers: dict[str, int]
    downloads: UsageOut
    installs: UsageOut


class VersionUsageOut(_FromService):
    version: str
    downloads: int
    installs: int


class CustomerUsageOut(_FromService):
    customer_id: str | None
    customer_name: str | None
    downloads: int
    installs: int


class DayUsageOut(_FromService):
    date: date
    downloads: int
    installs: int


class PackageStatsOut(_FromService):
    package: str
    downloads: int
    installs: int
    versions: list[VersionUsageOut]
    customers: list[CustomerUsageOut]


class VersionStatsOut(_FromService):
    package: str
    version: str
    downloads: int
    installs: int
    customers: list[CustomerUsageOut]
    daily: list[DayUsageOut]


class DailyStatsOut(_FromService):
    days: int
    package: str | None
    downloads: int
    installs: int
    daily: list[DayUsageOut]
