"""A fake GitHub with a freshly generated app key, and settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.fake_github import AppKeys, FakeGitHub, generate_app_keys

from cargoman.config import Settings
from cargoman.github_app.config import AppConfig, require_app_config
from cargoman.github_app.tokens import TOKEN_CACHE

APP_ID = "424242"


@pytest.fixture(scope="session")
def app_keys() -> AppKeys:
    return generate_app_keys()


@pytest.fixture
def fake_github(tmp_path: Path, app_keys: AppKeys) -> Iterator[FakeGitHub]:
    TOKEN_CACHE.clear()
    with FakeGitHub(tmp_path / "github", APP_ID, app_keys) as github:
        yield github
    TOKEN_CACHE.clear()


def settings_for(github: FakeGitHub, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": f"sqlite:///{tmp_path / 'cargoman.db'}",
        "data_dir": tmp_path / "data",
        "storage_path": tmp_path / "data" / "packages",
        "allow_local_repositories": True,
        "github_app_id": APP_ID,
        "github_app_private_key": github.keys.private_pem,
        "github_app_slug": github.slug,
        "github_url": github.url,
        "github_api_url": github.api_url,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def app_config(fake_github: FakeGitHub, tmp_path: Path) -> AppConfig:
    return require_app_config(settings_for(fake_github, tmp_path))
