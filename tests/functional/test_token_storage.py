"""Customer tokens are stored only as digests: no plain token in any column of any table."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import MetaData, Table, inspect, select
from tests.functional.conftest import ADMIN_TOKEN, Api, Backend, ok
from tests.support.gitrepo import GitRepo

WINDOW = 12  # no run of this many characters of a secret may be stored


def _every_stored_value(backend: Backend) -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every non-null value of every column of every table."""
    engine = backend.runtime.engine
    found: list[tuple[str, str, str]] = []
    tables = inspect(engine).get_table_names()
    assert {"customers", "customer_tokens", "tasks", "package_grants"} <= set(tables)
    with engine.connect() as conn:
        for name in tables:
            table = Table(name, MetaData(), autoload_with=conn)
            for row in conn.execute(select(table)).mappings():
                for column, value in row.items():
                    if value is not None:
                        found.append((name, column, value if isinstance(value, str) else repr(value)))
    return found


def _leaks(secret: str, stored: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    windows = {secret[i : i + WINDOW] for i in range(len(secret) - WINDOW + 1)}
    return [(table, column) for table, column, text in stored if any(w in text for w in windows)]


def test_plain_tokens_are_never_stored(api: Api, backend: Backend, library_repo: GitRepo) -> None:
    secrets: dict[str, str] = {}
    api.add_package(library_repo.url)

    first = api.create_customer("Acme", email="dev@acme.com", external_id="ext-1")
    second = api.create_customer("Globex")
    secrets["first default"] = first["token"]
    secrets["second default"] = second["token"]
    ok(api.post(f"/customers/{first['id']}/packages", json={"package": "acme/library"}), 201)

    scoped = ok(
        api.post(
            f"/customers/{first['id']}/tokens",
            json={"name": "CI", "scope": "download", "package_scopes": ["acme/*"]},
        ),
        201,
    )
    secrets["scoped"] = scoped["plain_token"]
    rotated = ok(api.post(f"/customers/{first['id']}/tokens/{scoped['token']['id']}/rotate"))
    secrets["rotated"] = rotated["plain_token"]
    doomed = ok(api.post(f"/customers/{first['id']}/tokens", json={"name": "doomed"}), 201)
    secrets["revoked"] = doomed["plain_token"]
    ok(api.delete(f"/customers/{first['id']}/tokens/{doomed['token']['id']}"))
    secrets["legacy"] = ok(api.post(f"/customers/{second['id']}/token/regenerate"))["plain_token"]

    # Use the live tokens, so usage (last use, downloads) is written too.
    assert api.composer("/packages.json", secrets["rotated"]).status_code == 200
    assert api.composer("/dist/acme/library/1.0.0.zip", secrets["rotated"]).status_code == 200
    assert api.composer("/packages.json", secrets["legacy"]).status_code == 200
    backend.app.api.state.recorder.flush()
    assert ok(api.get(f"/customers/{first['id']}/tokens/{scoped['token']['id']}"))["last_used_at"] is not None

    stored = _every_stored_value(backend)
    assert stored, "nothing read from the database"
    for label, secret in {**secrets, "admin": ADMIN_TOKEN}.items():
        assert secret.startswith("tok_") or label == "admin"
        assert _leaks(secret, stored) == [], f"the {label} token is stored in plain text"

    # What is stored instead: the SHA-256 digest of each live token.
    digests = {
        text for table, column, text in stored if (table, column) == ("customer_tokens", "token_digest")
    }
    # (Revoked tokens keep their row; a rotated token's old digest is replaced.)
    for label in ("first default", "second default", "rotated", "revoked", "legacy"):
        assert hashlib.sha256(secrets[label].encode()).hexdigest() in digests, label
    assert hashlib.sha256(secrets["scoped"].encode()).hexdigest() not in digests


def test_token_responses_after_creation_never_show_the_secret(api: Api) -> None:
    customer = api.create_customer("Acme")
    created = ok(api.post(f"/customers/{customer['id']}/tokens", json={"name": "CI"}), 201)
    for path in (
        f"/customers/{customer['id']}",
        f"/customers/{customer['id']}/tokens",
        f"/customers/{customer['id']}/tokens/{created['token']['id']}",
        "/customers",
    ):
        text = api.get(path).text
        for secret in (customer["token"], created["plain_token"]):
            assert secret[4:] not in text, path
    revoked: dict[str, Any] = ok(api.delete(f"/customers/{customer['id']}/tokens/{created['token']['id']}"))
    assert created["plain_token"] not in str(revoked)
