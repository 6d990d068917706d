"""The real composer client installs a version that was published by uploading a zip."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.support.composer_client import ComposerProject, composer_available, describe
from tests.support.server import RegistryServer

pytestmark = pytest.mark.e2e


def _release_zip(version: str) -> bytes:
    """A zip as a release tool makes it: everything inside one top folder."""
    manifest = {
        "name": "acme/uploaded",
        "description": "published by upload",
        "version": version,
        "autoload": {"psr-4": {"Acme\\Uploaded\\": "src/"}},
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"uploaded-{version}/composer.json", json.dumps(manifest))
        archive.writestr(
            f"uploaded-{version}/src/Release.php",
            f"<?php\nnamespace Acme\\Uploaded;\nconst RELEASE = '{version}';\n",
        )
    return buffer.getvalue()


def test_composer_installs_an_uploaded_version(
    start_registry: Callable[..., RegistryServer], tmp_path: Path
) -> None:
    reason = composer_available()
    if reason:
        pytest.fail(f"the composer client is required: {reason}")
    server = start_registry()
    for version in ("1.0.0", "1.1.0"):
        uploaded = server.api(
            "POST",
            "/packages/acme/uploaded/upload",
            files={"file": (f"uploaded-{version}.zip", _release_zip(version), "application/zip")},
        )
        assert uploaded.status_code == 201, uploaded.text
    customer = server.api("POST", "/customers", json={"name": "Upload customer"})
    assert customer.status_code == 201, customer.text
    customer_id, token = customer.json()["data"]["id"], customer.json()["data"]["token"]
    granted = server.api(
        "POST", f"/customers/{customer_id}/packages", json={"package": "acme/uploaded", "constraint": "^1.0"}
    )
    assert granted.status_code == 201, granted.text

    project = ComposerProject(tmp_path / "project", server.url, token)
    result = project.require("acme/uploaded:^1.0")
    assert result.returncode == 0, describe(result)
    assert project.installed() == {"acme/uploaded": "1.1.0"}
    installed = project.path / "vendor/acme/uploaded"
    # The top folder of the uploaded zip is gone: the package root is the install directory.
    assert "'1.1.0'" in (installed / "src/Release.php").read_text()
    assert json.loads((installed / "composer.json").read_text())["name"] == "acme/uploaded"
    (locked,) = project.lock()["packages"]
    files = server.api("GET", "/packages/acme/uploaded/files").json()["data"]
    assert locked["dist"]["shasum"] == next(f["sha1"] for f in files if f["version"] == "1.1.0")
