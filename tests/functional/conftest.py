"""Fixtures for the functional REST tests: the app in-process, on SQLite and on PostgreSQL.

Every test that asks for ``api`` (or ``backend``) runs twice: once on a SQLite file under a temporary
directory and once on a fresh PostgreSQL database of the session's throwaway cluster (the one behind
``postgres_url`` in tests/conftest.py). The app is built once per database kind and every test starts
from an emptied registry (see ``Backend.reset``).
"""

from __future__ import annotations

import base64
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, inspect, select, text, update
from starlette.testclient import TestClient
from tests.support.gitrepo import GitRepo, composer_json
from tests.support.postgres import PostgresCluster

from cargoman.app import CargomanApp, create_app
from cargoman.composer.metadata import expand
from cargoman.config import Settings
from cargoman.db.models import Base, Task, Tenant
from cargoman.runtime import Runtime

ADMIN_TOKEN = "functional-admin-token-0123456789"
TASK_TIMEOUT = 30.0
FINAL_TASK_STATES = ("completed", "failed")


@pytest.fixture(scope="session", autouse=True)
def _hermetic_git() -> Iterator[None]:
    """The sync worker runs git with os.environ: keep the developer's git config out of it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        yield


@dataclass
class Backend:
    """One running app (and its database) shared by the tests of one database kind."""

    kind: str
    database_url: str
    settings: Settings
    app: CargomanApp
    client: TestClient

    @property
    def runtime(self) -> Runtime:
        return self.app.runtime

    def reset(self) -> None:
        """Back to an empty registry: no running task, no rows but the tenant's, no stored files."""
        deadline = time.monotonic() + TASK_TIMEOUT
        busy = select(func.count()).select_from(Task).where(Task.status == "running")
        while True:
            with self.runtime.session_factory() as session:
                running = session.scalar(busy)
            if not running:
                break
            if time.monotonic() > deadline:
                raise AssertionError("a task of the previous test is still running")
            time.sleep(0.05)
        self.app.api.state.recorder.flush()  # usage of the previous test lands before the wipe
        tables = [
            name
            for name in inspect(self.runtime.engine).get_table_names()
            if name not in ("alembic_version", "tenants")
        ]
        with self.runtime.engine.begin() as conn:
            if self.kind == "postgres":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
            else:
                for table in reversed(Base.metadata.sorted_tables):
                    if table.name in tables:
                        conn.execute(table.delete())
            conn.execute(update(Tenant).values(last_change_at=None))
        shutil.rmtree(self.settings.storage_path, ignore_errors=True)
        shutil.rmtree(self.settings.mirrors_path, ignore_errors=True)
        self.runtime.notify_changed()  # drop whatever the Composer endpoints cached


@contextmanager
def start_backend(request: pytest.FixtureRequest, root: Path, **overrides: Any) -> Iterator[Backend]:
    """The app with the test settings (and ``overrides``) on a database of the kind ``request.param``
    names: a SQLite file under ``root`` or a fresh PostgreSQL database, dropped afterwards."""
    kind: str = request.param
    cluster: PostgresCluster | None = None
    if kind == "sqlite":
        url = f"sqlite:///{root / 'cargoman.db'}"
    else:
        cluster = request.getfixturevalue("postgres_cluster")
        url = cluster.create_database()
    defaults: dict[str, Any] = {
        "database_url": url,
        "data_dir": root / "data",
        "storage_path": root / "data" / "packages",
        "admin_token": ADMIN_TOKEN,
        "base_url": "http://testserver",
        "allow_local_repositories": True,
        "task_num_workers": 1,
    }
    settings = Settings(**(defaults | overrides))
    app = create_app(settings)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Backend(kind=kind, database_url=url, settings=settings, app=app, client=client)
    finally:
        if cluster is not None:
            cluster.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """The app on a SQLite file or on a fresh PostgreSQL database, started once per database kind.

    Building the app (FastAPI routes, migrations) costs about half a second; doing it once per
    database kind and emptying the tables before every test keeps the suite fast while every test
    still starts from an empty registry.
    """
    with start_backend(request, tmp_path_factory.mktemp(f"functional-{request.param}")) as started:
        yield started


