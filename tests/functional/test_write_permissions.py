"""Every write route refuses viewer credentials and customer tokens with 403, before touching anything."""

from __future__ import annotations

import re

from tests.functional.conftest import Api, err, ok

from cargoman.access.permissions import Permission
from cargoman.web.api.permissions import ROUTE_PERMISSIONS

WRITES = sorted(
    (method, path)
    for (method, path), permission in ROUTE_PERMISSIONS.items()
    if permission != Permission.READ
)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path).replace("/api/v1", "", 1)


def test_viewer_and_customer_tokens_cannot_write_anywhere(api: Api) -> None:
    ok(api.post("/team/credentials", json={"name": "Owner", "level": "owner"}), 201)
    viewer = ok(api.post("/team/credentials", json={"name": "Reader", "level": "viewer"}), 201)["plain_token"]
    customer = api.create_customer("Customer")
    download_token = ok(
        api.post(f"/customers/{customer['id']}/tokens", json={"name": "dl", "scope": "download"}), 201
    )["plain_token"]
    customers_before = ok(api.get("/customers"))  # nothing below may change the registry
    assert len(WRITES) >= 38

    for method, path in WRITES:
        url = _concrete(path)
        for token in (viewer, customer["token"], download_token):
            if token == customer["token"] and path.endswith("/upload"):
                continue  # admin-scope customer tokens may upload (to packages they are granted)
            response = api.request(method, url, token=token, json={})
            assert response.status_code == 403, (method, url, response.status_code, response.text)
            err(response, 403, "FORBIDDEN")
    assert ok(api.get("/customers")) == customers_before
