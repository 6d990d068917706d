"""REST: customers -- create, list, get, by-external, update, delete, suspend, reactivate, freeze."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.functional.conftest import Api, err, ok, p2_versions
from tests.support.gitrepo import GitRepo

CUSTOMER_FIELDS = {
    "id",
    "name",
    "email",
    "external_id",
    "status",
    "status_reason",
    "expires_at",
    "created_at",
    "updated_at",
}


def _customer_ids(api: Api, **params: Any) -> list[str]:
    return [c["id"] for c in ok(api.get("/customers", params={"per_page": 100, **params}))]


# -- happy paths ----------------------------------------------------------------------------------


def test_create_customer_returns_first_token_and_composer_auth(api: Api) -> None:
    data = api.create_customer("Acme Corp", email="dev@acme.com", external_id="stripe_cus_abc123")

    assert set(data) == CUSTOMER_FIELDS | {"token", "token_id", "composer_auth"}
    assert data["id"].startswith("cust_")
    assert data["name"] == "Acme Corp"
    assert data["email"] == "dev@acme.com"
    assert data["external_id"] == "stripe_cus_abc123"
    assert data["status"] == "active"
    assert data["status_reason"] is None
    assert data["expires_at"] is None
    assert data["token"].startswith("tok_") and len(data["token"]) > 20
    assert data["composer_auth"] == {
        "username": "token",
        "password": data["token"],
        "repository_url": "http://testserver",
    }
    # The first token is a real, listed token that Composer accepts.
    tokens = ok(api.get(f"/customers/{data['id']}/tokens"))
    assert [t["id"] for t in tokens] == [data["token_id"]]
    assert tokens[0]["scope"] == "admin"
    assert data["token"] not in str(tokens)
    root = api.composer("/packages.json", data["token"])
    assert root.status_code == 200, root.text
    assert root.json()["available-packages"] == []


def test_create_customer_with_only_a_name(api: Api) -> None:
    data = api.create_customer("  Solo  ")
    assert data["name"] == "Solo"
    assert data["email"] is None and data["external_id"] is None


def test_list_customers_with_status_filter_and_pagination(api: Api) -> None:
    ids = [api.create_customer(f"Customer {i}")["id"] for i in range(5)]
    for customer_id in ids[:2]:
        ok(api.post(f"/customers/{customer_id}/suspend", json={"reason": "unpaid"}))

    default = api.get("/customers").json()
    assert default["pagination"] == {"page": 1, "per_page": 20, "total": 5, "total_pages": 1}
    assert sorted(c["id"] for c in default["data"]) == sorted(ids)
    assert all(set(c) == CUSTOMER_FIELDS for c in default["data"])

    seen: list[str] = []
    for page, expected_count in ((1, 2), (2, 2), (3, 1)):
        body = api.get("/customers", params={"page": page, "per_page": 2}).json()
        assert body["error"] is None
        assert body["pagination"] == {"page": page, "per_page": 2, "total": 5, "total_pages": 3}
        assert len(body["data"]) == expected_count
        seen += [c["id"] for c in body["data"]]
    assert sorted(seen) == sorted(ids), "pages overlap or miss customers"

    beyond = api.get("/customers", params={"page": 4, "per_page": 2}).json()
    assert beyond["data"] == []
    assert beyond["pagination"] == {"page": 4, "per_page": 2, "total": 5, "total_pages": 3}

    suspended = api.get("/customers", params={"status": "suspended"}).json()
    assert suspended["pagination"]["total"] == 2
    assert sorted(c["id"] for c in suspended["data"]) == sorted(ids[:2])
    assert {c["status"] for c in suspended["data"]} == {"suspended"}

    active = api.get("/customers", params={"status": "active", "per_page": 100}).json()
    assert sorted(c["id"] for c in active["data"]) == sorted(ids[2:])
    assert active["pagination"] == {"page": 1, "per_page": 100, "total": 3, "total_pages": 1}

    frozen = api.get("/customers", params={"status": "frozen"}).json()
    assert frozen["data"] == []
    assert frozen["pagination"] == {"page": 1, "per_page": 20, "total": 0, "total_pages": 0}


def test_get_customer_and_get_by_external_id(api: Api) -> None:
    created = api.create_customer("Acme Corp", email="dev@acme.com", external_id="ext-42")
    api.create_customer("Other", external_id="ext-43")

    by_id = ok(api.get(f"/customers/{created['id']}"))
    assert set(by_id) == CUSTOMER_FIELDS | {"frozen_versions"}
    assert by_id["frozen_versions"] == []
    assert {k: by_id[k] for k in CUSTOMER_FIELDS} == {k: created[k] for k in CUSTOMER_FIELDS}
    assert "token" not in by_id

    by_external = ok(api.get("/customers/by-external/ext-42"))
    assert by_external == by_id


def test_update_customer(api: Api) -> None:
    created = api.create_customer("Acme Corp", email="dev@acme.com", external_id="ext-1")

    updated = ok(
        api.patch(f"/customers/{created['id']}", json={"name": "Acme Corporation", "email": "team@acme.com"})
    )
    assert updated["name"] == "Acme Corporation"
    assert updated["email"] == "team@acme.com"
    assert updated["external_id"] == "ext-1"  # untouched fields stay
    assert updated["status"] == "active"

    moved = ok(api.patch(f"/customers/{created['id']}", json={"external_id": "ext-2", "email": None}))
    assert moved["external_id"] == "ext-2"
    assert moved["email"] is None
    assert moved["name"] == "Acme Corporation"
    assert ok(api.get("/customers/by-external/ext-2"))["id"] == created["id"]
    err(api.get("/customers/by-external/ext-1"), 404, "NOT_FOUND")

    # Keeping one's own external id is not a conflict; an empty PATCH changes nothing.
    same = ok(api.patch(f"/customers/{created['id']}", json={"external_id": "ext-2"}))
    assert same["external_id"] == "ext-2"
    unchanged = ok(api.patch(f"/customers/{created['id']}", json={}))
    assert unchanged["name"] == "Acme Corporation"
    assert ok(api.get(f"/customers/{created['id']}"))["name"] == "Acme Corporation"


def test_delete_customer(api: Api) -> None:
    doomed = api.create_customer("Doomed", external_id="gone")
    kept = api.create_customer("Kept")

    assert ok(api.delete(f"/customers/{doomed['id']}")) == {"deleted": True}

    err(api.get(f"/customers/{doomed['id']}"), 404, "NOT_FOUND")
    err(api.get("/customers/by-external/gone"), 404, "NOT_FOUND")
    err(api.get(f"/customers/{doomed['id']}/tokens"), 404, "NOT_FOUND")
    assert _customer_ids(api) == [kept["id"]]
    # Its token is gone with it.
    assert api.composer("/packages.json", doomed["token"]).status_code == 401
    assert api.composer("/packages.json", kept["token"]).status_code == 200
    # The external id is free again.
    api.create_customer("Reborn", external_id="gone")


def test_suspend_with_reason_and_reactivate(api: Api) -> None:
    customer = api.create_customer("Acme Corp")
    token = customer["token"]
    assert api.composer("/packages.json", token).status_code == 200

    suspended = ok(api.post(f"/customers/{customer['id']}/suspend", json={"reason": "Payment failed"}))
    assert suspended["status"] == "suspended"
    assert suspended["status_reason"] == "Payment failed"
    assert ok(api.get(f"/customers/{customer['id']}"))["status"] == "suspended"
    denied = api.composer("/packages.json", token)
    assert denied.status_code == 403
    assert "Payment failed" in denied.text

    reactivated = ok(api.post(f"/customers/{customer['id']}/reactivate"))
    assert reactivated["status"] == "active"
    assert reactivated["status_reason"] is None
    assert api.composer("/packages.json", token).status_code == 200

    # No body at all: suspended without a reason.
    again = ok(api.post(f"/customers/{customer['id']}/suspend"))
    assert again["status"] == "suspended"
    assert again["status_reason"] is None
    # Reactivating an active customer is harmless.
    ok(api.post(f"/customers/{customer['id']}/reactivate"))
    assert ok(api.post(f"/customers/{customer['id']}/reactivate"))["status"] == "active"


def test_freeze_with_explicit_versions(api: Api, make_library_repo: Callable[..., GitRepo]) -> None:
    repo = make_library_repo("acme/library")
    api.add_package(repo.url)
    customer = api.create_customer("Acme Corp")
    ok(api.post(f"/customers/{customer['id']}/packages", json={"package": "acme/library"}), 201)
    assert p2_versions(api, "acme/library", customer["token"]) == ["2.0.0", "1.1.0", "1.0.0"]

    frozen = ok(
        api.post(
            f"/customers/{customer['id']}/freeze",
            json={"versions": [{"package": "acme/library", "version": "1.1.0"}]},
        )
    )
    assert frozen["status"] == "frozen"
    assert frozen["frozen_versions"] == [{"package": "acme/library", "version": "1.1.0"}]
    assert ok(api.get(f"/customers/{customer['id']}"))["frozen_versions"] == frozen["frozen_versions"]
    assert _customer_ids(api, status="frozen") == [customer["id"]]
    assert p2_versions(api, "acme/library", customer["token"]) == ["1.1.0"]

    # Reactivating lifts the freeze.
    active = ok(api.post(f"/customers/{customer['id']}/reactivate"))
    assert active["status"] == "active"
    assert ok(api.get(f"/customers/{customer['id']}"))["frozen_versions"] == []
    assert p2_versions(api, "acme/library", customer["token"]) == ["2.0.0", "1.1.0", "1.0.0"]


def test_freeze_without_versions_locks_newest_visible_granted_version(
    api: Api, make_library_repo: Callable[..., GitRepo]
) -> None:
    library = make_library_repo("acme/library", broken_tag="3.0.0")
    addon = make_library_repo("acme/addon", tags=("0.9.0", "1.0.0"))
    api.add_package(library.url)
    api.add_package(addon.url)
    api.create_customer("Bystander")  # no grants, not frozen by the others
    ok(api.post("/packages/acme/library/yank/1.1.0"))

    limited = api.create_customer("Limited")
    ok(
        api.put(
            f"/customers/{limited['id']}/packages",
            json={
                "packages": [
                    {"package": "acme/library", "constraint": "^1.0"},
                    {"package": "acme/addon", "constraint": "<1.0"},
                ]
            },
        )
    )
    everything = api.create_customer("Everything")
    ok(api.post(f"/customers/{everything['id']}/packages", json={"package": "acme/library"}), 201)
    nothing = api.create_customer("No grants")

    # ^1.0 without the yanked 1.1.0 -> 1.0.0; <1.0 -> 0.9.0.
    frozen = ok(api.post(f"/customers/{limited['id']}/freeze"))
    assert frozen["status"] == "frozen"
    assert sorted((f["package"], f["version"]) for f in frozen["frozen_versions"]) == [
        ("acme/addon", "0.9.0"),
        ("acme/library", "1.0.0"),
    ]
    assert p2_versions(api, "acme/library", limited["token"]) == ["1.0.0"]
    assert p2_versions(api, "acme/addon", limited["token"]) == ["0.9.0"]

    # `*`: the newest tag (the broken 3.0.0 and dev-main are no candidates); `{}` is the same as no body.
    frozen_all = ok(api.post(f"/customers/{everything['id']}/freeze", json={}))
    assert frozen_all["frozen_versions"] == [{"package": "acme/library", "version": "2.0.0"}]
    frozen_empty = ok(api.post(f"/customers/{nothing['id']}/freeze", json={"versions": None}))
    assert frozen_empty["status"] == "frozen"
    assert frozen_empty["frozen_versions"] == []
    assert sorted(_customer_ids(api, status="frozen")) == sorted(
        [limited["id"], everything["id"], nothing["id"]]
    )


# -- bad input ------------------------------------------------------------------------------------


def test_create_customer_rejects_bad_input_and_writes_nothing(api: Api) -> None:
    api.create_customer("Existing", external_id="taken")
    cases: list[tuple[Any, str]] = [
        ({}, "name"),
        ({"email": "dev@acme.com"}, "name"),
        ({"name": 123}, "name"),
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Acme", "email": "not-an-email"}, "email"),
        ({"name": "Acme", "email": 5}, "email"),
        ({"name": "Acme", "external_id": 42}, "external_id"),
        ({"name": "Acme", "external_id": "   "}, "external_id"),
        ({"name": "Acme", "expires_at": "yesterday"}, "expires_at"),
        ({"name": "Acme", "status": "active"}, "status"),
        (["Acme"], "body"),
        ("Acme", "body"),
    ]
    for body, field in cases:
        err(api.post("/customers", json=body), 400, "VALIDATION_ERROR", field)
    not_json = api.post("/customers", content=b"{name: Acme", headers={"Content-Type": "application/json"})
    err(not_json, 400, "VALIDATION_ERROR", "body")
    err(api.post("/customers"), 400, "VALIDATION_ERROR", "body")

    conflict = api.post("/customers", json={"name": "Copycat", "external_id": "taken"})
    err(conflict, 409, "CONFLICT")
    assert "taken" in conflict.json()["error"]["message"]

    customers = ok(api.get("/customers"))
    assert [c["name"] for c in customers] == ["Existing"]


def test_list_customers_rejects_bad_query(api: Api) -> None:
    api.create_customer("Acme")
    for params, field in (
        ({"per_page": 0}, "per_page"),
        ({"per_page": 101}, "per_page"),
        ({"per_page": "ten"}, "per_page"),
        ({"page": 0}, "page"),
        ({"page": -1}, "page"),
        ({"page": "first"}, "page"),
        ({"status": "bogus"}, "status"),
        ({"status": ""}, "status"),
    ):
        err(api.get("/customers", params=params), 400, "VALIDATION_ERROR", field)
    # The limits themselves are accepted.
    assert api.get("/customers", params={"per_page": 100}).json()["pagination"]["per_page"] == 100
    assert api.get("/customers", params={"per_page": 1}).json()["pagination"]["total_pages"] == 1


def test_unknown_customer_is_not_found_everywhere(api: Api) -> None:
    missing = "cust_does_not_exist"
    for method, path, body in (
        ("GET", f"/customers/{missing}", None),
        ("GET", "/customers/by-external/nobody", None),
        ("PATCH", f"/customers/{missing}", {"name": "X"}),
        ("DELETE", f"/customers/{missing}", None),
        ("POST", f"/customers/{missing}/suspend", {"reason": "x"}),
        ("POST", f"/customers/{missing}/reactivate", None),
        ("POST", f"/customers/{missing}/freeze", None),
        ("POST", f"/customers/{missing}/freeze", {"versions": [{"package": "a/b", "version": "1.0.0"}]}),
    ):
        response = api.request(method, path, json=body)
        error = err(response, 404, "NOT_FOUND")
        assert "field" not in error, error
    # Deleting twice: the second time it is gone.
    customer = api.create_customer("Once")
    ok(api.delete(f"/customers/{customer['id']}"))
    err(api.delete(f"/customers/{customer['id']}"), 404, "NOT_FOUND")


def test_update_customer_rejects_bad_input_and_writes_nothing(api: Api) -> None:
    customer = api.create_customer("Acme Corp", email="dev@acme.com", external_id="mine")
    api.create_customer("Other", external_id="theirs")
    path = f"/customers/{customer['id']}"
    for body, field in (
        ({"name": 123}, "name"),
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"name": "  "}, "name"),
        ({"email": "nope"}, "email"),
        ({"external_id": ""}, "external_id"),
        ({"expires_at": "yesterday"}, "expires_at"),
        ({"status": "suspended"}, "status"),
        ({"id": "cust_other"}, "id"),
        ({"name": "Fine", "email": "still nope"}, "email"),
        ([], "body"),
    ):
        err(api.patch(path, json=body), 400, "VALIDATION_ERROR", field)
    err(
        api.patch(path, content=b"not json", headers={"Content-Type": "application/json"}),
        400,
        "VALIDATION_ERROR",
    )

    conflict = api.patch(path, json={"name": "Renamed", "external_id": "theirs"})
    err(conflict, 409, "CONFLICT")

    after = ok(api.get(path))
    assert after["name"] == "Acme Corp"
    assert after["email"] == "dev@acme.com"
    assert after["external_id"] == "mine"
    assert after["updated_at"] == customer["updated_at"]


def test_suspend_rejects_bad_input_and_writes_nothing(api: Api) -> None:
    customer = api.create_customer("Acme Corp")
    path = f"/customers/{customer['id']}/suspend"
    for body, field in (
        ({"reason": 123}, "reason"),
        ({"reason": ["a"]}, "reason"),
        ({"reason": "x" * 1001}, "reason"),
        ({"why": "unpaid"}, "why"),
        ("unpaid", "body"),
    ):
        err(api.post(path, json=body), 400, "VALIDATION_ERROR", field)
    err(api.post(path, content=b"{", headers={"Content-Type": "application/json"}), 400, "VALIDATION_ERROR")
    after = ok(api.get(f"/customers/{customer['id']}"))
    assert after["status"] == "active"
    assert after["status_reason"] is None
    assert api.composer("/packages.json", customer["token"]).status_code == 200


def test_freeze_rejects_bad_input_and_writes_nothing(
    api: Api, make_library_repo: Callable[..., GitRepo]
) -> None:
    repo = make_library_repo("acme/library", tags=("1.0.0",))
    api.add_package(repo.url)
    ok(api.post("/packages", json={"name": "acme/other", "repository_url": repo.url}), 201)
    customer = api.create_customer("Acme Corp")
    ok(api.post(f"/customers/{customer['id']}/packages", json={"package": "acme/library"}), 201)
    path = f"/customers/{customer['id']}/freeze"

    for body, field in (
        ({"versions": "x"}, "versions"),
        ({"versions": [{"package": "acme/library"}]}, "versions[0].version"),
        ({"versions": [{"version": "1.0.0"}]}, "versions[0].package"),
        ({"versions": [{"package": "acme/library", "version": ""}]}, "versions[0].version"),
        ({"versions": [{"package": 5, "version": "1.0.0"}]}, "versions[0].package"),
        ({"versions": [{"package": "not a name", "version": "1.0.0"}]}, "versions[0].package"),
        # Not granted to this customer (exists, and does not exist).
        ({"versions": [{"package": "acme/other", "version": "1.0.0"}]}, "versions[0].package"),
        ({"versions": [{"package": "acme/ghost", "version": "1.0.0"}]}, "versions[0].package"),
        # Granted, but no such version; the first entry is fine.
        (
            {
                "versions": [
                    {"package": "acme/library", "version": "1.0.0"},
                    {"package": "acme/library", "version": "9.9.9"},
                ]
            },
            "versions[1].version",
        ),
        ({"versions": [], "extra": 1}, "extra"),
    ):
        err(api.post(path, json=body), 400, "VALIDATION_ERROR", field)
    err(api.post(path, content=b"[", headers={"Content-Type": "application/json"}), 400, "VALIDATION_ERROR")

    after = ok(api.get(f"/customers/{customer['id']}"))
    assert after["status"] == "active"
    assert after["frozen_versions"] == []
    assert p2_versions(api, "acme/library", customer["token"]) == ["1.0.0"]
