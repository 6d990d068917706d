"""REST: GET /packages with GitLab-style order_by, sort, package_name and status."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import update
from tests.functional.conftest import Api, Backend, err, ok
from tests.support.gitrepo import GitRepo
from tests.support.uploads import package_zip, upload

from cargoman.db.models import Package
from cargoman.timeutil import utcnow

# name -> uploaded versions; other/delta has only a dev version, so no release to order by.
CATALOG = {
    "acme/gamma": ["1.5.0", "1.10.0-RC1"],
    "acme/alpha": ["2.0.0", "1.0.0"],
    "acme/beta_tools": ["10.0.0"],
    "other/delta": ["dev-main"],
}


def _names(api: Api, **params: object) -> list[str]:
    return [p["name"] for p in ok(api.get("/packages", params={"per_page": 100, **params}))]


@pytest.fixture
def catalog(api: Api, backend: Backend) -> Api:
    for index, (name, versions) in enumerate(CATALOG.items()):
        for version in versions:
            ok(upload(api, name, package_zip(name), version=version), 201)
        # Creation order: gamma, alpha, beta_tools, delta (one second apart, whatever the clock does).
        with backend.runtime.engine.begin() as conn:
            conn.execute(
                update(Package)
                .where(Package.name == name)
                .values(created_at=utcnow().replace(year=2020, month=1, day=1, second=index))
            )
    return api


def test_default_order_is_by_name(catalog: Api) -> None:
    assert _names(catalog) == ["acme/alpha", "acme/beta_tools", "acme/gamma", "other/delta"]
    assert _names(catalog, order_by="name", sort="desc") == [
        "other/delta",
        "acme/gamma",
        "acme/beta_tools",
        "acme/alpha",
    ]


def test_order_by_created_at(catalog: Api) -> None:
    assert _names(catalog, order_by="created_at") == list(CATALOG)
    assert _names(catalog, order_by="created_at", sort="desc") == list(reversed(CATALOG))


def test_order_by_newest_release_uses_composer_version_order(catalog: Api) -> None:
    # Newest releases: gamma 1.10.0-RC1 (after 1.5.0), alpha 2.0.0, beta_tools 10.0.0 (not "1" < "2"
    # as strings); delta has none and ranks lowest.
    assert _names(catalog, order_by="version") == [
        "other/delta",
        "acme/gamma",
        "acme/alpha",
        "acme/beta_tools",
    ]
    assert _names(catalog, order_by="version", sort="desc") == [
        "acme/beta_tools",
        "acme/alpha",
        "acme/gamma",
        "other/delta",
    ]


def test_version_order_is_paginated(catalog: Api) -> None:
    response = catalog.get(
        "/packages", params={"order_by": "version", "sort": "desc", "per_page": 3, "page": 2}
    )
    assert [p["name"] for p in ok(response)] == ["other/delta"]
    assert response.json()["pagination"] == {"page": 2, "per_page": 3, "total": 4, "total_pages": 2}
    first = catalog.get("/packages", params={"order_by": "version", "sort": "desc", "per_page": 3})
    assert [p["name"] for p in ok(first)] == ["acme/beta_tools", "acme/alpha", "acme/gamma"]


def test_package_name_is_a_case_insensitive_substring(catalog: Api) -> None:
    assert _names(catalog, package_name="ALPH") == ["acme/alpha"]
    assert _names(catalog, package_name="acme/") == ["acme/alpha", "acme/beta_tools", "acme/gamma"]
    assert _names(catalog, package_name="a", order_by="version", sort="desc") == [
        "acme/beta_tools",
        "acme/alpha",
        "acme/gamma",
        "other/delta",
    ]
    # LIKE wildcards are literal characters here.
    assert _names(catalog, package_name="%") == []
    assert _names(catalog, package_name="beta_") == ["acme/beta_tools"]
    assert _names(catalog, package_name="a_p") == []
    response = catalog.get("/packages", params={"package_name": "nothing-matches"})
    assert ok(response) == []
    assert response.json()["pagination"]["total"] == 0


def test_status_filters_by_sync_status(
    api: Api, tmp_path: Path, make_library_repo: Callable[..., GitRepo]
) -> None:
    ok(upload(api, "acme/uploaded", package_zip("acme/uploaded"), version="1.0.0"), 201)
    repo = make_library_repo("acme/synced", tags=("1.0.0",))
    api.add_package(repo.url)
    # No repository at this path: the sync fails and records the error.
    created = api.add_package(str(tmp_path / "no-such-repository"), name="acme/broken", wait=False)
    api.wait_for_task(created["sync_task"]["id"])
    assert ok(api.get("/packages/acme/broken"))["sync_status"] == "error"

    assert _names(api, status="ready") == ["acme/synced", "acme/uploaded"]
    assert _names(api, status="error") == ["acme/broken"]
    assert _names(api, status="pending") == []
    assert _names(api, status="ready", package_name="SYNC") == ["acme/synced"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("order_by", "size"),
        ("order_by", "type"),
        ("sort", "up"),
        ("sort", "ASC"),
        ("status", "default"),
        ("status", "hidden"),
        ("package_name", "x" * 215),
    ],
)
def test_invalid_parameters_name_the_field(api: Api, field: str, value: str) -> None:
    err(api.get("/packages", params={field: value}), 400, "VALIDATION_ERROR", field)
