"""SQLAlchemy models. Every row belongs to a tenant, so multi-tenancy changes no schema."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from cargoman.timeutil import utcnow

DEFAULT_TENANT_ID = "default"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime stored")
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


def tenant_column() -> Mapped[str]:
    return mapped_column(
        String(64), ForeignKey("tenants.id", ondelete="CASCADE"), index=True, default=DEFAULT_TENANT_ID
    )


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="active")
    # The newest change stamp handed out (see cargoman.stamps).
    last_change_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Package(Base):
    __tablename__ = "packages"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_packages_tenant_name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = tenant_column()
    name: Mapped[str] = mapped_column(String(214))
    # None for packages published only by upload.
    repository_url: Mapped[str | None] = mapped_column(Text, default=None)
    repository_type: Mapped[str] = mapped_column(String(20), default="git")
    # Monorepos: the root package holds the glob; each child points at its root and its folder.
    monorepo_glob: Mapped[str | None] = mapped_column(String(255), default=None)
    parent_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("packages.id", ondelete="CASCADE"), default=None, index=True
    )
    subdir: Mapped[str | None] = mapped_column(String(1024), default=None)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    # pending (never synced), syncing, ready, error
    sync_status: Mapped[str] = mapped_column(String(20), default="pending")
    sync_error: Mapped[str | None] = mapped_column(Text, default=None)
    sync_warnings: Mapped[list[Any]] = mapped_column(default=list)
    last_synced_at: Mapped[datetime | None] = mapped_column(default=None)
    default_branch: Mapped[str | None] = mapped_column(String(255), default=None)
    # Changes whenever the Composer metadata of this package changes (versions, yanks).
    metadata_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    versions: Mapped[list[Version]] = relationship(
        back_populates="package", cascade="all, delete-orphan", passive_deletes=True
    )


class Version(Base):
    __tablename__ = "versions"
    __table_args__ = (
        UniqueConstraint("package_id", "version_normalized", name="uq_versions_package_normalized"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = tenant_column()
    package_id: Mapped[str] = mapped_column(String(64), ForeignKey("packages.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(255))
    version_normalized: Mapped[str] = mapped_column(String(255))
    is_branch: Mapped[bool] = mapped_column(Boolean, default=False)
    ref_name: Mapped[str | None] = mapped_column(String(255), default=None)
    reference: Mapped[str] = mapped_column(String(64))
    # The composer.json fields published in metadata (name/version/dist added when rendering).
    manifest: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dist_key: Mapped[str | None] = mapped_column(Text, default=None)
    dist_sha1: Mapped[str | None] = mapped_column(String(40), default=None)
    dist_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    dist_md5: Mapped[str | None] = mapped_column(String(32), default=None)
    dist_size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    released_at: Mapped[datetime | None] = mapped_column(default=None)
    yanked: Mapped[bool] = mapped_column(Boolean, default=False)
    deprecated: Mapped[bool] = mapped_column(Boolean, default=False)
    deprecated_at: Mapped[datetime | None] = mapped_column(default=None)
    # git (from a sync) or upload (a published zip); a sync never removes uploaded versions.
    source: Mapped[str] = mapped_column(String(20), default="git")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    package: Mapped[Package] = relationship(back_populates="versions")


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id", name="uq_customers_tenant_external"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = tenant_column()
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    external_id: Mapped[str | None] = mapped_column(String(200), default=None)
    # active, suspended, frozen, expired
    status: Mapped[str] = mapped_column(String(20), default="active")
    status_reason: Mapped[str | None] = mapped_column(Text, default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    # Changes whenever what this customer may see changes (grants, freeze, status).
    access_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CustomerToken(Base):
    __tablename__ = "customer_tokens"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = tenant_column()
    customer_id: Mapped[str] = mapped_column(String(64), ForeignKey("customers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(20), default="admin")
    package_scopes: Mapped[list[Any]] = mapped_column(default=list)
    # SHA-256 of the plain token; the plain value is shown once and never stored.
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    token_hint: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_ip: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_customer_tokens_customer", "customer_id"),)


class PackageGrant(Base):
    """Access to one package, or (collection_id set, package_id None) to every package of a collection."""

    __tablename__ = "package_grants"
    __table_args__ = (
        UniqueConstraint("customer_id", "package_id", name="uq_grants_customer_package"),
        UniqueConstraint("customer_id", "collection_id", name="uq_grants_customer_collection"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = tenant_column()
    customer_id: Mapped[str] = mapped_column(String(64), ForeignKey("customers.id", ondelete="CASCADE"))
    package_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("packages.id", ondelete="CASCADE"), default=None
    )
    collection_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("collections.id", ondelete="CASCADE"), default=None
    )
    version_constraint: Mapped[str] = mapped_column(String(255), default="*")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    package: Mapped[Package | None] = relationship()
    collection: Mapped[Collection | None] = relationship()


class FrozenVersion(Base):
    __tablename__ = "frozen_versions"
    __table_args__ = (
        UniqueConstraint("customer_id", "package_id", "version_normalized", name="uq_frozen_versions"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = tenant_column()
    customer_id: Mapped[str] = mapped_column(String(64), ForeignKey("customers.id", ondelete="CASCADE"))
    package_id: Mapped[str] = mapped_column(String(64), ForeignKey("packages.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(255))
    version_normalized: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_status_run_after", "status", "run_after"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = tenant_column()
    kind: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # pending, running, completed, failed
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(100), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class DownloadEvent(Base):
    """One dist download served, or one install reported through notify-batch."""

    __tablename__ = "download_events"
    __table_args__ = (Index("ix_download_events_package_created", "package_name", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = tenant_column()
    kind: Mapped[str] = mapped_column(String(20))  # download | install
    package_name: Mapped[str] = mapped_column(String(214))
    version: Mapped[str] = mapped_column(String(255))
    customer_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    token_id: Mapped[str | None] = mapped_column(String(64), default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Collection(Base):
    __tablename__ = "collections"
    __table_args__ = (UniqueConstraint("tenant_id", "slug", name="uq_collections_tenant_slug"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = tenant_column()
    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CollectionPackage(Base):
    __tablename__ = "collection_packages"

    collection_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True
    )
    package_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("packages.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[str] = tenant_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AdminCredential(Base):
    """A CMA token (`cma_` + 32 alphanumerics) with a level: owner, admin or viewer."""

    __tablename__ = "admin_credentials"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = tenant_column()
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    level: Mapped[str] = mapped_column(String(20))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    token_hint: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_ip: Mapped[str | None] = mapped_column(String(64), default=None)
    created_by: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_tenant_created", "tenant_id", "created_at"),
        Index("ix_audit_log_resource", "resource_type", "resource_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = tenant_column()
    actor: Mapped[str] = mapped_column(String(100))  # root, cma credential id, cli, worker, customer token id
    actor_kind: Mapped[str] = mapped_column(String(20))  # root | cma | customer | cli | system
    action: Mapped[str] = mapped_column(String(100))  # e.g. customer.create
    resource_type: Mapped[str] = mapped_column(String(50))
    resource_id: Mapped[str | None] = mapped_column(String(255), default=None)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One incoming webhook delivery (Git providers, Stripe) and what it led to."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_package", "package_id", "created_at"),
        UniqueConstraint("tenant_id", "provider", "delivery_id", name="uq_webhook_deliveries_delivery"),
        UniqueConstraint("tenant_id", "provider", "payload_digest", name="uq_webhook_deliveries_payload"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = tenant_column()
    package_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("packages.id", ondelete="SET NULL"), default=None
    )
    provider: Mapped[str] = mapped_column(String(30))
    event: Mapped[str] = mapped_column(String(100))
    delivery_id: Mapped[str | None] = mapped_column(String(200), default=None)
    # SHA-256 of the provider, event and signed body: a captured delivery resent under a new id is a replay.
    payload_digest: Mapped[str | None] = mapped_column(String(64), default=None)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str] = mapped_column(String(50))
    message: Mapped[str | None] = mapped_column(Text, default=None)
    task_ids: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDeliveryPackage(Base):
    """A package one incoming delivery matched (a repository may back several), and the sync queued."""

    __tablename__ = "webhook_delivery_packages"
    __table_args__ = (Index("ix_webhook_delivery_packages_package", "package_id"),)

    webhook_delivery_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    package_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("packages.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[str] = tenant_column()
    task_id: Mapped[str | None] = mapped_column(String(64), default=None)


class GitHubAppInstallation(Base):
    """An installation of the registry's GitHub App on a GitHub account (user or organization)."""

    __tablename__ = "github_app_installations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "github_installation_id", name="uq_github_app_installations_github_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = tenant_column()
    github_installation_id: Mapped[int] = mapped_column(BigInteger)
    account_login: Mapped[str] = mapped_column(String(255))
    account_type: Mapped[str] = mapped_column(String(30))  # User | Organization
    repository_selection: Mapped[str] = mapped_column(String(20), default="all")  # all | selected
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | suspended | deleted
    # Installations first seen through a webhook wait to be claimed by an administrator.
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    suspended_at: Mapped[datetime | None] = mapped_column(default=None)
    installed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OAuthConnection(Base):
    """A GitLab or Bitbucket account connected by OAuth; its tokens are stored encrypted only."""

    __tablename__ = "oauth_connections"
    __table_args__ = (UniqueConstraint("tenant_id", "provider", name="uq_oauth_connections_provider"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = tenant_column()
    provider: Mapped[str] = mapped_column(String(20))  # gitlab | bitbucket
    base_url: Mapped[str] = mapped_column(String(500))
    account_id: Mapped[str | None] = mapped_column(String(255), default=None)
    account_login: Mapped[str | None] = mapped_column(String(255), default=None)
    access_token_encrypted: Mapped[str] = mapped_column(Text)
    refresh_token_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    token_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    scopes: Mapped[str | None] = mapped_column(String(500), default=None)
    connected_by: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OAuthState(Base):
    """A pending OAuth authorization: the `state` (digest only) bound to whoever started it."""

    __tablename__ = "oauth_states"

    state_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = tenant_column()
    provider: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    code_verifier_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    redirect_uri: Mapped[str] = mapped_column(String(1000))
    expires_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SecurityAdvisory(Base):
    """A known vulnerability of a package (private or proxied), from a scan or an advisory source."""

    __tablename__ = "security_advisories"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "source", "advisory_id", "package_name", name="uq_security_advisories_source_id"
        ),
        Index("ix_security_advisories_package", "tenant_id", "package_name"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = tenant_column()
    advisory_id: Mapped[str] = mapped_column(String(255))  # GHSA-..., CVE-..., PKSA-...
    source: Mapped[str] = mapped_column(String(50))  # osv | github | friendsofphp | manual
    package_name: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text)
    severity: Mapped[str | None] = mapped_column(String(20), default=None)  # low|medium|high|critical
    cve: Mapped[str | None] = mapped_column(String(50), default=None)
    link: Mapped[str | None] = mapped_column(Text, default=None)
    affected_versions: Mapped[str] = mapped_column(Text)  # a Composer constraint
    patched_versions: Mapped[str | None] = mapped_column(Text, default=None)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    reported_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProxyPackage(Base):
    """A public package served through the Packagist proxy: its cached metadata and archives."""

    __tablename__ = "proxy_packages"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_proxy_packages_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = tenant_column()
    name: Mapped[str] = mapped_column(String(255))
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    metadata_fetched_at: Mapped[datetime | None] = mapped_column(default=None)
    archive_count: Mapped[int] = mapped_column(Integer, default=0)
    archive_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProxyAlert(Base):
    """Something the proxy could not do (upstream failure, cache limit)."""

    __tablename__ = "proxy_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = tenant_column()
    kind: Mapped[str] = mapped_column(String(50))
    message: Mapped[str] = mapped_column(Text)
    package_name: Mapped[str | None] = mapped_column(String(255), default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GraphQLWebhook(Base):
    """A GraphQL-native webhook: on each of its events the stored query runs and its result is POSTed."""

    __tablename__ = "graphql_webhooks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = tenant_column()
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[Any]] = mapped_column(default=list)
    query: Mapped[str] = mapped_column(Text)
    # The HMAC key, encrypted with ENCRYPTION_KEY (it must be recoverable to sign).
    secret_encrypted: Mapped[str] = mapped_column(Text)
    # Whose credentials the query runs with: root, or a CMA credential id (revoked -> webhook stops).
    creator_kind: Mapped[str] = mapped_column(String(20))
    creator_id: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class GraphQLWebhookDelivery(Base):
    """One attempt to deliver one event to a GraphQL webhook."""

    __tablename__ = "graphql_webhook_deliveries"
    __table_args__ = (
        Index("ix_graphql_webhook_deliveries_webhook", "webhook_id", "created_at"),
        Index("ix_graphql_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = tenant_column()
    webhook_id: Mapped[str] = mapped_column(String(64), ForeignKey("graphql_webhooks.id", ondelete="CASCADE"))
    # Attempts of one event share an event id; attempt counts from 1.
    event_id: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(100))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|delivered|failed
    request_url: Mapped[str] = mapped_column(Text)
    request_headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    request_body: Mapped[str] = mapped_column(Text)
    response_status: Mapped[int | None] = mapped_column(Integer, default=None)
    response_headers: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    response_body: Mapped[str | None] = mapped_column(Text, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    duration_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
