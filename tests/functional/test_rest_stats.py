"""REST statistics: figures from served dists and notify-batch reports, edition gating, validation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.functional.conftest import Api, Backend, basic, err, ok
from tests.support.gitrepo import GitRepo

from cargoman.db.models import DownloadEvent

STATS_PATHS = (
    "/stats",
    "/stats/daily",
    "/stats/packages/acme/library",
    "/stats/packages/acme/library/versions/1.0.0",
)


@pytest.fixture
def enterprise(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Download analytics is a Pro-and-higher feature; the shared app runs Community by default."""
    monkeypatch.setattr(backend.settings, "edition", "enterprise")


def _customer(api: Api, name: str, grants: dict[str, str]) -> tuple[str, str]:
    customer = api.create_customer(name)
    for package, constraint in grants.items():
        ok(
            api.post(
                f"/customers/{customer['id']}/packages", json={"package": package, "constraint": constraint}
            ),
            201,
        )
    return customer["id"], customer["token"]


def _download(api: Api, secret: str, package: str, version: str) -> None:
    response = api.composer(f"/dist/{package}/{version}.zip", secret)
    assert response.status_code == 200, response.text


def _notify(api: Api, secret: str, *installs: tuple[str, str]) -> None:
    body = {"downloads": [{"name": name, "version": version} for name, version in installs]}
    response = api.client.post("/downloads", json=body, headers=basic(secret))
    assert response.status_code == 200, response.text
    assert response.json()["recorded"] == len(installs)