# -- response helpers -----------------------------------------------------------------------------


def ok(response: httpx.Response, status: int = 200) -> Any:
    """Assert a success envelope with ``status``; return its ``data``."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert body["error"] is None, body
    assert "data" in body
    return body["data"]


def err(response: httpx.Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """Assert an error envelope; with ``field``, that the error names it (field and message)."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert body["data"] is None, body
    error: dict[str, Any] = body["error"]
    assert error["code"] == code, body
    assert isinstance(error["message"], str) and error["message"], body
    if field is not None:
        assert error.get("field") == field, body
        assert field in error["message"], body
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
        self,
        method: str,
        path: str,
        *,
        token: str | None = ADMIN_TOKEN,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        return self.client.request(method, f"/api/v1{path}", headers=self._headers(token, headers), **kwargs)

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
        """GET a Composer endpoint (``/packages.json``, ``/p2/...``, ``/dist/...``) as composer does,
        with http-basic ``token:<secret>``."""
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
def api(backend: Backend) -> Api:
    """The app driven in-process (the lifespan, so the task worker, runs), on an empty registry."""
    backend.reset()
    return Api(backend.client)


# -- git fixtures ----------------------------------------------------------------------------------


def build_library_repo(
    repo: GitRepo, name: str, tags: tuple[str, ...], broken_tag: str | None = None
) -> GitRepo:
    """Fill ``repo`` as package ``name``: one commit per tag, optionally a broken tag on top."""
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


@pytest.fixture(scope="session")
def _repo_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[Any, Any]:
    """Fixture repositories built once per session (git is slow to run), copied for each test."""
    return {"root": tmp_path_factory.mktemp("repo-templates")}


@pytest.fixture
def make_library_repo(tmp_path: Path, _repo_templates: dict[Any, Any]) -> Callable[..., GitRepo]:
    """Factory: ``make_library_repo("acme/x", tags=(...), broken_tag=None)`` -> a fresh GitRepo.

    Every call gives the test its own copy (it may add commits or delete the repository); the same
    arguments always give the same commit SHAs.
    """
    copies: list[Path] = []

    def factory(
        name: str = "acme/library",
        tags: tuple[str, ...] = ("1.0.0", "1.1.0", "2.0.0"),
        broken_tag: str | None = None,
    ) -> GitRepo:
        key = (name, tuple(tags), broken_tag)
        template: GitRepo | None = _repo_templates.get(key)
        if template is None:
            root: Path = _repo_templates["root"]
            template = GitRepo.init(root / f"template-{len(_repo_templates)}")
            build_library_repo(template, name, tuple(tags), broken_tag)
            _repo_templates[key] = template
        target = tmp_path / "repos" / f"{name.replace('/', '-')}-{len(copies)}"
        shutil.copytree(template.path, target, symlinks=True)
        copies.append(target)
        repo = GitRepo(target)
        repo._tick = template._tick  # later commits keep getting later dates
        return repo

    return factory


@pytest.fixture
def library_repo(make_library_repo: Callable[..., GitRepo]) -> GitRepo:
    """acme/library with tags 1.0.0, 1.1.0, 2.0.0 and a tag 3.0.0 whose composer.json is broken."""
    return make_library_repo("acme/library", broken_tag="3.0.0")


def p2_versions(api: Api, package: str, secret: str) -> list[str]:
    """Pretty versions of the tagged releases ``/p2/{package}.json`` shows to ``secret``."""
    response = api.composer(f"/p2/{package}.json", secret)
    assert response.status_code == 200, response.text
    return [entry["version"] for entry in expand(response.json()["packages"][package])]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres_only` exercise PostgreSQL row locking; their SQLite variant is dropped.
    Tests marked `sqlite_only` exercise SQLite's database-wide write lock; their PostgreSQL variant is
    dropped."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec else None
        if (item.get_closest_marker("postgres_only") and backend == "sqlite") or (
            item.get_closest_marker("sqlite_only") and backend == "postgres"
        ):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
