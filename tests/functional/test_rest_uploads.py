"""REST: publishing versions by uploading a zip (admins and customer tokens), and every refusal
leaving nothing behind: no package, no version, no stored object, no scratch file."""

from __future__ import annotations

import hashlib
import io
import json
import random
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.functional.conftest import Api, Backend, err, ok, p2_versions
from tests.support.gitrepo import composer_json
from tests.support.uploads import package_zip, upload, zip_of
from tests.support.uploads import stored_objects as stored_in

from cargoman.composer.metadata import expand
from cargoman.db.models import AuditEntry


def stored_objects(backend: Backend) -> list[str]:
    return stored_in(backend.settings.storage_path)


def scratch_dirs(backend: Backend) -> list[Path]:
    return list(backend.settings.data_dir.glob("upload-*"))


def audit_entries(backend: Backend, action: str) -> list[AuditEntry]:
    with backend.runtime.session_factory() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def customer_token(api: Api, grants: dict[str, str], scope: str, scopes: list[str] | None = None) -> str:
    return new_token(api, grants, scope, scopes)[0]


def new_token(
    api: Api, grants: dict[str, str], scope: str, scopes: list[str] | None = None
) -> tuple[str, str]:
    """A customer with ``grants`` and a token of ``scope``: (plain token, token id)."""
    customer = api.create_customer()
    for package, constraint in grants.items():
        ok(
            api.post(
                f"/customers/{customer['id']}/packages", json={"package": package, "constraint": constraint}
            ),
            201,
        )
    body: dict[str, Any] = {"name": f"{scope} token", "scope": scope}
    if scopes is not None:
        body["package_scopes"] = scopes
    created = ok(api.post(f"/customers/{customer['id']}/tokens", json=body), 201)
    return created["plain_token"], created["token"]["id"]


# -- happy paths ----------------------------------------------------------------------------------


def test_admin_creates_a_package_by_upload_and_composer_can_download_it(api: Api, backend: Backend) -> None:
    data = package_zip(top="widget-1.2.0")
    created = ok(upload(api, "acme/widget", data, version="v1.2.0"), 201)
    assert created["package_created"] is True
    package, version = created["package"], created["version"]
    assert package["name"] == "acme/widget"
    assert package["repository_url"] is None
    assert package["type"] == "git"
    assert package["sync_status"] == "ready"
    assert package["description"] == "acme/widget uploaded"
    assert version["version"] == "1.2.0"
    assert version["version_normalized"] == "1.2.0.0"
    assert version["composer"]["license"] == "MIT"
    dist = version["dist"]
    assert dist["url"] == "http://testserver/dist/acme/widget/1.2.0.zip"

    # The stored archive has the package at its root (the top folder was dropped) and its digests.
    archive = api.composer("/dist/acme/widget/1.2.0.zip", api.admin_token)
    assert archive.status_code == 200
    assert hashlib.sha1(archive.content).hexdigest() == dist["sha1"]
    assert hashlib.sha256(archive.content).hexdigest() == dist["sha256"]
    assert hashlib.md5(archive.content).hexdigest() == dist["md5"]
    assert len(archive.content) == dist["size"]
    with zipfile.ZipFile(io.BytesIO(archive.content)) as stored:
        assert sorted(stored.namelist()) == ["composer.json", "src/Widget.php"]
        assert json.loads(stored.read("composer.json"))["name"] == "acme/widget"

    p2 = api.composer("/p2/acme/widget.json", api.admin_token)
    (entry,) = expand(p2.json()["packages"]["acme/widget"])
    assert entry["version"] == "1.2.0"
    assert entry["dist"] == {
        "type": "zip",
        "url": dist["url"],
        "reference": dist["sha1"],
        "shasum": dist["sha1"],
    }
    assert "acme/widget" in api.composer("/packages.json", api.admin_token).json()["available-packages"]

    (create_entry,) = audit_entries(backend, "package.create")
    (upload_entry,) = audit_entries(backend, "version.upload")
    assert (create_entry.actor, create_entry.actor_kind, create_entry.resource_id) == (
        "root",
        "root",
        "acme/widget",
    )
    assert upload_entry.actor == "root"
    assert upload_entry.resource_id == "acme/widget:1.2.0"
    assert upload_entry.after is not None and upload_entry.after["sha256"] == dist["sha256"]
    assert scratch_dirs(backend) == []


def test_version_comes_from_composer_json_when_the_form_has_none(api: Api) -> None:
    created = ok(upload(api, "acme/widget", package_zip(version="2.0.0-beta1")), 201)
    assert created["version"]["version"] == "2.0.0-beta1"
    assert created["version"]["version_normalized"] == "2.0.0.0-beta1"


