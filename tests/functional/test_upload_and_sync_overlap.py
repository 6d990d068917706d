"""An uploaded version and a Git tag naming the same version: the upload stays, the tag is skipped."""

from __future__ import annotations

from collections.abc import Callable

from tests.functional.conftest import Api, ok
from tests.support.gitrepo import GitRepo, composer_json
from tests.support.uploads import package_zip, upload


def test_a_tag_naming_an_uploaded_version_is_skipped_with_a_warning(
    api: Api, make_library_repo: Callable[..., GitRepo]
) -> None:
    repo = make_library_repo("acme/library", tags=("1.0.0",))
    api.add_package(repo.url)
    uploaded = ok(upload(api, "acme/library", package_zip("acme/library"), version="2.0.0"), 201)

    repo.write({"composer.json": composer_json("acme/library", description="tagged")})
    repo.commit("release 2.0.0 from git")
    repo.tag("2.0.0")
    task = ok(api.post("/packages/acme/library/sync"), 202)
    assert api.wait_for_task(task["id"])["status"] == "completed"

    package = ok(api.get("/packages/acme/library"))
    versions = {v["version"]: v for v in package["versions"]}
    assert versions["2.0.0"]["dist"]["sha1"] == uploaded["version"]["dist"]["sha1"]
    assert versions["2.0.0"]["reference"] != repo.head()
    assert any(w["ref"] == "2.0.0" and "upload" in w["message"] for w in package["sync_warnings"])
