"""The permission every management route requires, keyed by (method, path as in the OpenAPI document).

A test walks every route of the app and fails when one is missing here, so a new route cannot ship
without a deliberate decision about who may call it.
"""

from __future__ import annotations

from cargoman.access.permissions import Permission

R, W, TEAM = Permission.READ, Permission.WRITE, Permission.MANAGE_TEAM

ROUTE_PERMISSIONS: dict[tuple[str, str], Permission] = {
    # customers
    ("POST", "/api/v1/customers"): W,
    ("GET", "/api/v1/customers"): R,
    ("GET", "/api/v1/customers/by-external/{external_id}"): R,
    ("GET", "/api/v1/customers/{customer_id}"): R,
    ("PATCH", "/api/v1/customers/{customer_id}"): W,
    ("DELETE", "/api/v1/customers/{customer_id}"): W,
    ("POST", "/api/v1/customers/{customer_id}/suspend"): W,
    ("POST", "/api/v1/customers/{customer_id}/reactivate"): W,
    ("POST", "/api/v1/customers/{customer_id}/freeze"): W,
    # customer tokens
    ("POST", "/api/v1/customers/{customer_id}/tokens"): W,
    ("GET", "/api/v1/customers/{customer_id}/tokens"): R,
    ("GET", "/api/v1/customers/{customer_id}/tokens/{token_id}"): R,
    ("DELETE", "/api/v1/customers/{customer_id}/tokens/{token_id}"): W,
    ("POST", "/api/v1/customers/{customer_id}/tokens/{token_id}/rotate"): W,
    ("POST", "/api/v1/customers/{customer_id}/token/regenerate"): W,
    ("DELETE", "/api/v1/customers/{customer_id}/token"): W,
    # package access
    ("GET", "/api/v1/customers/{customer_id}/packages"): R,
    ("PUT", "/api/v1/customers/{customer_id}/packages"): W,
    ("POST", "/api/v1/customers/{customer_id}/packages"): W,
    ("DELETE", "/api/v1/customers/{customer_id}/packages/{vendor}/{name}"): W,
    # packages
    ("POST", "/api/v1/packages"): W,
    ("GET", "/api/v1/packages"): R,
    ("GET", "/api/v1/packages/{vendor}/{name}"): R,
    ("DELETE", "/api/v1/packages/{vendor}/{name}"): W,
    ("POST", "/api/v1/packages/{vendor}/{name}/sync"): W,
    ("GET", "/api/v1/packages/{vendor}/{name}/customers"): R,
    ("POST", "/api/v1/packages/{vendor}/{name}/yank/{version}"): W,
    ("POST", "/api/v1/packages/{vendor}/{name}/unyank/{version}"): W,
    # tasks
    ("GET", "/api/v1/tasks/{task_id}"): R,
}