def test_developer_token_uploads_a_new_version_of_a_granted_package(api: Api, backend: Backend) -> None:
    ok(upload(api, "acme/widget", package_zip(), version="1.0.0"), 201)
    token, token_id = new_token(api, {"acme/widget": "*"}, "developer", scopes=["acme/*"])

    created = ok(upload(api, "acme/widget", package_zip(), version="1.1.0", token=token), 201)
    assert created["package_created"] is False
    assert created["version"]["version"] == "1.1.0"
    # The customer (and so composer) sees the new version at once.
    assert p2_versions(api, "acme/widget", token) == ["1.1.0", "1.0.0"]
    archive = api.composer("/dist/acme/widget/1.1.0.zip", token)
    assert archive.status_code == 200
    assert hashlib.sha1(archive.content).hexdigest() == created["version"]["dist"]["sha1"]

    entries = [e for e in audit_entries(backend, "version.upload") if e.resource_id == "acme/widget:1.1.0"]
    assert len(entries) == 1
    assert (entries[0].actor_kind, entries[0].actor) == ("customer", token_id)


def test_admin_scope_customer_token_may_upload(api: Api) -> None:
    ok(upload(api, "acme/widget", package_zip(), version="1.0.0"), 201)
    token = customer_token(api, {"acme/widget": "^1.0"}, "admin")
    ok(upload(api, "acme/widget", package_zip(), version="1.0.1", token=token), 201)
    assert "1.0.1" in p2_versions(api, "acme/widget", token)


# -- refusals: nothing is written -----------------------------------------------------------------


def _assert_nothing_written(api: Api, backend: Backend, before: list[str]) -> None:
    assert stored_objects(backend) == before
    assert scratch_dirs(backend) == []


@pytest.mark.parametrize(
    ("case", "make"),
    [
        ("dot-dot entry", lambda: package_zip(extra={"../evil.php": "<?php"})),
        ("nested dot-dot entry", lambda: package_zip(extra={"src/../../evil.php": "<?php"})),
        ("absolute path", lambda: package_zip(extra={"/etc/evil": "x"})),
        ("symlink", lambda: package_zip(symlinks={"src/passwd": "/etc/passwd"})),
        ("wrong name", lambda: package_zip("acme/other")),
        ("not a zip", lambda: b"this is not a zip archive at all"),
        ("no composer.json", lambda: zip_of({"README.md": "hello"})),
        ("composer.json not JSON", lambda: package_zip(manifest="{ not json")),
        (
            "two top folders",
            lambda: zip_of({"a/composer.json": composer_json("acme/widget"), "b/x.php": "x"}),
        ),
    ],
)
def test_bad_archives_are_refused_and_nothing_is_stored(
    api: Api, backend: Backend, case: str, make: Any
) -> None:
    ok(upload(api, "acme/widget", package_zip(), version="1.0.0"), 201)
    before = stored_objects(backend)
    error = err(upload(api, "acme/widget", make(), version="1.1.0"), 400, "VALIDATION_ERROR", "file")
    assert error["message"], case
    _assert_nothing_written(api, backend, before)
    versions = [v["version"] for v in ok(api.get("/packages/acme/widget"))["versions"]]
    assert versions == ["1.0.0"]
    assert len(audit_entries(backend, "version.upload")) == 1


def test_a_refused_upload_does_not_create_the_package(api: Api, backend: Backend) -> None:
    err(
        upload(api, "acme/widget", package_zip(extra={"../x": "x"}), version="1.0.0"),
        400,
        "VALIDATION_ERROR",
        "file",
    )
    err(api.get("/packages/acme/widget"), 404, "NOT_FOUND")
    assert ok(api.get("/packages")) == []
    _assert_nothing_written(api, backend, [])
    assert audit_entries(backend, "package.create") == []


def test_over_the_size_cap_is_refused(api: Api, backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend.settings, "upload_max_bytes", 2048)
    noise = random.Random(7)
    # Just over the cap (caught on the file itself) and far over it (caught while the body arrives).
    for extra_bytes in (4_000, 200_000):
        big = package_zip(extra={"data.bin": noise.randbytes(extra_bytes)})
        assert len(big) > 2048
        error = err(upload(api, "acme/widget", big, version="1.0.0"), 400, "VALIDATION_ERROR", "file")
        assert "2048" in error["message"]
    err(api.get("/packages/acme/widget"), 404, "NOT_FOUND")
    _assert_nothing_written(api, backend, [])
    # A small archive still fits under the same cap.
    small = package_zip()
    assert len(small) < 2048
    ok(upload(api, "acme/widget", small, version="1.0.0"), 201)


@pytest.mark.parametrize(
    ("version", "archive_version"),
    [(None, None), ("not a version!", None), ("1.0.0", "2.0.0")],
)
def test_missing_invalid_or_contradicting_versions_are_refused(
    api: Api, backend: Backend, version: str | None, archive_version: str | None
) -> None:
    response = upload(api, "acme/widget", package_zip(version=archive_version), version=version)
    err(response, 400, "VALIDATION_ERROR", "version")
    err(api.get("/packages/acme/widget"), 404, "NOT_FOUND")
    _assert_nothing_written(api, backend, [])


