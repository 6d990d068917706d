"""Fixtures for the gitsync tests: hermetic git config and a password-protected git HTTP server."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.support.git_http import GitHttpServer, GitRequest

HTTP_USERNAME = "deploy"
HTTP_TOKEN = "tok-3f9a-very-secret"


@pytest.fixture(autouse=True)
def _hermetic_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mirror inherits os.environ: keep the developer's git config (insteadOf, helpers...) out of it."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@dataclass
class ProtectedGitServer:
    """`git http-backend` behind Basic auth; serves the repositories below ``root``."""

    root: Path
    url: str
    username: str = HTTP_USERNAME
    token: str = HTTP_TOKEN
    authorizations: list[str | None] = field(default_factory=list)


@pytest.fixture
def git_http_server(tmp_path: Path) -> Iterator[ProtectedGitServer]:
    root = tmp_path / "served"
    root.mkdir()
    expected = "Basic " + base64.b64encode(f"{HTTP_USERNAME}:{HTTP_TOKEN}".encode()).decode()
    authorizations: list[str | None] = []

    def authorize(request: GitRequest) -> bool:
        authorizations.append(request.authorization)
        return request.authorization == expected

    with GitHttpServer(root, authorize) as server:
        yield ProtectedGitServer(root=root, url=server.url, authorizations=authorizations)
