"""Shared pytest configuration and fixtures for the Cargoman test suite."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    # Make `import tests.support...` work whatever pytest's import mode / rootdir is.
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.gitrepo import GitRepo  # noqa: E402
from tests.support.postgres import (  # noqa: E402
    PostgresCluster,
    skip_or_fail_without_postgres,
    start_postgres,
)
from tests.support.server import RegistryServer  # noqa: E402


@pytest.fixture(scope="session")
def postgres_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL cluster for the whole test session.

    Skips when PostgreSQL cannot run here, unless CARGOMAN_REQUIRE_POSTGRES=1
    (set by scripts/test), in which case the fixture fails with the reason.
    """
    skip_or_fail_without_postgres()
    cluster = start_postgres(tmp_path_factory.mktemp("postgres"))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty database created for this test only."""
    url = postgres_cluster.create_database()
    yield url
    postgres_cluster.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture
def make_git_repo(tmp_path: Path) -> Callable[..., GitRepo]:
    """Factory: ``make_git_repo("name", default_branch="main")`` -> GitRepo under tmp_path/repos."""

    def factory(name: str = "repo", default_branch: str = "main") -> GitRepo:
        return GitRepo.init(tmp_path / "repos" / name, default_branch=default_branch)

    return factory


@pytest.fixture
def start_registry(tmp_path: Path) -> Iterator[Callable[..., RegistryServer]]:
    """Factory: ``start_registry(**RegistryServer kwargs)`` -> a running RegistryServer.

    Servers live in tmp_path/registry-N and are stopped at teardown; their log
    is printed (shown by pytest for failing tests).
    """
    servers: list[RegistryServer] = []

    def factory(**kwargs: Any) -> RegistryServer:
        server = RegistryServer(tmp_path / f"registry-{len(servers)}", **kwargs)
        servers.append(server)
        return server.start()

    yield factory
    for server in servers:
        server.stop()
        print(f"----- {server.log_path} -----\n{server.log_tail()}")
