"""Settings read from the environment and `.env`, named as in the configuration reference."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Edition = Literal["community", "pro", "cloud", "enterprise"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    # Server
    host: str = "0.0.0.0"
    port: int = 8080
    base_url: str = "http://localhost:8080"
    web_url: str = ""
    environment: str = "development"
    request_timeout: int = 30
    log_level: str = Field(default="info", validation_alias=AliasChoices("LOG_LEVEL", "RUST_LOG"))
    # Server worker processes for `cargoman serve`.
    web_concurrency: int = 1

    # Database
    database_url: str = "sqlite:///./data/cargoman.db"
    database_max_connections: int = 10

    # Credentials
    admin_token: str | None = None
    admin_token_hash: str | None = None
    jwt_secret: str | None = None
    jwt_expiry: int = 3600
    encryption_key: str | None = None

    # Edition and tenants
    edition: Edition = "community"
    tenant_mode: Literal["single", "multi"] = "single"
    tenant_subdomain_suffix: str = ""
    license_key: str | None = None

    # Storage
    data_dir: Path = Path("./data")
    storage_backend: str = "filesystem"
    storage_path: Path = Path("./data/packages")
    storage_presigned_redirect: bool = False
    storage_presigned_expiry: int = 300
    # When set (e.g. "/protected-dist/"), dist downloads answer with X-Accel-Redirect to this
    # prefix + storage key, so nginx sends the bytes instead of Python.
    dist_accel_redirect_prefix: str | None = None
    # Largest zip accepted by POST /api/v1/packages/{vendor}/{name}/upload.
    upload_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1)

    # Git
    git_auth_user: str | None = None
    git_auth_token: str | None = None
    # Local paths and http:// repository URLs are refused unless this is set (tests use it).
    allow_local_repositories: bool = False
    git_timeout: int = 600

    # Task queue
    task_enabled: bool = True
    task_num_workers: int = 4
    task_queue_buffer_size: int = 1000
    task_sync_interval: int = 3600
    task_cleanup_interval: int = 86400
    task_sync_on_startup: bool = False
    task_cleanup_on_startup: bool = False
    task_max_attempts: int = 5
    # A running task whose heartbeat is older than this many seconds belongs to a dead process.
    task_stale_after: int = Field(default=30, ge=1)
    audit_log_retention_days: int = 90

    # GraphQL
    graphql_playground: bool = False
    graphql_introspection: bool = False
    graphql_max_complexity: int | None = None
    # Seconds one GraphQL operation may run before it is stopped with a TIMEOUT error.
    graphql_execution_timeout: float = Field(default=3.0, gt=0)
    # Seconds a GraphQL WebSocket client has to send connection_init before it is closed (4408).
    graphql_ws_connection_init_timeout: float = Field(default=3.0, gt=0)

    cors_origins: str = ""

    # Git provider and billing webhooks (incoming; each endpoint refuses all deliveries while unset)
    github_webhook_secret: str | None = None
    gitlab_webhook_secret: str | None = None
    bitbucket_webhook_secret: str | None = None
    stripe_webhook_secret: str | None = None
    # Stripe: seconds a signed timestamp may differ from now; what a deleted subscription does.
    stripe_webhook_tolerance: int = 300
    stripe_subscription_deleted_action: Literal["freeze", "expire"] = "freeze"

    # GitHub App (GITHUB_API_URL points at GitHub Enterprise Server, or a local fake in tests)
    github_app_id: str | None = None
    github_app_private_key: str | None = None
    github_app_slug: str | None = None
    github_app_webhook_secret: str | None = None
    github_url: str = "https://github.com"
    github_api_url: str = "https://api.github.com"

    # OAuth providers (GITLAB_URL for self-managed GitLab)
    gitlab_client_id: str | None = None
    gitlab_client_secret: str | None = None
    gitlab_url: str = "https://gitlab.com"
    bitbucket_client_id: str | None = None
    bitbucket_client_secret: str | None = None
    bitbucket_url: str = "https://bitbucket.org"
    bitbucket_api_url: str = "https://api.bitbucket.org"

    # Outgoing GraphQL webhooks: private and loopback targets are refused unless allowed.
    webhook_allow_private_targets: bool = False
    webhook_timeout: int = 10
    webhook_max_attempts: int = 5
    webhook_delivery_retention_days: int = 90
    # A failed delivery is retried after base * 2^(attempt-1) seconds (capped at one hour).
    webhook_retry_base_seconds: float = Field(default=30.0, gt=0)

    # Packagist proxy (Pro+)
    proxy_enabled: bool = False
    proxy_packagist_url: str = "https://repo.packagist.org"
    proxy_metadata_ttl: int = 3600
    proxy_archive_ttl: int = 86400
    proxy_max_cache_size: int = 10 * 1024 * 1024 * 1024
    proxy_upstream_timeout: int = 60
    proxy_cleanup_interval: int = 3600

    @field_validator("base_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def mirrors_path(self) -> Path:
        return self.data_dir / "mirrors"

    @property
    def runtime_path(self) -> Path:
        """Files shared by the server processes of one host (the change counter)."""
        return self.data_dir / "run"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
