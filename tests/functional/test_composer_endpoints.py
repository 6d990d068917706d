"""The Composer v2 endpoints at the HTTP level: auth, access answers, caching headers, gzip."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.functional.conftest import Api, basic, ok, p2_versions
from tests.support.gitrepo import GitRepo, composer_json

from cargoman.composer.metadata import expand
from cargoman.timeutil import http_date


def _customer_with(api: Api, grants: dict[str, str]) -> tuple[str, str]:
    customer = api.create_customer("Composer user")
    for package, constraint in grants.items():
        ok(
            api.post(
                f"/customers/{customer['id']}/packages", json={"package": package, "constraint": constraint}
            ),
            201,
        )
    return customer["id"], customer["token"]


def _token(api: Api, customer_id: str, **body: object) -> str:
    created = ok(api.post(f"/customers/{customer_id}/tokens", json={"name": "t", **body}), 201)
    return str(created["plain_token"])


def test_credentials_basic_bearer_and_failures(api: Api, library_repo: GitRepo) -> None:
    api.add_package(library_repo.url)
    customer_id, secret = _customer_with(api, {"acme/library": "*"})

    assert api.composer("/packages.json", None).status_code == 401
    assert api.composer("/packages.json", "tok_wrong").status_code == 401
    assert api.client.get("/packages.json", headers={"Authorization": "Basic !!!"}).status_code == 401
    assert api.composer("/packages.json", secret).status_code == 200
    bearer = api.client.get("/packages.json", headers={"Authorization": f"Bearer {secret}"})
    assert bearer.status_code == 200
    # The root admin token sees everything through the Composer endpoints too.
    assert api.composer("/packages.json", api.admin_token).json()["available-packages"] == ["acme/library"]

    webhook = api.composer("/packages.json", _token(api, customer_id, scope="webhook"))
    assert webhook.status_code == 403
    assert webhook.json()["error"]["code"] == "TOKEN_SCOPE"

    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    short_lived = _token(api, customer_id, expires_at=soon)
    deadline = time.monotonic() + 15
    while (answer := api.composer("/packages.json", short_lived)).status_code == 200:
        assert time.monotonic() < deadline, "the token never expired"
        time.sleep(0.1)
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "TOKEN_EXPIRED"


def test_root_lists_only_visible_packages_with_absolute_urls(api: Api, make_library_repo: object) -> None:
    for name in ("acme/one", "acme/two", "other/three"):
        api.add_package(make_library_repo(name, tags=("1.0.0",)).url)  # type: ignore[operator]
    _, secret = _customer_with(api, {"acme/one": "*", "other/three": "*"})
    root = api.composer("/packages.json", secret).json()
    assert root["available-packages"] == ["acme/one", "other/three"]
    assert root["metadata-url"] == "http://testserver/p2/%package%.json"
    assert root["notify-batch"] == "http://testserver/downloads"


def test_package_answers_404_unknown_403_not_granted(api: Api, make_library_repo: object) -> None:
    api.add_package(make_library_repo("acme/one", tags=("1.0.0",)).url)  # type: ignore[operator]
    api.add_package(make_library_repo("acme/two", tags=("1.0.0",)).url)  # type: ignore[operator]
    _, secret = _customer_with(api, {"acme/one": "*"})
    assert api.composer("/p2/acme/one.json", secret).status_code == 200
    assert api.composer("/p2/acme/two.json", secret).status_code == 403
    assert api.composer("/p2/acme/missing.json", secret).status_code == 404
    assert api.composer("/dist/acme/two/1.0.0.zip", secret).status_code == 403
    assert api.composer("/dist/acme/one/9.9.9.zip", secret).status_code == 404
    assert api.composer("/p2/acme/one.txt", secret).status_code == 404


def test_last_modified_304_gzip_and_head(api: Api, library_repo: GitRepo) -> None:
    api.add_package(library_repo.url)
    _, secret = _customer_with(api, {"acme/library": "^1.0"})
    first = api.composer("/p2/acme/library.json", secret)
    assert first.status_code == 200
    last_modified = first.headers["last-modified"]

    revalidated = api.client.get(
        "/p2/acme/library.json", headers={**basic(secret), "If-Modified-Since": last_modified}
    )
    assert revalidated.status_code == 304 and revalidated.content == b""
    older = http_date(datetime(2000, 1, 1, tzinfo=UTC))
    stale = api.client.get("/p2/acme/library.json", headers={**basic(secret), "If-Modified-Since": older})
    assert stale.status_code == 200

    zipped = api.client.get("/p2/acme/library.json", headers={**basic(secret), "Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) < len(first.content)
    assert zipped.json() == first.json()  # httpx decoded it; the body was gzip on the wire
    plain = api.client.get("/p2/acme/library.json", headers={**basic(secret), "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers

    head = api.client.head("/p2/acme/library.json", headers=basic(secret))
    assert head.status_code == 200 and head.content == b""


def test_constraint_and_dev_file(api: Api, library_repo: GitRepo) -> None:
    api.add_package(library_repo.url)
    _, narrow = _customer_with(api, {"acme/library": "~1.0.0"})
    assert p2_versions(api, "acme/library", narrow) == ["1.0.0"]
    dev = api.composer("/p2/acme/library~dev.json", narrow).json()
    assert dev["packages"]["acme/library"] == []  # dev-main is outside ~1.0.0

    _, everything = _customer_with(api, {"acme/library": "*"})
    assert p2_versions(api, "acme/library", everything) == ["2.0.0", "1.1.0", "1.0.0"]
    dev_all = api.composer("/p2/acme/library~dev.json", everything).json()
    assert [v["version"] for v in dev_all["packages"]["acme/library"]] == ["dev-main"]


def test_expired_customer_is_refused_with_reason(api: Api, library_repo: GitRepo) -> None:
    api.add_package(library_repo.url)
    customer_id, secret = _customer_with(api, {"acme/library": "*"})
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    ok(api.patch(f"/customers/{customer_id}", json={"expires_at": past}))
    refused = api.composer("/packages.json", secret)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "CUSTOMER_EXPIRED"
    assert refused.json()["warnings"][0]["versions"] == "*"


def test_notify_batch_validates_input(api: Api, library_repo: GitRepo) -> None:
    api.add_package(library_repo.url)
    _, secret = _customer_with(api, {"acme/library": "*"})
    bad = api.client.post("/downloads", headers=basic(secret), content=b"not json")
    assert bad.status_code == 400
    assert api.client.get("/downloads", headers=basic(secret)).status_code == 405
    recorded = api.client.post(
        "/downloads",
        headers=basic(secret),
        json={
            "downloads": [{"name": "acme/library", "version": "1.0.0.0"}, {"name": "other/x", "version": "1"}]
        },
    )
    assert recorded.status_code == 200 and recorded.json()["recorded"] == 1
    assert api.client.post("/downloads", json={"downloads": []}).status_code == 401


def test_small_and_large_archives_are_served_whole(api: Api, tmp_path: Path) -> None:
    """Archives up to 1 MiB go out in one message, larger ones are streamed; both byte-exact."""
    repo = GitRepo.init(tmp_path / "big")
    repo.write({"composer.json": composer_json("acme/big"), "data.bin": os.urandom(1536 * 1024)})
    repo.commit("large")
    repo.tag("2.0.0")
    repo.write({"data.bin": b"small"})
    repo.commit("small")
    repo.tag("1.0.0")
    api.add_package(repo.url)
    _, secret = _customer_with(api, {"acme/big": "*"})
    metadata = {
        v["version"]: v
        for v in expand(api.composer("/p2/acme/big.json", secret).json()["packages"]["acme/big"])
    }
    for version in ("1.0.0", "2.0.0"):
        archive = api.composer(f"/dist/acme/big/{version}.zip", secret)
        assert archive.status_code == 200
        assert hashlib.sha1(archive.content).hexdigest() == metadata[version]["dist"]["shasum"]
    assert len(api.composer("/dist/acme/big/2.0.0.zip", secret).content) > 1024 * 1024
