"""REST: deprecation, README, validation, admin download, webhook deliveries, audit of package writes."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from tests.functional.conftest import ADMIN_TOKEN, Api, Backend, err, ok
from tests.support.gitrepo import GitRepo, composer_json

from cargoman.composer.metadata import expand
from cargoman.db.models import AuditEntry, Package, Version, WebhookDelivery


def _audit(backend: Backend, action: str) -> list[AuditEntry]:
    with backend.runtime.session_factory() as session:
        return list(
            session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        )


def _p2_entries(api: Api, package: str) -> dict[str, dict[str, Any]]:
    response = api.composer(f"/p2/{package}.json", ADMIN_TOKEN)
    assert response.status_code == 200, response.text
    return {entry["version"]: entry for entry in expand(response.json()["packages"][package])}


def _granted_token(api: Api, package: str) -> str:
    customer = api.create_customer()
    ok(api.post(f"/customers/{customer['id']}/packages", json={"package": package}), 201)
    token: str = customer["token"]
    return token


# -- deprecation ----------------------------------------------------------------------------------


def test_deprecate_marks_the_version_in_api_and_metadata_and_keeps_it_installable(
    api: Api, backend: Backend, library_repo: GitRepo
) -> None:
    api.add_package(library_repo.url)
    token = _granted_token(api, "acme/library")
    before = datetime.now(UTC)

    version = ok(api.post("/packages/acme/library/deprecate/1.1.0"))
    assert version["version"] == "1.1.0"
    assert version["deprecated"] is True
    deprecated_at = datetime.fromisoformat(version["deprecated_at"])
    assert before - timedelta(seconds=5) <= deprecated_at <= datetime.now(UTC) + timedelta(seconds=5)
    # Asking again changes nothing, not even the date.
    assert ok(api.post("/packages/acme/library/deprecate/1.1.0"))["deprecated_at"] == version["deprecated_at"]

    listed = {v["version"]: v for v in ok(api.get("/packages/acme/library"))["versions"]}
    assert listed["1.1.0"]["deprecated"] is True
    assert listed["1.1.0"]["deprecated_at"] == version["deprecated_at"]
    assert listed["2.0.0"]["deprecated"] is False and listed["2.0.0"]["deprecated_at"] is None

    # The customer's metadata flags exactly that version; it stays listed and downloadable.
    response = api.composer("/p2/acme/library.json", token)
    entries = {e["version"]: e for e in expand(response.json()["packages"]["acme/library"])}
    assert set(entries) == {"2.0.0", "1.1.0", "1.0.0"}
    assert entries["1.1.0"]["deprecated"] is True
    assert "deprecated" not in entries["2.0.0"] and "deprecated" not in entries["1.0.0"]
    assert api.composer("/dist/acme/library/1.1.0.zip", token).status_code == 200

    undone = ok(api.delete("/packages/acme/library/deprecate/1.1.0"))
    assert undone["deprecated"] is False and undone["deprecated_at"] is None
    assert "deprecated" not in _p2_entries(api, "acme/library")["1.1.0"]

    (deprecated,) = _audit(backend, "version.deprecate")
    assert deprecated.actor == "root" and deprecated.resource_id == "acme/library:1.1.0"
    assert deprecated.before == {"deprecated": False, "deprecated_at": None}
    assert deprecated.after is not None and deprecated.after["deprecated"] is True
    (undeprecated,) = _audit(backend, "version.undeprecate")
    assert undeprecated.after == {"deprecated": False, "deprecated_at": None}


def test_deprecate_unknown_version_or_package_is_not_found(api: Api, library_repo: GitRepo) -> None:
    api.add_package(library_repo.url)
    err(api.post("/packages/acme/library/deprecate/9.9.9"), 404, "NOT_FOUND")
    err(api.delete("/packages/acme/library/deprecate/9.9.9"), 404, "NOT_FOUND")
    err(api.post("/packages/acme/nothing/deprecate/1.0.0"), 404, "NOT_FOUND")
    err(api.post("/packages/acme/library/deprecate/1.0.0", token=None), 401, "UNAUTHORIZED")
    assert all(v["deprecated"] is False for v in ok(api.get("/packages/acme/library"))["versions"])


def test_package_writes_are_audited(api: Api, backend: Backend, library_repo: GitRepo) -> None:
    created = api.add_package(library_repo.url)
    ok(api.post("/packages/acme/library/yank/1.0.0"))
    ok(api.post("/packages/acme/library/unyank/1.0.0"))
    task = ok(api.post("/packages/acme/library/sync"), 202)
    api.wait_for_task(task["id"])
    ok(api.delete("/packages/acme/library"))

    (create,) = _audit(backend, "package.create")
    assert create.resource_id == "acme/library" and create.actor == "root"
    assert create.after is not None and create.after["sync_task"] == created["sync_task"]["id"]
    assert [e.resource_id for e in _audit(backend, "version.yank")] == ["acme/library:1.0.0"]
    assert [e.after for e in _audit(backend, "version.unyank")] == [{"yanked": False}]
    (sync,) = _audit(backend, "package.sync_request")
    assert sync.after == {"task": task["id"]}
    (delete,) = _audit(backend, "package.delete")
    assert delete.before is not None and delete.before["repository_url"] == library_repo.url
    assert delete.after is None


# -- README ---------------------------------------------------------------------------------------


def test_readme_comes_from_the_default_branch(api: Api, make_library_repo: Callable[..., GitRepo]) -> None:
    repo = make_library_repo("acme/docs", tags=("1.0.0",))
    repo.write({"ReadMe.MD": "# Docs\n\nFrom main ✓\n", "docs/README.md": "not this one"})
    repo.commit("readme")
    api.add_package(repo.url)

    readme = ok(api.get("/packages/acme/docs/readme"))
    assert readme == {"filename": "ReadMe.MD", "content": "# Docs\n\nFrom main ✓\n", "ref": "main"}


def test_readme_falls_back_to_the_newest_stable_version(
    api: Api, make_library_repo: Callable[..., GitRepo]
) -> None:
    repo = make_library_repo("acme/docs", tags=("1.0.0",))
    repo.write({"README": "plain readme of 1.1.0"})
    repo.commit("readme")
    repo.tag("1.1.0")
    repo.write({"README": "readme of the beta"})
    repo.commit("beta")
    repo.tag("1.2.0-beta1")
    repo.write({"README": None})
    repo.commit("no readme on main")
    api.add_package(repo.url)

    assert ok(api.get("/packages/acme/docs/readme")) == {
        "filename": "README",
        "content": "plain readme of 1.1.0",
        "ref": "1.1.0",
    }


def test_readme_not_found(api: Api, library_repo: GitRepo) -> None:
    api.add_package(library_repo.url)
    error = err(api.get("/packages/acme/library/readme"), 404, "NOT_FOUND")
    assert "README" in error["message"]
    err(api.get("/packages/acme/unknown/readme"), 404, "NOT_FOUND")


def test_readme_of_an_upload_only_package_is_read_from_its_zip(api: Api, backend: Backend) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("acme-uploaded-2.0.0/composer.json", composer_json("acme/uploaded"))
        archive.writestr("acme-uploaded-2.0.0/readme.md", "Uploaded readme")
        archive.writestr("acme-uploaded-2.0.0/src/readme.md", "nested, not this")
    key = "dist/default/acme/uploaded/upload-2.0.0.zip"
    backend.runtime.storage.put_bytes(key, buffer.getvalue())
    with backend.runtime.session_factory() as session:
        session.add(Package(id="pkg_uploaded", name="acme/uploaded", repository_url=None, sync_warnings=[]))
        session.flush()
        session.add(
            Version(
                package_id="pkg_uploaded",
                version="2.0.0",
                version_normalized="2.0.0.0",
                reference="upload",
                source="upload",
                dist_key=key,
            )
        )
        session.commit()

    assert ok(api.get("/packages/acme/uploaded/readme")) == {
        "filename": "readme.md",
        "content": "Uploaded readme",
        "ref": "2.0.0",
    }
    # There is nothing to validate without a repository.
    err(api.post("/packages/acme/uploaded/validate"), 400, "VALIDATION_ERROR", field="name")


# -- validation -----------------------------------------------------------------------------------


def test_validate_reports_every_problem_per_ref_and_changes_nothing(api: Api, library_repo: GitRepo) -> None:
    api.add_package(library_repo.url)
    library_repo.write(
        {"composer.json": composer_json("acme/library", require={"php": ">=8.1", "x/y": "^^2"})}
    )
    library_repo.commit("bad constraint")
    library_repo.tag("4.0.0")
    library_repo.write({"composer.json": composer_json("acme/other")})
    library_repo.commit("wrong name")
    library_repo.tag("5.0.0")
    library_repo.tag("not-a-version")
    library_repo.write({"composer.json": None})
    library_repo.commit("no manifest")
    library_repo.tag("6.0.0")
    library_repo.write({"composer.json": composer_json("acme/library")})
    library_repo.commit("fine again")
    before = ok(api.get("/packages/acme/library"))

    report = ok(api.post("/packages/acme/library/validate"))
    assert report["valid"] is False
    assert report["refs_checked"] == len(library_repo.refs())  # tags and the main branch
    problems = {(p["ref"], p["kind"]) for p in report["problems"]}
    assert problems == {
        ("3.0.0", "invalid_json"),
        ("4.0.0", "invalid_constraint"),
        ("5.0.0", "name_mismatch"),
        ("not-a-version", "invalid_version"),
        ("6.0.0", "missing_composer_json"),
    }
    constraint = next(p for p in report["problems"] if p["kind"] == "invalid_constraint")
    assert "x/y" in constraint["message"] and "^^2" in constraint["message"]

    # Validation syncs nothing: same versions, same sync state.
    assert ok(api.get("/packages/acme/library")) == before


def test_validate_a_clean_repository(api: Api, make_library_repo: Callable[..., GitRepo]) -> None:
    repo = make_library_repo("acme/clean", tags=("1.0.0", "v1.1.0"))
    api.add_package(repo.url)
    assert ok(api.post("/packages/acme/clean/validate")) == {"valid": True, "problems": [], "refs_checked": 3}
    err(api.post("/packages/acme/unknown/validate"), 404, "NOT_FOUND")


# -- admin download -------------------------------------------------------------------------------


def test_admin_download_serves_any_version_including_yanked(api: Api, library_repo: GitRepo) -> None:
    api.add_package(library_repo.url)
    ok(api.post("/packages/acme/library/yank/1.0.0"))
    versions = {v["version"]: v for v in ok(api.get("/packages/acme/library"))["versions"]}

    response = api.get("/packages/acme/library/download/1.0.0")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "acme-library-1.0.0.zip" in response.headers["content-disposition"]
    assert hashlib.sha1(response.content).hexdigest() == versions["1.0.0"]["dist"]["sha1"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert "release 1.0.0" in archive.read("src/Lib.php").decode()
    # Normalized versions and branches work too.
    assert (
        api.get("/packages/acme/library/download/2.0.0.0").content
        == api.composer("/dist/acme/library/2.0.0.zip", ADMIN_TOKEN).content
    )
    assert api.get("/packages/acme/library/download/dev-main").status_code == 200

    err(api.get("/packages/acme/library/download/9.9.9"), 404, "NOT_FOUND")
    err(api.get("/packages/acme/nothing/download/1.0.0"), 404, "NOT_FOUND")
    err(api.get("/packages/acme/library/download/1.0.0", token=None), 401, "UNAUTHORIZED")


# -- webhook deliveries ---------------------------------------------------------------------------


def test_webhook_deliveries_of_a_package(
    api: Api, backend: Backend, make_library_repo: Callable[..., GitRepo]
) -> None:
    first = api.add_package(make_library_repo("acme/first", tags=("1.0.0",)).url)
    other = api.add_package(make_library_repo("acme/other", tags=("1.0.0",)).url)
    empty = api.get("/packages/acme/first/webhook-deliveries").json()
    assert empty == {
        "data": [],
        "error": None,
        "pagination": {"page": 1, "per_page": 20, "total": 0, "total_pages": 0},
    }

    now = datetime.now(UTC)
    with backend.runtime.session_factory() as session:
        for index, package_id in enumerate((first["id"], first["id"], other["id"])):
            session.add(
                WebhookDelivery(
                    package_id=package_id,
                    provider="github",
                    event="push",
                    delivery_id=f"delivery-{index}",
                    verified=True,
                    outcome="sync_queued",
                    task_ids=[f"task_{index}"],
                    created_at=now + timedelta(seconds=index),
                )
            )
        session.commit()

    listed = api.get("/packages/acme/first/webhook-deliveries", params={"per_page": 1}).json()
    assert listed["pagination"] == {"page": 1, "per_page": 1, "total": 2, "total_pages": 2}
    (newest,) = listed["data"]
    assert newest["delivery_id"] == "delivery-1"  # newest first, the other package's left out
    assert newest["provider"] == "github" and newest["event"] == "push" and newest["verified"] is True
    assert newest["outcome"] == "sync_queued" and newest["task_ids"] == ["task_1"]
    page2 = ok(api.get("/packages/acme/first/webhook-deliveries", params={"page": 2, "per_page": 1}))
    assert [d["delivery_id"] for d in page2] == ["delivery-0"]

    err(api.get("/packages/acme/unknown/webhook-deliveries"), 404, "NOT_FOUND")
    err(api.get("/packages/acme/first/webhook-deliveries", params={"per_page": 101}), 400, "VALIDATION_ERROR")
