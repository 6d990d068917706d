"""One DataLoader per access pattern, so nested lists cost one query per level, not one per parent.

Each batch function calls a service (the same layer REST uses) once for all the keys collected in a
tick of the event loop. The loaders live for one request, in that request's unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from cargoman.collections import service as collections
from cargoman.db.models import Package, PackageGrant, Version
from cargoman.grants import service as grants
from cargoman.packages import service as packages
from cargoman.runtime import ServiceContext
from cargoman.stats import service as stats


@dataclass
class Loaders:
    ctx: ServiceContext
    # package id -> its versions, newest first
    package_versions: DataLoader[str, list[Version]] = field(init=False)
    # customer id -> its stored grants (package and collection grants)
    customer_grants: DataLoader[str, list[PackageGrant]] = field(init=False)
    # customer id -> the (package name, version) pairs it is frozen at
    customer_frozen_versions: DataLoader[str, list[tuple[str, str]]] = field(init=False)
    # collection id -> its packages, by name
    collection_packages: DataLoader[str, list[Package]] = field(init=False)
    # package name -> dist downloads per (pretty) version
    version_downloads: DataLoader[str, dict[str, int]] = field(init=False)

    def __post_init__(self) -> None:
        self.package_versions = DataLoader(self._package_versions)
        self.customer_grants = DataLoader(self._customer_grants)
        self.collection_packages = DataLoader(self._collection_packages)
        self.customer_frozen_versions = DataLoader(self._customer_frozen_versions)
        self.version_downloads = DataLoader(self._version_downloads)

    async def _package_versions(self, keys: list[str]) -> list[list[Version]]:
        found = packages.versions_of_packages(self.ctx, keys)
        return [found[key] for key in keys]

    async def _customer_grants(self, keys: list[str]) -> list[list[PackageGrant]]:
        found = grants.grants_of_customers(self.ctx, keys)
        return [found[key] for key in keys]

    async def _customer_frozen_versions(self, keys: list[str]) -> list[list[tuple[str, str]]]:
        found = grants.frozen_versions_of_customers(self.ctx, keys)
        return [found[key] for key in keys]

    async def _collection_packages(self, keys: list[str]) -> list[list[Package]]:
        found = collections.packages_of_collections(self.ctx, keys)
        return [found[key] for key in keys]

    async def _version_downloads(self, keys: list[str]) -> list[dict[str, int]]:
        found = stats.downloads_by_version(self.ctx, keys)
        return [found[key] for key in keys]