def test_duplicate_version_is_a_conflict(api: Api, backend: Backend) -> None:
    first = ok(upload(api, "acme/widget", package_zip(), version="1.0.0"), 201)
    before = stored_objects(backend)
    other_content = package_zip(extra={"src/Other.php": "<?php // changed"})
    err(upload(api, "acme/widget", other_content, version="v1.0.0"), 409, "CONFLICT")
    err(upload(api, "acme/widget", other_content, version="1.0.0.0"), 409, "CONFLICT")
    _assert_nothing_written(api, backend, before)
    (version,) = ok(api.get("/packages/acme/widget"))["versions"]
    assert version["dist"]["sha256"] == first["version"]["dist"]["sha256"]


def test_a_version_synced_from_git_cannot_be_replaced_by_upload(api: Api, make_library_repo: Any) -> None:
    repo = make_library_repo("acme/library", tags=("1.0.0",))
    api.add_package(repo.url)
    err(upload(api, "acme/library", package_zip("acme/library"), version="1.0.0"), 409, "CONFLICT")


# -- refusals: who may upload ---------------------------------------------------------------------


def test_download_scope_token_is_refused(api: Api, backend: Backend) -> None:
    ok(upload(api, "acme/widget", package_zip(), version="1.0.0"), 201)
    before = stored_objects(backend)
    for scope in ("download", "webhook"):
        token = customer_token(api, {"acme/widget": "*"}, scope)
        error = err(upload(api, "acme/widget", package_zip(), version="1.1.0", token=token), 403, "FORBIDDEN")
        assert scope in error["message"]
    _assert_nothing_written(api, backend, before)
    assert [v["version"] for v in ok(api.get("/packages/acme/widget"))["versions"]] == ["1.0.0"]


def test_token_outside_its_package_scopes_or_grants_is_refused(api: Api, backend: Backend) -> None:
    ok(upload(api, "acme/widget", package_zip(), version="1.0.0"), 201)
    ok(upload(api, "other/tool", package_zip("other/tool"), version="1.0.0"), 201)
    before = stored_objects(backend)

    scoped = customer_token(api, {"acme/widget": "*", "other/tool": "*"}, "developer", scopes=["acme/*"])
    err(upload(api, "other/tool", package_zip("other/tool"), version="1.1.0", token=scoped), 403, "FORBIDDEN")

    ungranted = customer_token(api, {"acme/widget": "*"}, "developer")
    err(
        upload(api, "other/tool", package_zip("other/tool"), version="1.1.0", token=ungranted),
        403,
        "FORBIDDEN",
    )
    # A customer cannot create a package; the answer is the same as for an ungranted one.
    err(
        upload(api, "acme/brand-new", package_zip("acme/brand-new"), version="1.0.0", token=scoped),
        403,
        "FORBIDDEN",
    )
    err(api.get("/packages/acme/brand-new"), 404, "NOT_FOUND")
    _assert_nothing_written(api, backend, before)


def test_suspended_customer_revoked_and_unknown_tokens_are_refused(api: Api) -> None:
    ok(upload(api, "acme/widget", package_zip(), version="1.0.0"), 201)
    customer = api.create_customer()
    ok(api.post(f"/customers/{customer['id']}/packages", json={"package": "acme/widget"}), 201)
    created = ok(
        api.post(f"/customers/{customer['id']}/tokens", json={"name": "dev", "scope": "developer"}), 201
    )
    token = created["plain_token"]
    ok(api.post(f"/customers/{customer['id']}/suspend", json={"reason": "Payment failed"}))
    error = err(upload(api, "acme/widget", package_zip(), version="1.1.0", token=token), 403, "FORBIDDEN")
    assert "Payment failed" in error["message"]
    ok(api.post(f"/customers/{customer['id']}/reactivate"))
    ok(api.delete(f"/customers/{customer['id']}/tokens/{created['token']['id']}"))
    err(upload(api, "acme/widget", package_zip(), version="1.1.0", token=token), 401, "UNAUTHORIZED")
    err(upload(api, "acme/widget", package_zip(), version="1.1.0", token="tok_unknown"), 401, "UNAUTHORIZED")
    anonymous = api.post(
        "/packages/acme/widget/upload",
        token=None,
        files={"file": ("p.zip", package_zip(), "application/zip")},
    )
    err(anonymous, 401, "UNAUTHORIZED")


def test_upload_without_a_file_field_names_the_field(api: Api) -> None:
    err(api.post("/packages/acme/widget/upload", data={"version": "1.0.0"}), 400, "VALIDATION_ERROR", "file")
    err(api.post("/packages/acme/widget/upload", json={"version": "1.0.0"}), 400, "VALIDATION_ERROR", "file")
