"""REST: strings the database cannot or the router does not take must give a 4xx, never a 500.

* PostgreSQL text columns cannot hold NUL (U+0000). The API passes such strings, from bodies and
  from paths, straight to the database; psycopg raises DataError and the API answers
  500 INTERNAL_ERROR. SQLite stores them, so the two databases disagree (and data accepted on SQLite
  cannot be moved to PostgreSQL).
* ``GET /customers/by-external/{external_id}`` does not take a ``/``, while creating a customer
  with such an external id (``org/123``) succeeds: that customer can never be looked up.
"""

from __future__ import annotations

from typing import Any

from tests.functional.conftest import Api, err, ok

NUL = "\x00"


def test_nul_in_a_path_is_not_found_or_invalid(api: Api) -> None:
    customer = api.create_customer("Acme")
    for path in (
        "/customers/cust%00x",
        "/customers/by-external/a%00b",
        f"/customers/{customer['id']}/tokens/tok%00x",
        "/packages/acme/x%00y",
        "/packages/acme/x%00y/customers",
        "/tasks/task%00x",
    ):
        response = api.get(path)
        assert response.status_code in (400, 404), (path, response.text)
        err(
            response, response.status_code, "NOT_FOUND" if response.status_code == 404 else "VALIDATION_ERROR"
        )


def test_nul_in_a_body_string_is_a_validation_error(api: Api) -> None:
    customer = api.create_customer("Acme")
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", "/customers", {"name": f"Ac{NUL}me"}, "name"),
        ("POST", "/customers", {"name": "Acme", "external_id": f"ext{NUL}"}, "external_id"),
        ("PATCH", f"/customers/{customer['id']}", {"name": f"Ac{NUL}me"}, "name"),
        ("POST", f"/customers/{customer['id']}/suspend", {"reason": f"un{NUL}paid"}, "reason"),
        ("POST", f"/customers/{customer['id']}/tokens", {"name": f"C{NUL}I"}, "name"),
    ]
    for method, path, body, field in cases:
        response = api.request(method, path, json=body)
        assert response.status_code != 500, (method, path, response.text)
        err(response, 400, "VALIDATION_ERROR", field)
    assert [c["name"] for c in ok(api.get("/customers"))] == ["Acme"]
    assert ok(api.get(f"/customers/{customer['id']}"))["status"] == "active"


def test_external_id_with_a_slash_can_be_looked_up(api: Api) -> None:
    customer = api.create_customer("Acme", external_id="org/123")
    assert customer["external_id"] == "org/123"
    assert ok(api.get("/customers/by-external/org%2F123"))["id"] == customer["id"]
