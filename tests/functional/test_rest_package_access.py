"""REST: package access (list, replace, add, remove) and the reverse lookup of a package's customers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.functional.conftest import Api, err, ok
from tests.support.gitrepo import GitRepo

PACKAGES = ("acme/core", "acme/addon", "acme/extra")


@pytest.fixture
def catalog(api: Api, make_library_repo: Callable[..., GitRepo]) -> Api:
    """Three packages registered (and synced) from one small repository.

    The syncs are awaited before the test: a sync committing while the test writes grants can
    deadlock on PostgreSQL (see test_concurrent_change_stamps.py).
    """
    repo = make_library_repo("acme/core", tags=("1.0.0",))
    tasks = [api.add_package(repo.url, name=name, wait=False)["sync_task"]["id"] for name in PACKAGES]
    for task_id in tasks:
        assert api.wait_for_task(task_id)["status"] == "completed"
    return api


def _grants(api: Api, customer_id: str) -> dict[str, str]:
    return {g["package"]: g["constraint"] for g in ok(api.get(f"/customers/{customer_id}/packages"))}


def _holders(api: Api, package: str) -> dict[str, str]:
    return {row["customer"]["id"]: row["constraint"] for row in ok(api.get(f"/packages/{package}/customers"))}


# -- happy paths ----------------------------------------------------------------------------------


def test_add_and_list_package_access(catalog: Api) -> None:
    api = catalog
    customer = api.create_customer("Acme")
    assert ok(api.get(f"/customers/{customer['id']}/packages")) == []

    grant = ok(
        api.post(
            f"/customers/{customer['id']}/packages", json={"package": "acme/core", "constraint": "^1.0"}
        ),
        201,
    )
    assert set(grant) == {"package", "collection", "constraint", "created_at"}
    assert grant["collection"] is None
    assert grant["package"] == "acme/core"
    assert grant["constraint"] == "^1.0"
    # Default constraint, and names are case-insensitive.
    default = ok(api.post(f"/customers/{customer['id']}/packages", json={"package": "ACME/Addon"}), 201)
    assert default == {
        "package": "acme/addon",
        "collection": None,
        "constraint": "*",
        "created_at": default["created_at"],
    }

    assert _grants(api, customer["id"]) == {"acme/core": "^1.0", "acme/addon": "*"}
    root = api.composer("/packages.json", customer["token"])
    assert root.json()["available-packages"] == ["acme/addon", "acme/core"]


def test_reverse_lookup_lists_the_customers_of_a_package(catalog: Api) -> None:
    api = catalog
    first = api.create_customer("First")
    second = api.create_customer("Second")
    api.create_customer("Without access")
    ok(
        api.post(f"/customers/{first['id']}/packages", json={"package": "acme/core", "constraint": "~1.2"}),
        201,
    )
    ok(api.post(f"/customers/{second['id']}/packages", json={"package": "acme/core"}), 201)
    ok(api.post(f"/customers/{second['id']}/packages", json={"package": "acme/addon"}), 201)

    rows = ok(api.get("/packages/acme/core/customers"))
    assert {row["customer"]["id"]: row["constraint"] for row in rows} == {
        first["id"]: "~1.2",
        second["id"]: "*",
    }
    for row in rows:
        assert set(row) == {"customer", "constraint", "collection", "granted_at"}
        assert row["collection"] is None
        assert row["customer"]["name"] in ("First", "Second")
        assert row["customer"]["status"] == "active"
        assert "token" not in row["customer"]
    assert _holders(api, "acme/addon") == {second["id"]: "*"}
    assert _holders(api, "acme/extra") == {}
    assert _holders(api, "ACME/Core") == {first["id"]: "~1.2", second["id"]: "*"}


def test_replace_package_access(catalog: Api) -> None:
    api = catalog
    customer = api.create_customer("Acme")
    other = api.create_customer("Other")
    ok(api.post(f"/customers/{other['id']}/packages", json={"package": "acme/core"}), 201)
    ok(
        api.put(
            f"/customers/{customer['id']}/packages",
            json={
                "packages": [
                    {"package": "acme/core", "constraint": "*"},
                    {"package": "acme/addon", "constraint": "^1.0"},
                ]
            },
        )
    )
    assert _grants(api, customer["id"]) == {"acme/core": "*", "acme/addon": "^1.0"}

    replaced = ok(
        api.put(
            f"/customers/{customer['id']}/packages",
            json={"packages": [{"package": "acme/addon", "constraint": "~2.0"}, {"package": "acme/extra"}]},
        )
    )
    assert {g["package"]: g["constraint"] for g in replaced} == {"acme/addon": "~2.0", "acme/extra": "*"}
    assert _grants(api, customer["id"]) == {"acme/addon": "~2.0", "acme/extra": "*"}
    assert _holders(api, "acme/core") == {other["id"]: "*"}, "another customer's grants must stay"

    assert ok(api.put(f"/customers/{customer['id']}/packages", json={"packages": []})) == []
    assert _grants(api, customer["id"]) == {}
    assert _grants(api, other["id"]) == {"acme/core": "*"}


def test_remove_package_access(catalog: Api) -> None:
    api = catalog
    customer = api.create_customer("Acme")
    for package in ("acme/core", "acme/addon"):
        ok(api.post(f"/customers/{customer['id']}/packages", json={"package": package}), 201)

    assert ok(api.delete(f"/customers/{customer['id']}/packages/acme/core")) == {"deleted": True}
    assert _grants(api, customer["id"]) == {"acme/addon": "*"}
    assert _holders(api, "acme/core") == {}
    assert api.composer("/packages.json", customer["token"]).json()["available-packages"] == ["acme/addon"]
    err(api.delete(f"/customers/{customer['id']}/packages/acme/core"), 404, "NOT_FOUND")
    # Granting again after a removal works.
    ok(api.post(f"/customers/{customer['id']}/packages", json={"package": "acme/core"}), 201)


# -- bad input ------------------------------------------------------------------------------------


def test_add_package_access_rejects_bad_input_and_writes_nothing(catalog: Api) -> None:
    api = catalog
    customer = api.create_customer("Acme")
    path = f"/customers/{customer['id']}/packages"
    ok(api.post(path, json={"package": "acme/core", "constraint": "^1.0"}), 201)

    cases: list[tuple[Any, str]] = [
        ({}, "package"),
        ({"constraint": "^1.0"}, "package"),
        ({"package": 123}, "package"),
        ({"package": ""}, "package"),
        ({"package": "not a package"}, "package"),
        ({"package": "acme"}, "package"),
        ({"package": "acme/addon/extra"}, "package"),
        ({"package": "acme/addon", "constraint": "^^1"}, "constraint"),
        ({"package": "acme/addon", "constraint": ">=1.0 <"}, "constraint"),
        ({"package": "acme/addon", "constraint": "   "}, "constraint"),
        ({"package": "acme/addon", "constraint": ""}, "constraint"),
        ({"package": "acme/addon", "constraint": 1}, "constraint"),
        ({"package": "acme/addon", "versions": "*"}, "versions"),
        (["acme/addon"], "body"),
    ]
    for body, field in cases:
        err(api.post(path, json=body), 400, "VALIDATION_ERROR", field)
    err(
        api.post(path, content=b'{"package": ', headers={"Content-Type": "application/json"}),
        400,
        "VALIDATION_ERROR",
        "body",
    )

    err(api.post(path, json={"package": "acme/ghost"}), 404, "NOT_FOUND")
    err(api.post("/customers/cust_missing/packages", json={"package": "acme/addon"}), 404, "NOT_FOUND")
    duplicate = api.post(path, json={"package": "acme/core", "constraint": "^2.0"})
    err(duplicate, 409, "CONFLICT")
    err(api.post(path, json={"package": "Acme/Core"}), 409, "CONFLICT")

    assert _grants(api, customer["id"]) == {"acme/core": "^1.0"}


def test_replace_package_access_is_all_or_nothing(catalog: Api) -> None:
    api = catalog
    customer = api.create_customer("Acme")
    path = f"/customers/{customer['id']}/packages"
    before = {"acme/core": "^1.0", "acme/addon": "*"}
    ok(api.put(path, json={"packages": [{"package": p, "constraint": c} for p, c in before.items()]}))

    good = {"package": "acme/extra", "constraint": "*"}
    cases: list[tuple[Any, str]] = [
        ({}, "packages"),
        ({"packages": "x"}, "packages"),
        ({"packages": None}, "packages"),
        ({"packages": ["acme/extra"]}, "packages[0]"),
        ({"packages": [good, {"constraint": "*"}]}, "packages[1].package"),
        ({"packages": [good, {"package": "acme/core", "constraint": "^^1"}]}, "packages[1].constraint"),
        ({"packages": [{"package": "Not Valid!"}, good]}, "packages[0].package"),
        ({"packages": [good, {"package": "acme/core"}, {"package": "ACME/core"}]}, "packages[2].package"),
        ({"packages": [good], "extra": True}, "extra"),
    ]
    for body, field in cases:
        err(api.put(path, json=body), 400, "VALIDATION_ERROR", field)
        assert _grants(api, customer["id"]) == before, f"a failed PUT changed the grants: {body}"

    err(api.put(path, json={"packages": [good, {"package": "acme/ghost"}]}), 404, "NOT_FOUND")
    err(
        api.put(path, content=b"packages", headers={"Content-Type": "application/json"}),
        400,
        "VALIDATION_ERROR",
    )
    err(api.put("/customers/cust_missing/packages", json={"packages": [good]}), 404, "NOT_FOUND")
    assert _grants(api, customer["id"]) == before
    assert _holders(api, "acme/extra") == {}


def test_remove_package_access_errors(catalog: Api) -> None:
    api = catalog
    customer = api.create_customer("Acme")
    ok(api.post(f"/customers/{customer['id']}/packages", json={"package": "acme/core"}), 201)

    err(api.delete(f"/customers/{customer['id']}/packages/acme/addon"), 404, "NOT_FOUND")  # not granted
    err(api.delete(f"/customers/{customer['id']}/packages/acme/ghost"), 404, "NOT_FOUND")  # no such package
    err(api.delete("/customers/cust_missing/packages/acme/core"), 404, "NOT_FOUND")
    err(
        api.delete(f"/customers/{customer['id']}/packages/acme/not%20valid"),
        400,
        "VALIDATION_ERROR",
        "package",
    )
    err(api.get("/customers/cust_missing/packages"), 404, "NOT_FOUND")
    assert _grants(api, customer["id"]) == {"acme/core": "*"}


def test_reverse_lookup_errors(api: Api) -> None:
    err(api.get("/packages/acme/ghost/customers"), 404, "NOT_FOUND")
    err(api.get("/packages/acme/not%20valid/customers"), 400, "VALIDATION_ERROR", "package")