def _by_version(stats: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {row["version"]: (row["downloads"], row["installs"]) for row in stats["versions"]}


def _by_customer(stats: dict[str, Any]) -> dict[str | None, tuple[int, int]]:
    return {row["customer_id"]: (row["downloads"], row["installs"]) for row in stats["customers"]}


def test_stats_need_download_analytics(api: Api) -> None:
    for path in STATS_PATHS:
        error = err(api.get(path), 403, "FEATURE_NOT_AVAILABLE")
        assert "Download analytics" in error["message"]


def test_figures_per_package_version_customer_and_day(
    api: Api, backend: Backend, enterprise: None, make_library_repo: Callable[..., GitRepo]
) -> None:
    api.add_package(make_library_repo("acme/library", tags=("1.0.0", "1.1.0", "2.0.0")).url)
    api.add_package(make_library_repo("acme/other", tags=("1.0.0",)).url)
    alice, alice_secret = _customer(api, "Alice", {"acme/library": "*", "acme/other": "*"})
    bob, bob_secret = _customer(api, "Bob", {"acme/library": "*"})
    ok(api.post(f"/customers/{bob}/suspend", json={"reason": "late payment"}))
    ok(api.post(f"/customers/{bob}/reactivate"))
    carol, _ = _customer(api, "Carol", {})
    ok(api.post(f"/customers/{carol}/suspend", json={"reason": "left"}))

    _download(api, alice_secret, "acme/library", "1.0.0")
    _download(api, alice_secret, "acme/library", "1.0.0")
    _download(api, alice_secret, "acme/library", "2.0.0")
    _download(api, alice_secret, "acme/other", "1.0.0")
    _download(api, bob_secret, "acme/library", "1.1.0")
    # Composer reports installs with normalized versions; they count under the pretty one.
    _notify(api, alice_secret, ("acme/library", "1.0.0.0"), ("acme/other", "1.0.0.0"))
    _notify(api, bob_secret, ("acme/library", "1.1.0.0"))
    _notify(api, api.admin_token, ("acme/library", "2.0.0.0"))
    # A HEAD request serves no archive and counts nothing.
    assert api.client.head("/dist/acme/library/1.0.0.zip", headers=basic(alice_secret)).status_code == 200
    # An old event: in the totals, not in the last 30 days nor in the daily window.
    backend.app.api.state.recorder.flush()
    with backend.runtime.session_factory.begin() as session:
        session.add(
            DownloadEvent(
                kind="download",
                package_name="acme/library",
                version="1.0.0",
                customer_id=alice,
                created_at=datetime.now(UTC) - timedelta(days=40),
            )
        )

    overview = ok(api.get("/stats"))
    assert overview["packages"] == 2
    assert overview["versions"] == 6  # three + one tags, a dev-main branch each
    assert overview["customers"] == {"total": 3, "active": 2, "suspended": 1, "frozen": 0, "expired": 0}
    assert overview["downloads"] == {"total": 6, "last_30_days": 5}
    assert overview["installs"] == {"total": 4, "last_30_days": 4}

    library = ok(api.get("/stats/packages/acme/library"))
    assert library["package"] == "acme/library"
    assert (library["downloads"], library["installs"]) == (5, 3)
    assert list(_by_version(library)) == ["2.0.0", "1.1.0", "1.0.0", "dev-main"]  # newest first
    assert _by_version(library) == {"2.0.0": (1, 1), "1.1.0": (1, 1), "1.0.0": (3, 1), "dev-main": (0, 0)}
    assert _by_customer(library) == {alice: (4, 1), bob: (1, 1), None: (0, 1)}
    names = {row["customer_id"]: row["customer_name"] for row in library["customers"]}
    assert names == {alice: "Alice", bob: "Bob", None: None}

    other = ok(api.get("/stats/packages/acme/other"))
    assert _by_version(other) == {"1.0.0": (1, 1), "dev-main": (0, 0)}
    assert _by_customer(other) == {alice: (1, 1)}

    # The version may be named pretty or normalized.
    for name in ("1.0.0", "1.0.0.0"):
        version = ok(api.get(f"/stats/packages/acme/library/versions/{name}", params={"days": 7}))
        assert version["version"] == "1.0.0"
        assert (version["downloads"], version["installs"]) == (3, 1)
        assert _by_customer(version) == {alice: (3, 1)}
        assert len(version["daily"]) == 7
        assert version["daily"][-1] == {
            "date": datetime.now(UTC).date().isoformat(),
            "downloads": 2,
            "installs": 1,
        }
        assert sum(day["downloads"] for day in version["daily"]) == 2

    daily = ok(api.get("/stats/daily"))
    assert daily["days"] == 30 and daily["package"] is None
    assert len(daily["daily"]) == 30
    assert [day["date"] for day in daily["daily"]] == sorted(day["date"] for day in daily["daily"])
    assert daily["daily"][-1]["date"] == datetime.now(UTC).date().isoformat()
    assert (daily["downloads"], daily["installs"]) == (5, 4)
    assert (daily["daily"][-1]["downloads"], daily["daily"][-1]["installs"]) == (5, 4)
    assert sum(day["downloads"] for day in daily["daily"][:-1]) == 0

    filtered = ok(api.get("/stats/daily", params={"days": 1, "package": "ACME/Other"}))
    assert filtered["package"] == "acme/other"
    assert [(d["downloads"], d["installs"]) for d in filtered["daily"]] == [(1, 1)]
    wide = ok(api.get("/stats/daily", params={"days": 60}))
    assert wide["downloads"] == 6


def test_stats_validation_and_unknown_names(api: Api, enterprise: None, library_repo: GitRepo) -> None:
    api.add_package(library_repo.url)
    for days in ("0", "366", "-1"):
        err(api.get("/stats/daily", params={"days": days}), 400, "VALIDATION_ERROR", field="days")
    err(api.get("/stats/daily", params={"days": "many"}), 400, "VALIDATION_ERROR", field="days")
    err(
        api.get("/stats/packages/acme/library/versions/1.0.0", params={"days": 0}),
        400,
        "VALIDATION_ERROR",
        field="days",
    )
    err(api.get("/stats/daily", params={"package": "not a name"}), 400, "VALIDATION_ERROR", field="package")
    err(api.get("/stats/daily", params={"package": "acme/missing"}), 404, "NOT_FOUND")
    err(api.get("/stats/packages/acme/missing"), 404, "NOT_FOUND")
    err(api.get("/stats/packages/acme/library/versions/9.9.9"), 404, "NOT_FOUND")
    # A package nobody used yet: every version listed with zeros.
    empty = ok(api.get("/stats/packages/acme/library"))
    assert set(_by_version(empty).values()) == {(0, 0)}
    assert list(_by_version(empty))[:3] == ["2.0.0", "1.1.0", "1.0.0"]
    assert empty["customers"] == []
