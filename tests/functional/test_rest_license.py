"""REST: GET /api/v1/license reports the edition, its features and limits, and the license key state."""

from __future__ import annotations

import pytest
from tests.functional.conftest import Api, Backend, ok

from cargoman.editions import EDITIONS, FEATURE_TITLES, Feature


def test_community_needs_no_license_and_lists_its_features_and_limits(api: Api) -> None:
    data = ok(api.get("/license"))
    assert set(data) == {
        "edition",
        "edition_title",
        "license_required",
        "licensed",
        "license",
        "features",
        "limits",
    }
    assert (data["edition"], data["edition_title"]) == ("community", "Community")
    assert data["license_required"] is False
    assert data["licensed"] is True
    assert data["license"] is None
    names = [feature["name"] for feature in data["features"]]
    assert set(names) == {f.value for f in EDITIONS["community"].features}
    assert "graphql" not in names
    assert {"name": "rest_api", "title": FEATURE_TITLES[Feature.REST_API]} in data["features"]
    assert data["limits"] == {
        "rate_limit_per_minute": 30,
        "storage_bytes": 2 * 1024**3,
        "bandwidth_bytes_per_month": 10 * 1024**3,
        "team_seats": 3,
        "webhooks_per_day": 10,
        "graphql_max_complexity": None,
    }


def test_pro_without_a_key_is_not_licensed(
    api: Api, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backend.settings, "edition", "pro")
    data = ok(api.get("/license"))
    assert (data["edition"], data["license_required"], data["licensed"]) == ("pro", True, False)
    assert data["license"]["license_key_present"] is False
    assert data["license"]["verified"] is False
    assert "LICENSE_KEY" in data["license"]["reason"]
    assert "graphql" in [feature["name"] for feature in data["features"]]
    assert data["limits"]["graphql_max_complexity"] == 500


def test_a_pro_license_key_is_reported_but_never_claimed_verified(
    api: Api, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backend.settings, "edition", "pro")
    monkeypatch.setattr(backend.settings, "license_key", "any-key-at-all")
    data = ok(api.get("/license"))
    assert data["licensed"] is False
    assert data["license"]["license_key_present"] is True
    assert data["license"]["verified"] is False
    assert "not" in data["license"]["reason"] and "verif" in data["license"]["reason"]
    assert "any-key-at-all" not in str(data)  # the key itself is never echoed


def test_enterprise_is_licensed_without_a_key_and_unlimited(
    api: Api, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backend.settings, "edition", "enterprise")
    data = ok(api.get("/license"))
    assert (data["edition_title"], data["license_required"], data["licensed"]) == ("Enterprise", False, True)
    assert data["license"] is None
    assert set(data["limits"].values()) == {None}
    assert "saml" in [feature["name"] for feature in data["features"]]


def test_reading_the_license_needs_a_management_credential(api: Api) -> None:
    assert api.get("/license", token=None).status_code == 401
    customer = api.create_customer("Acme")
    assert api.get("/license", token=customer["token"]).status_code == 403
