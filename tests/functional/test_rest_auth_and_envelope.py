"""REST: authentication of the management API and the shape of every response envelope."""

from __future__ import annotations

from typing import Any

from tests.functional.conftest import ADMIN_TOKEN, Api, basic, err, ok

CID = "cust_0123456789abcdef"
TID = "tok_0123456789abcdef"

# Every core endpoint, with a body that would be valid.
CORE_ENDPOINTS: list[tuple[str, str, Any]] = [
    ("POST", "/customers", {"name": "Acme"}),
    ("GET", "/customers", None),
    ("GET", f"/customers/{CID}", None),
    ("GET", "/customers/by-external/ext-1", None),
    ("PATCH", f"/customers/{CID}", {"name": "Acme"}),
    ("DELETE", f"/customers/{CID}", None),
    ("POST", f"/customers/{CID}/suspend", {"reason": "unpaid"}),
    ("POST", f"/customers/{CID}/reactivate", None),
    ("POST", f"/customers/{CID}/freeze", {"versions": []}),
    ("POST", f"/customers/{CID}/tokens", {"name": "CI", "scope": "download"}),
    ("GET", f"/customers/{CID}/tokens", None),
    ("GET", f"/customers/{CID}/tokens/{TID}", None),
    ("DELETE", f"/customers/{CID}/tokens/{TID}", None),
    ("POST", f"/customers/{CID}/tokens/{TID}/rotate", None),
    ("POST", f"/customers/{CID}/token/regenerate", None),
    ("DELETE", f"/customers/{CID}/token", None),
    ("GET", f"/customers/{CID}/packages", None),
    ("PUT", f"/customers/{CID}/packages", {"packages": []}),
    ("POST", f"/customers/{CID}/packages", {"package": "acme/core"}),
    ("DELETE", f"/customers/{CID}/packages/acme/core", None),
    ("GET", "/packages", None),
    ("POST", "/packages", {"name": "acme/core", "repository_url": "https://example.com/acme/core.git"}),
    ("GET", "/packages/acme/core", None),
    ("DELETE", "/packages/acme/core", None),
    ("POST", "/packages/acme/core/sync", None),
    ("GET", "/packages/acme/core/customers", None),
    ("POST", "/packages/acme/core/yank/1.0.0", None),
    ("POST", "/packages/acme/core/unyank/1.0.0", None),
    ("GET", "/tasks/task_0123456789abcdef", None),
]


def _assert_error_envelope(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"data", "error"}, body
    error = err(response, status, code)
    assert set(error) <= {"code", "message", "field"}, error
    return error


def _nothing_written(api: Api) -> None:
    assert api.get("/customers").json()["pagination"]["total"] == 0
    assert api.get("/packages").json()["pagination"]["total"] == 0


def test_every_core_endpoint_needs_a_token(api: Api) -> None:
    for method, path, body in CORE_ENDPOINTS:
        response = api.request(method, path, token=None, json=body)
        _assert_error_envelope(response, 401, "UNAUTHORIZED")
        assert response.headers.get("www-authenticate", "").startswith("Bearer"), (method, path)
    _nothing_written(api)


def test_every_core_endpoint_refuses_a_wrong_token(api: Api) -> None:
    for method, path, body in CORE_ENDPOINTS:
        for token in ("not-the-admin-token", f"{ADMIN_TOKEN}x"):
            _assert_error_envelope(api.request(method, path, token=token, json=body), 401, "UNAUTHORIZED")
    _nothing_written(api)


