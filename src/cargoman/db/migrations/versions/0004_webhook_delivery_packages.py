"""webhook delivery packages: every package an incoming delivery matched; payload digests of deliveries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 09:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload_digest", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            "uq_webhook_deliveries_payload", ["tenant_id", "provider", "payload_digest"]
        )
    op.create_table(
        "webhook_delivery_packages",
        sa.Column("webhook_delivery_id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["webhook_delivery_id"], ["webhook_deliveries.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["package_id"], ["packages.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("webhook_delivery_id", "package_id"),
    )
    with op.batch_alter_table("webhook_delivery_packages", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_delivery_packages_package", ["package_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_webhook_delivery_packages_tenant_id"), ["tenant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_delivery_packages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_delivery_packages_tenant_id"))
        batch_op.drop_index("ix_webhook_delivery_packages_package")
    op.drop_table("webhook_delivery_packages")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_webhook_deliveries_payload", type_="unique")
        batch_op.drop_column("payload_digest")
