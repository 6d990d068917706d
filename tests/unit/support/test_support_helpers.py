"""Tests for the test-support helpers themselves (tests/support)."""

from __future__ import annotations

import email.utils
import http.server
import io
import json
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.composer_client import (
    ComposerProject,
    cache_reads,
    composer_available,
    describe,
    dists_from_cache,
    http_exchanges,
    urls_with_status,
)
from tests.support.gitrepo import GitRepo, composer_json
from tests.support.postgres import PostgresCluster, skip_or_fail_without_postgres, start_postgres
from tests.support.server import RegistryServer, ServerError

# --------------------------------------------------------------------------- PostgreSQL


def test_postgres_cluster_fixture_accepts_connections(postgres_cluster: PostgresCluster) -> None:
    import psycopg

    assert postgres_cluster.running
    assert postgres_cluster.url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    assert postgres_cluster.url.endswith(f":{postgres_cluster.port}/cargoman")
    with psycopg.connect(postgres_cluster.libpq_url) as conn:
        row = conn.execute("SELECT current_database(), current_setting('fsync')").fetchone()
    assert row == ("cargoman", "off")


def test_postgres_url_fixture_gives_a_fresh_database(postgres_url: str) -> None:
    import psycopg

    libpq = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq) as conn:
        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (1)")
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_start_postgres_create_database_and_stop(tmp_path: Path) -> None:
    skip_or_fail_without_postgres()
    import psycopg

    cluster = start_postgres(tmp_path)
    cluster_dir = cluster.dir
    try:
        assert cluster_dir is not None and cluster_dir.is_dir()
        settings = {}
        with psycopg.connect(cluster.libpq_url) as conn:
            for name in ("synchronous_commit", "full_page_writes", "listen_addresses"):
                row = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
                assert row is not None
                settings[name] = row[0]
        assert settings == {
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "listen_addresses": "127.0.0.1",
        }

        url = cluster.create_database("isolated_one")
        assert url == f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/isolated_one"
        with psycopg.connect(cluster.url_for("isolated_one", driver="postgresql")) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("isolated_one",)
        with pytest.raises(ValueError):
            cluster.create_database("bad; name")
    finally:
        cluster.stop()
    assert not cluster.running
    assert not cluster_dir.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(cluster.libpq_url, connect_timeout=2)
    cluster.stop()  # idempotent


