"""Fixtures for the functional REST tests: the app in-process, on SQLite and on PostgreSQL.

Every test that asks for ``api`` (or ``app_settings``/``database_url``) runs twice: once on a SQLite
file under tmp_path and once on a fresh PostgreSQL database (``postgres_url`` from tests/conftest.py).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from tests.support.gitrepo import GitRepo, composer_json

from cargoman.app import CargomanApp, create_app
from cargoman.config import Settings

ADMIN_TOKEN = "functional-admin-token-0123456789"
TASK_TIMEOUT = 30.0
FINAL_TASK_STATES = ("completed", "failed")


@pytest.fixture(autouse=True)
def _hermetic_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sync worker runs git with os.environ: keep the developer's git config out of it."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cargoman.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def app_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        storage_path=tmp_path / "data" / "packages",
        admin_token=ADMIN_TOKEN,
        base_url="http://testserver",
        allow_local_repositories=True,
        task_num_workers=1,
    )


@pytest.fixture
def app(app_settings: Settings) -> CargomanApp:
    return create_app(app_settings)


# -- response helpers -----------------------------------------------------------------------------


def ok(response: httpx.Response, status: int = 200) -> Any:
    """Assert a success envelope with ``status``; return its ``data``."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert body["error"] is None, body
    assert "data" in body
    return body["data"]


def err(
    response: httpx.Response, status: int, code: str, field: str | None = None, field_contains: bool = False
) -> dict[str, Any]:
    """Assert an error envelope; with ``field``, that the error names it (field and message)."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert body["data"] is None, body
    error: dict[str, Any] = body["error"]
    assert error["code"] == code, body
    assert isinstance(error["message"], str) and error["message"], body
    if field is not None:
        if field_contains:
            assert field in (error.get("field") or ""), body
        else:
            assert error.get("field") == field, body
        assert field.split(".")[0].split("[")[0] in error["message"], body
    return error


def basic(secret: str) -> dict[str, str]:
    """The Authorization header composer sends for http-basic ``token:<secret>``."""
    return {"Authorization": "Basic " + base64.b64encode(f"token:{secret}".encode()).decode()}


# -- the client ----------------------------------------------------------------------------------------


@dataclass
class Api:
    """The TestClient plus the admin bearer token and a few shortcuts."""

    client: TestClient
    admin_token: str = ADMIN_TOKEN

    def _headers(self, token: str | None, headers: dict[str, str] | None) -> dict[str, str]:
        merged = {"Authorization": f"Bearer {token}"} if token is not None else {}
        merged.update(headers or {})
        return merged

    def request(
        self, method: str, path: str, *, token: str | None = ADMIN_TOKEN, headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:  # fmt: skip
        url = path if path.startswith("/packages.json") or path.startswith("/p2/") else f"/api/v1{path}"
        return self.client.request(method, url, headers=self._headers(token, headers), **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def composer(self, path: str, secret: str | None) -> httpx.Response:
        """GET a Composer endpoint (``/packages.json``...) with http-basic ``token:<secret>``."""
        return self.client.get(path, headers=basic(secret) if secret is not None else {})

    # -- shortcuts ------------------------------------------------------------------------------

    def create_customer(self, name: str = "Acme Corp", **fields: Any) -> dict[str, Any]:
        data: dict[str, Any] = ok(self.post("/customers", json={"name": name, **fields}), 201)
        return data

    def add_package(self, repository_url: str, name: str | None = None, wait: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {"repository_url": repository_url}
        if name is not None:
            body["name"] = name
        data: dict[str, Any] = ok(self.post("/packages", json=body), 201)
        if wait:
            task = self.wait_for_task(data["sync_task"]["id"])
            assert task["status"] == "completed", task
        return data

    def wait_for_task(self, task_id: str, timeout: float = TASK_TIMEOUT) -> dict[str, Any]:
        """Poll ``GET /api/v1/tasks/{id}`` until the task is completed or failed."""
        deadline = time.monotonic() + timeout
        while True:
            task: dict[str, Any] = ok(self.get(f"/tasks/{task_id}"))
            if task["status"] in FINAL_TASK_STATES:
                return task
            if task["status"] == "pending" and task["attempts"] > 0:
                return task  # failed once and waiting for a retry: report it rather than wait minutes
            if time.monotonic() > deadline:
                raise AssertionError(f"task {task_id} not finished after {timeout}s: {task}")
            time.sleep(0.05)


@pytest.fixture
def api(app: CargomanApp) -> Iterator[Api]:
    """The app driven in-process; the context manager runs the lifespan (task worker included)."""
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client)


# -- git fixtures ----------------------------------------------------------------------------------


def build_library_repo(
    make_git_repo: Callable[..., GitRepo], name: str = "acme/library", dirname: str | None = None,
    tags: tuple[str, ...] = ("1.0.0", "1.1.0", "2.0.0"), broken_tag: str | None = None,
) -> GitRepo:  # fmt: skip
    """A small repository of package ``name``: one commit per tag, optionally a broken tag on top."""
    repo = make_git_repo(dirname or name.replace("/", "-"))
    for index, tag in enumerate(tags):
        repo.write(
            {
                "composer.json": composer_json(name, description=f"{name} library", license="MIT"),
                "src/Lib.php": f"<?php\n// release {tag} ({index})\n",
            }
        )
        repo.commit(f"release {tag}")
        repo.tag(tag)
    if broken_tag is not None:
        repo.write({"composer.json": "{ this is not json"})
        repo.commit("broken manifest")
        repo.tag(broken_tag)
        # Keep the default branch valid: the broken manifest lives only in the tag.
        repo.write({"composer.json": composer_json(name, description=f"{name} library", license="MIT")})
        repo.commit("fix manifest")
    return repo


@pytest.fixture
def library_repo(make_git_repo: Callable[..., GitRepo]) -> GitRepo:
    return build_library_repo(make_git_repo, broken_tag="3.0.0")
