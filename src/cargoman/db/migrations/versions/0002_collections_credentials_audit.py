"""collections, cma credentials, audit log, webhook deliveries, monorepos, uploads

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 03:37:29.513508
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_credentials",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("token_hint", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_ip", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_digest"),
    )
    with op.batch_alter_table("admin_credentials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_credentials_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("resource_type", sa.String(length=50), nullable=False),
        sa.Column("resource_id", sa.String(length=255), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_resource", ["resource_type", "resource_id"], unique=False)
        batch_op.create_index("ix_audit_log_tenant_created", ["tenant_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "collections",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "slug", name="uq_collections_tenant_slug"),
    )
    with op.batch_alter_table("collections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_collections_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "collection_packages",
        sa.Column("collection_id", sa.String(length=64), nullable=False),
        sa.Column("package_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["collection_id"], ["collections.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["package_id"], ["packages.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("collection_id", "package_id"),
    )
    with op.batch_alter_table("collection_packages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_collection_packages_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("package_id", sa.String(length=64), nullable=True),
        sa.Column("provider", sa.String(length=30), nullable=False),
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column("delivery_id", sa.String(length=200), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=50), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("task_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["package_id"], ["packages.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "provider", "delivery_id", name="uq_webhook_deliveries_delivery"),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_deliveries_package", ["package_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_webhook_deliveries_tenant_id"), ["tenant_id"], unique=False)

    with op.batch_alter_table("package_grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("collection_id", sa.String(length=64), nullable=True))
        batch_op.alter_column("package_id", existing_type=sa.VARCHAR(length=64), nullable=True)
        batch_op.create_unique_constraint("uq_grants_customer_collection", ["customer_id", "collection_id"])
        batch_op.create_foreign_key(
            "fk_package_grants_collection", "collections", ["collection_id"], ["id"], ondelete="CASCADE"
        )

    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("monorepo_glob", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("parent_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("subdir", sa.String(length=1024), nullable=True))
        batch_op.alter_column("repository_url", existing_type=sa.TEXT(), nullable=True)
        batch_op.create_index(batch_op.f("ix_packages_parent_id"), ["parent_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_packages_parent", "packages", ["parent_id"], ["id"], ondelete="CASCADE"
        )

    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deprecated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("source", sa.String(length=20), nullable=False, server_default="git"))


def downgrade() -> None:
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.drop_column("source")
        batch_op.drop_column("deprecated_at")

    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.drop_constraint("fk_packages_parent", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_packages_parent_id"))
        batch_op.alter_column("repository_url", existing_type=sa.TEXT(), nullable=False)
        batch_op.drop_column("subdir")
        batch_op.drop_column("parent_id")
        batch_op.drop_column("monorepo_glob")

    with op.batch_alter_table("package_grants", schema=None) as batch_op:
        batch_op.drop_constraint("fk_package_grants_collection", type_="foreignkey")
        batch_op.drop_constraint("uq_grants_customer_collection", type_="unique")
        batch_op.alter_column("package_id", existing_type=sa.VARCHAR(length=64), nullable=False)
        batch_op.drop_column("collection_id")

    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_tenant_id"))
        batch_op.drop_index("ix_webhook_deliveries_package")

    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("collection_packages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collection_packages_tenant_id"))

    op.drop_table("collection_packages")
    with op.batch_alter_table("collections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collections_tenant_id"))

    op.drop_table("collections")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_tenant_id"))
        batch_op.drop_index("ix_audit_log_tenant_created")
        batch_op.drop_index("ix_audit_log_resource")

    op.drop_table("audit_log")
    with op.batch_alter_table("admin_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admin_credentials_tenant_id"))

    op.drop_table("admin_credentials")
