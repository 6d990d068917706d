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
    ("DELETE", "/api/v1/customers/{customer_id}/collections/{slug}"): W,
    # customer JWTs (issuing one hands out a credential: a write)
    ("POST", "/api/v1/customers/{customer_id}/jwt"): W,
    # collections
    ("GET", "/api/v1/collections"): R,
    ("POST", "/api/v1/collections"): W,
    ("GET", "/api/v1/collections/{slug}"): R,
    ("PATCH", "/api/v1/collections/{slug}"): W,
    ("DELETE", "/api/v1/collections/{slug}"): W,
    # license and edition
    ("GET", "/api/v1/license"): R,
    # packages
    ("POST", "/api/v1/packages"): W,
    ("GET", "/api/v1/packages"): R,
    ("GET", "/api/v1/packages/{vendor}/{name}"): R,
    ("DELETE", "/api/v1/packages/{vendor}/{name}"): W,
    ("POST", "/api/v1/packages/{vendor}/{name}/sync"): W,
    ("GET", "/api/v1/packages/{vendor}/{name}/customers"): R,
    ("POST", "/api/v1/packages/{vendor}/{name}/yank/{version}"): W,
    ("POST", "/api/v1/packages/{vendor}/{name}/unyank/{version}"): W,
    ("POST", "/api/v1/packages/{vendor}/{name}/deprecate/{version}"): W,
    ("DELETE", "/api/v1/packages/{vendor}/{name}/deprecate/{version}"): W,
    ("GET", "/api/v1/packages/{vendor}/{name}/readme"): R,
    # validate fetches the repository (a side effect viewers should not trigger), though no row changes
    ("POST", "/api/v1/packages/{vendor}/{name}/validate"): W,
    ("GET", "/api/v1/packages/{vendor}/{name}/download/{version}"): R,
    ("GET", "/api/v1/packages/{vendor}/{name}/webhook-deliveries"): R,
    ("GET", "/api/v1/packages/{vendor}/{name}/monorepo"): R,
    ("GET", "/api/v1/packages/{vendor}/{name}/monorepo/children"): R,
    ("POST", "/api/v1/packages/{vendor}/{name}/monorepo/sync"): W,
    # uploads and package files (customer tokens of scope developer/admin may also upload: see uploads.py)
    ("POST", "/api/v1/packages/{vendor}/{name}/upload"): W,
    ("GET", "/api/v1/packages/{vendor}/{name}/files"): R,
    ("DELETE", "/api/v1/packages/{vendor}/{name}/files/{version}"): W,
    # tasks
    ("GET", "/api/v1/tasks/{task_id}"): R,
    ("GET", "/api/v1/tasks"): R,
    ("GET", "/api/v1/tasks/pending"): R,
    ("GET", "/api/v1/tasks/running"): R,
    ("GET", "/api/v1/tasks/failed"): R,
    ("POST", "/api/v1/tasks"): W,
    ("POST", "/api/v1/tasks/sync-all"): W,
    ("POST", "/api/v1/tasks/cleanup"): W,
    # statistics (download analytics)
    ("GET", "/api/v1/stats"): R,
    ("GET", "/api/v1/stats/daily"): R,
    ("GET", "/api/v1/stats/packages/{vendor}/{name}"): R,
    ("GET", "/api/v1/stats/packages/{vendor}/{name}/versions/{version}"): R,
    # team (CMA credentials): owners only
    ("GET", "/api/v1/team/credentials"): TEAM,
    ("POST", "/api/v1/team/credentials"): TEAM,
    ("GET", "/api/v1/team/credentials/{credential_id}"): TEAM,
    ("DELETE", "/api/v1/team/credentials/{credential_id}"): TEAM,
    ("POST", "/api/v1/team/credentials/{credential_id}/rotate"): TEAM,
    # audit log
    ("GET", "/api/v1/audit"): R,
    # GitHub App
    ("GET", "/api/v1/github-app/status"): R,
    ("GET", "/api/v1/github-app/install-url"): R,
    ("GET", "/api/v1/github-app/installations"): R,
    ("POST", "/api/v1/github-app/installations/claim"): W,
    ("GET", "/api/v1/github-app/installations/{installation_id}"): R,
    ("POST", "/api/v1/github-app/installations/{installation_id}/sync"): W,
    ("GET", "/api/v1/github-app/installations/{installation_id}/repositories"): R,
    ("GET", "/api/v1/github-app/installations/by-github-id/{github_installation_id}"): R,
    # OAuth connections (GitLab, Bitbucket); the callback is public, see PUBLIC_ROUTES
    ("POST", "/api/v1/oauth/{provider}/initiate"): W,
    ("GET", "/api/v1/oauth/{provider}/status"): R,
    ("POST", "/api/v1/oauth/{provider}/disconnect"): W,
    ("GET", "/api/v1/oauth/connections"): R,
}

# Routes that take no management credential: each authenticates its caller another way. Listed here
# so that choice is as deliberate as a permission (the route-table test reads this set).
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        # incoming webhooks: a provider's signature or shared secret
        ("POST", "/api/webhooks/github"),
        ("POST", "/api/webhooks/github-app"),
        ("POST", "/api/webhooks/gitlab"),
        ("POST", "/api/webhooks/bitbucket"),
        ("POST", "/api/webhooks/stripe"),
        # a customer token of scope webhook (or admin) asks for a sync of a package in its scopes
        ("POST", "/api/webhooks/packages/{vendor}/{name}"),
        # the browser returning from a GitLab/Bitbucket consent screen: the single-use OAuth state
        ("GET", "/api/v1/oauth/{provider}/callback"),
    }
)
