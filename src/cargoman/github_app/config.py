"""The GitHub App's identity from settings, and the errors GitHub App operations raise."""

from __future__ import annotations

from dataclasses import dataclass, field

from cargoman.config import Settings
from cargoman.errors import CargomanError


class GitHubAppNotConfigured(CargomanError):
    code = "GITHUB_APP_NOT_CONFIGURED"
    status = 409


class GitHubApiError(CargomanError):
    """GitHub refused or failed a request; the message never carries a token or JWT."""

    code = "GITHUB_API_ERROR"
    status = 502


@dataclass(frozen=True)
class AppConfig:
    app_id: str
    private_key: str = field(repr=False)
    slug: str | None
    web_url: str  # GITHUB_URL: where installations are made and repositories live
    api_url: str  # GITHUB_API_URL: api.github.com or a GitHub Enterprise Server's /api/v3


def normalize_private_key(raw: str) -> str:
    """Accept a PEM given on one line with literal ``\\n`` escapes (as env files often carry it)."""
    key = raw.strip().strip('"').strip()
    return key.replace("\\r\\n", "\n").replace("\\n", "\n").replace("\r\n", "\n") + "\n"


def app_config(settings: Settings) -> AppConfig | None:
    """The app's identity, or ``None`` unless both GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY are set."""
    app_id = (settings.github_app_id or "").strip()
    private_key = (settings.github_app_private_key or "").strip()
    if not app_id or not private_key:
        return None
    return AppConfig(
        app_id=app_id,
        private_key=normalize_private_key(private_key),
        slug=(settings.github_app_slug or "").strip() or None,
        web_url=settings.github_url.rstrip("/"),
        api_url=settings.github_api_url.rstrip("/"),
    )


def require_app_config(settings: Settings) -> AppConfig:
    config = app_config(settings)
    if config is None:
        raise GitHubAppNotConfigured(
            "GitHub App not configured: set GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY"
        )
    return config