def test_malformed_authorization_headers_are_refused(api: Api) -> None:
    wrong = [
        {"Authorization": f"Bearer {ADMIN_TOKEN[:-1]}"},
        {"Authorization": f"Bearer {ADMIN_TOKEN.upper()}"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer"},
        {"Authorization": ADMIN_TOKEN},
        {"Authorization": f"Token {ADMIN_TOKEN}"},
        basic(ADMIN_TOKEN),  # the management API takes bearer tokens only
    ]
    for method, path, body in CORE_ENDPOINTS[:3]:
        for headers in wrong:
            response = api.request(method, path, token=None, headers=headers, json=body)
            _assert_error_envelope(response, 401, "UNAUTHORIZED")
    _nothing_written(api)


def test_auth_is_checked_before_the_body(api: Api) -> None:
    """An anonymous caller learns nothing about the body rules (nor whether an id exists)."""
    for method, path, body in (
        ("POST", "/customers", {"name": 123}),
        ("POST", "/customers", {}),
        ("POST", f"/customers/{CID}/tokens", {"scope": "root"}),
        ("PUT", f"/customers/{CID}/packages", {"packages": "x"}),
        ("GET", "/customers?per_page=0", None),
        ("GET", "/customers?status=bogus", None),
    ):
        _assert_error_envelope(api.request(method, path, token=None, json=body), 401, "UNAUTHORIZED")


def test_customer_tokens_are_forbidden_on_the_management_api(api: Api) -> None:
    customer = api.create_customer("Acme")
    scoped = ok(api.post(f"/customers/{customer['id']}/tokens", json={"scope": "download"}), 201)
    for secret in (customer["token"], scoped["plain_token"]):
        for method, path, body in CORE_ENDPOINTS:
            response = api.request(method, path, token=secret, json=body)
            error = _assert_error_envelope(response, 403, "FORBIDDEN")
            assert "management" in error["message"].lower() or "customer" in error["message"].lower()
        # The same secret is fine where it belongs.
        assert api.composer("/packages.json", secret).status_code == 200
    # Nothing was created, changed or revoked by those calls.
    assert [c["id"] for c in ok(api.get("/customers"))] == [customer["id"]]
    assert ok(api.get(f"/customers/{customer['id']}"))["status"] == "active"
    assert len(ok(api.get(f"/customers/{customer['id']}/tokens"))) == 2
    assert ok(api.get("/packages")) == []


def test_admin_bearer_token_is_accepted_case_insensitively(api: Api) -> None:
    for scheme in ("Bearer", "bearer", "BEARER"):
        response = api.get("/customers", token=None, headers={"Authorization": f"{scheme} {ADMIN_TOKEN}"})
        assert ok(response) == []


def test_unknown_routes_answer_a_404_envelope(api: Api) -> None:
    for path in (
        "/api/v1/nope",
        "/api/v1/customers/cust_x/unknown",
        "/api/v1/packages/acme",
        "/api/v1/packages/acme/core/unknown",
        "/api/v2/customers",
        "/api",
        "/nothing-here",
    ):
        for headers in ({"Authorization": f"Bearer {ADMIN_TOKEN}"}, {}):
            response = api.client.get(path, headers=headers)
            _assert_error_envelope(response, 404, "NOT_FOUND")


def test_wrong_method_answers_an_error_envelope(api: Api) -> None:
    response = api.delete("/customers")
    _assert_error_envelope(response, 405, "METHOD_NOT_ALLOWED")
    _assert_error_envelope(api.put("/packages", json={}), 405, "METHOD_NOT_ALLOWED")


def test_success_envelopes(api: Api) -> None:
    created = api.post("/customers", json={"name": "Acme"})
    assert created.status_code == 201
    assert created.headers["content-type"].startswith("application/json")
    assert set(created.json()) == {"data", "error"}
    assert created.json()["error"] is None

    single = api.get(f"/customers/{created.json()['data']['id']}").json()
    assert set(single) == {"data", "error"} and single["error"] is None

    for path in ("/customers", "/packages"):
        listed = api.get(path).json()
        assert set(listed) == {"data", "error", "pagination"}, listed
        assert listed["error"] is None
        assert isinstance(listed["data"], list)
        assert set(listed["pagination"]) == {"page", "per_page", "total", "total_pages"}

    tokens = api.get(f"/customers/{created.json()['data']['id']}/tokens").json()
    assert set(tokens) == {"data", "error"} and isinstance(tokens["data"], list)


def test_error_envelopes_name_the_field(api: Api) -> None:
    error = _assert_error_envelope(api.post("/customers", json={"name": 123}), 400, "VALIDATION_ERROR")
    assert error["field"] == "name"
    assert error["message"].startswith("name")
    not_found = _assert_error_envelope(api.get(f"/customers/{CID}"), 404, "NOT_FOUND")
    assert CID in not_found["message"]
    assert "field" not in not_found
    bad_json = api.post("/customers", content=b"{", headers={"Content-Type": "application/json"})
    assert _assert_error_envelope(bad_json, 400, "VALIDATION_ERROR")["field"] == "body"
