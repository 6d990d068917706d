"""Every row belongs to a tenant and every query filters by it."""

from __future__ import annotations

import pytest

from cargoman.customers import service as customers
from cargoman.db.models import Tenant
from cargoman.errors import NotFound
from cargoman.grants import service as grants
from cargoman.packages import service as packages
from cargoman.pagination import PageRequest
from cargoman.runtime import Runtime
from cargoman.tokens import service as tokens


def test_data_of_one_tenant_is_invisible_to_another(runtime: Runtime) -> None:
    with runtime.unit_of_work("test") as ctx:
        ctx.session.add(Tenant(id="other", slug="other", name="Other"))
    with runtime.unit_of_work("test", tenant_id="other") as ctx:
        package = packages.add_package(
            ctx, "https://git.example.test/other/secret.git", "git", "other/secret"
        )
        created = customers.create_customer(ctx, "Other Corp", external_id="ext-1")
        grants.add_grant(ctx, created.customer.id, "other/secret", "*")
        other_customer, other_token = created.customer.id, created.first_token.token.id
        assert package.package.tenant_id == "other"

    with runtime.unit_of_work("test") as ctx:
        assert packages.list_packages(ctx, PageRequest()).total == 0
        assert customers.list_customers(ctx, None, PageRequest()).total == 0
        with pytest.raises(NotFound):
            packages.get_package(ctx, "other/secret")
        with pytest.raises(NotFound):
            customers.get_customer(ctx, other_customer)
        with pytest.raises(NotFound):
            customers.get_by_external_id(ctx, "ext-1")
        with pytest.raises(NotFound):
            tokens.get_token(ctx, other_token)
        # The same external id and package name are free in the default tenant.
        customers.create_customer(ctx, "Default Corp", external_id="ext-1")
        packages.add_package(ctx, "https://git.example.test/other/secret.git", "git", "other/secret")

    with runtime.unit_of_work("test", tenant_id="other") as ctx:
        assert packages.list_packages(ctx, PageRequest()).total == 1
        assert [c.name for c in customers.list_customers(ctx, None, PageRequest()).items] == ["Other Corp"]