def test_postgres_cluster_as_context_manager(tmp_path: Path) -> None:
    skip_or_fail_without_postgres()
    import psycopg

    with PostgresCluster(tmp_path, dbname="ctx_db") as cluster:
        assert cluster.data_dir.joinpath("PG_VERSION").exists()
        with psycopg.connect(cluster.libpq_url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        cluster_dir = cluster.dir
    assert cluster_dir is not None and not cluster_dir.exists()


# --------------------------------------------------------------------------- Git


def test_gitrepo_commits_tags_branches(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "pkg")
    repo.write({"composer.json": composer_json("acme/foo"), "src/Foo.php": "<?php\n", "bin/x": b"\x00\x01"})
    first = repo.commit("initial")
    assert repo.head() == first and len(first) == 40
    assert repo.current_branch() == "main"

    repo.tag("v1.0.0")
    repo.tag("v1.1.0-annotated", annotated=True, message="release 1.1")
    repo.branch("feature/x")
    repo.checkout("feature/x")
    repo.write({"src/Foo.php": None, "src/Bar.php": "<?php // bar\n"})
    second = repo.commit("feature work")
    assert second != first
    repo.checkout("main")
    assert repo.head() == first
    assert not (repo.path / "src/Bar.php").exists()

    refs = repo.git("for-each-ref", "--format=%(refname) %(objecttype) %(objectname)").splitlines()
    by_name = {line.split()[0]: line.split()[1:] for line in refs}
    assert by_name["refs/heads/main"] == ["commit", first]
    assert by_name["refs/heads/feature/x"] == ["commit", second]
    assert by_name["refs/tags/v1.0.0"] == ["commit", first]
    assert by_name["refs/tags/v1.1.0-annotated"][0] == "tag"
    assert repo.rev_parse("v1.1.0-annotated") == first
    assert repo.git("show", "-s", "--format=%B", "feature/x") == "feature work"
    assert repo.git("ls-tree", "-r", "--name-only", "feature/x").splitlines() == [
        "bin/x",
        "composer.json",
        "src/Bar.php",
    ]

    repo.delete_tag("v1.0.0")
    repo.delete_branch("feature/x")
    assert set(repo.refs()) == {"refs/heads/main", "refs/tags/v1.1.0-annotated"}
    repo.branch("from-start", start=first)
    assert repo.refs()["refs/heads/from-start"] == first


def test_gitrepo_is_deterministic_and_ignores_global_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A hostile global config must not leak in.
    bad_global = tmp_path / "gitconfig"
    bad_global.write_text("[user]\n\tname = Somebody Else\n[commit]\n\tgpgsign = true\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".gitconfig").write_text(bad_global.read_text())
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(bad_global))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Leaked")

    shas = []
    for name in ("a", "b"):
        repo = GitRepo.init(tmp_path / name, default_branch="trunk")
        repo.write({"README": "hello\n"})
        c1 = repo.commit("one")
        repo.write({"README": "hello again\n"})
        c2 = repo.commit("two")
        shas.append((c1, c2))
        assert repo.current_branch() == "trunk"
        assert repo.git("log", "-1", "--format=%an <%ae> %at %cn %ct") == (
            "Cargoman Tests <tests@cargoman.invalid> 1704067260 Cargoman Tests 1704067260"
        )
    assert shas[0] == shas[1]
    assert shas[0][0] != shas[0][1]


def test_composer_json_helper() -> None:
    doc = json.loads(
        composer_json(
            "acme/foo",
            version="1.2.3",
            require={"php": ">=8.1"},
            autoload={"psr-4": {"Acme\\Foo\\": "src/"}},
            extra={"branch-alias": {"dev-main": "1.x-dev"}},
            require_dev={"acme/bar": "^1"},
            type="library",
            description=None,
        )
    )
    assert doc == {
        "name": "acme/foo",
        "version": "1.2.3",
        "require": {"php": ">=8.1"},
        "autoload": {"psr-4": {"Acme\\Foo\\": "src/"}},
        "extra": {"branch-alias": {"dev-main": "1.x-dev"}},
        "require-dev": {"acme/bar": "^1"},
        "type": "library",
    }
    assert json.loads(composer_json("acme/min")) == {"name": "acme/min"}


# --------------------------------------------------------------------------- composer client

needs_composer = pytest.mark.skipif(composer_available() is not None, reason=str(composer_available()))


@needs_composer
def test_composer_project_runs_real_composer_isolated(tmp_path: Path) -> None:
    project = ComposerProject(tmp_path / "proj", "http://127.0.0.1:9/", token="s3cret")

    version = project.run("--version")
    assert version.returncode == 0, describe(version)
    assert "Composer" in version.stdout and "--no-ansi" in version.args

    manifest = project.manifest()
    assert manifest["repositories"] == [
        {"type": "composer", "url": "http://127.0.0.1:9"},
        {"packagist.org": False},
    ]
    assert manifest["config"] == {"secure-http": False, "allow-plugins": False}
    assert manifest["minimum-stability"] == "stable" and manifest["prefer-stable"] is True

    validate = project.run("validate", "--no-check-publish")
    assert validate.returncode == 0, describe(validate)

    home = project.run("config", "--global", "home")
    assert home.returncode == 0, describe(home)
    assert home.stdout.strip() == str(project.home_dir)
    cache = project.run("config", "cache-dir")
    assert cache.stdout.strip() == str(project.cache_dir)

    env = project.env()
    assert json.loads(env["COMPOSER_AUTH"]) == {
        "http-basic": {"127.0.0.1:9": {"username": "token", "password": "s3cret"}}
    }
    assert "COMPOSER_DISABLE_NETWORK" not in env
    assert "COMPOSER_AUTH" not in project.env(token=None)
    assert project.installed() == {}

    shared = tmp_path / "shared-cache"
    other = ComposerProject(
        tmp_path / "other", "http://example.test", None, cache_dir=shared, minimum_stability="dev"
    )
    assert other.cache_dir == shared.resolve() and other.manifest()["minimum-stability"] == "dev"
    assert "COMPOSER_AUTH" not in other.env()


class _FakeRepoHandler(http.server.BaseHTTPRequestHandler):
    """A minimal Composer v2 repository with one package and 304 support."""

    last_modified = email.utils.formatdate(time.time() - 60, usegmt=True)
    requests: list[tuple[str, str | None]] = []

    def log_message(self, format: str, *args: object) -> None:  # silence
        pass

    def _send(self, status: int, body: bytes = b"", ctype: str = "application/json") -> None:
        self.send_response(status)
        if status == 200:
            self.send_header("Content-Type", ctype)
            self.send_header("Last-Modified", self.last_modified)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.requests.append((self.path, self.headers.get("Authorization")))
        if self.headers.get("Authorization") is None:
            return self._send(401)
        base = "http://{}:{}".format(*self.server.server_address[:2])  # type: ignore[index]
        if self.path == "/packages.json":
            doc = {"packages": [], "metadata-url": "/p2/%package%.json", "available-packages": ["acme/foo"]}
            return self._send(200, json.dumps(doc).encode())
        if self.path == "/p2/acme/foo.json":
            if self.headers.get("If-Modified-Since") == self.last_modified:
                return self._send(304)
            version = {
                "name": "acme/foo",
                "version": "1.0.0",
                "version_normalized": "1.0.0.0",
                "type": "library",
                "dist": {"type": "zip", "url": f"{base}/dist/acme-foo-1.0.0.zip", "reference": "abc"},
            }
            return self._send(200, json.dumps({"packages": {"acme/foo": [version]}}).encode())
        if self.path == "/dist/acme-foo-1.0.0.zip":
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as zf:
                zf.writestr("composer.json", composer_json("acme/foo"))
                zf.writestr("src/Foo.php", "<?php\n")
            return self._send(200, buf.getvalue(), "application/zip")
        return self._send(404)


@pytest.fixture
def fake_repo() -> Iterator[str]:
    _FakeRepoHandler.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeRepoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@needs_composer
def test_composer_project_require_and_verbose_output_parsing(tmp_path: Path, fake_repo: str) -> None:
    project = ComposerProject(tmp_path / "proj", fake_repo, token="tok")
    first = project.require("acme/foo:^1.0", verbose=True)
    assert first.returncode == 0, describe(first)
    assert project.installed() == {"acme/foo": "1.0.0"}
    assert [p["name"] for p in project.lock()["packages"]] == ["acme/foo"]
    assert (fake_repo + "/packages.json") in urls_with_status(first, 200)
    # http-basic with username "token": base64("token:tok")
    assert {auth for _, auth in _FakeRepoHandler.requests} == {"Basic dG9rZW46dG9r"}
    dist_requests = [p for p, _ in _FakeRepoHandler.requests if p.startswith("/dist/")]
    assert dist_requests == ["/dist/acme-foo-1.0.0.zip"]

    project.remove_vendor(lock=True)
    second = project.update(verbose=True)
    assert second.returncode == 0, describe(second)
    assert urls_with_status(second, 304) == [fake_repo + "/p2/acme/foo.json"]
    assert any(p.endswith("provider-acme~foo.json") for p in cache_reads(second))
    assert dists_from_cache(second) == {"acme/foo": "1.0.0"}
    assert [p for p, _ in _FakeRepoHandler.requests if p.startswith("/dist/")] == dist_requests

    denied = ComposerProject(tmp_path / "denied", fake_repo, token=None).require("acme/foo", verbose=True)
    assert denied.returncode != 0
    assert http_exchanges(denied)[0].status == 401


# --------------------------------------------------------------------------- registry server

_FAKE_SERVER = r"""
import http.server, os, signal, sys
port = int(sys.argv[sys.argv.index("--port") + 1])
ignore_term = os.environ.get("FAKE_IGNORE_TERM") == "1"
if ignore_term:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("fake server starting", os.environ["BASE_URL"], flush=True)
if os.environ.get("FAKE_CRASH") == "1":
    print("boom: cannot start", file=sys.stderr, flush=True)
    sys.exit(3)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/packages.json":
            self.send_response(401); self.send_header("Content-Length", "0"); self.end_headers(); return
        body = (self.headers.get("Authorization") or "").encode() + b"|" + os.environ["ADMIN_TOKEN"].encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
"""


class _FakeRegistry(RegistryServer):
    """RegistryServer whose command is a stand-in script (the real `serve` is tested elsewhere)."""

    @property
    def command(self) -> list[str]:
        script = self.tmp_dir / "fake_server.py"
        script.write_text(_FAKE_SERVER)
        return [sys.executable, str(script), "--host", "127.0.0.1", "--port", str(self.port)]


def test_registry_server_lifecycle_with_a_stand_in(tmp_path: Path) -> None:
    real = RegistryServer(tmp_path / "real")
    assert real.command[1:4] == ["-m", "cargoman", "serve"]
    env = real.env
    assert env["DATABASE_URL"] == f"sqlite:///{tmp_path}/real/cargoman.db"
    assert env["STORAGE_PATH"] == f"{tmp_path}/real/packages" and env["DATA_DIR"] == f"{tmp_path}/real"
    assert env["BASE_URL"] == real.url and env["ALLOW_LOCAL_REPOSITORIES"] == "true"
    assert env["ADMIN_TOKEN"] == real.admin_token

    with _FakeRegistry(tmp_path / "fake", env={"EXTRA": "1"}) as server:
        assert server.running
        resp = server.api("GET", "/whoami")
        assert resp.status_code == 200
        assert resp.text == f"Bearer {server.admin_token}|{server.admin_token}"
        port = server.port
        assert server.kill() == -9
        assert not server.running
        with pytest.raises(httpx.ConnectError):
            httpx.get(server.url + "/packages.json", timeout=2)
        server.start()
        assert server.port == port and server.request("GET", "/packages.json").status_code == 401
        server.restart(env={"FAKE_IGNORE_TERM": "1"})
        started = time.monotonic()
        assert server.stop(timeout=1) == -9  # SIGTERM ignored -> SIGKILL after the timeout
        assert time.monotonic() - started < 8
    assert "fake server starting" in server.log_text()
    assert server.log_text().count("===== start #") == 3


def test_registry_server_reports_startup_crash(tmp_path: Path) -> None:
    server = _FakeRegistry(tmp_path, env={"FAKE_CRASH": "1"})
    with pytest.raises(ServerError, match=r"(?s)exited with code 3.*boom: cannot start"):
        server.start()
    assert not server.running


def test_support_package_importable_from_a_subprocess() -> None:
    # conftest puts the repo root on sys.path; a child run from the repo root sees it too.
    root = Path(__file__).resolve().parents[3]
    proc = subprocess.run(
        [sys.executable, "-c", "import tests.support.gitrepo"], cwd=root, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
