"""The mutation root: customers, tokens, package access, packages, collections, GitHub App.

Every resolver validates its input with the REST request model and calls the service the REST
route calls, so both APIs write the same rows and the same audit entries. Each mutation runs in a
savepoint of the request's unit of work: one that fails leaves nothing behind. Mutations run in
order; as their results are non-null, a failing one ends the operation (its error's ``path`` names
it), and the ones before it keep what they wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import strawberry
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from cargoman.collections import service as collections
from cargoman.customers import service as customers
from cargoman.errors import ValidationFailed
from cargoman.github_app.removal import remove_installation
from cargoman.grants import service as grants
from cargoman.packages import service as packages
from cargoman.runtime import ServiceContext
from cargoman.storage import create_storage
from cargoman.tokens import service as tokens
from cargoman.web.api.v1 import package_schemas, schemas
from cargoman.web.api.v1.collections_schemas import CollectionCreate, CollectionUpdate, GrantEntries
from cargoman.web.graphql.loaders import Loaders
from cargoman.web.graphql.mutation_inputs import (
    AddPackageInput,
    CreateCollectionInput,
    CreateCustomerInput,
    CreateTokenInput,
    PackageAccessInput,
    UpdateCollectionInput,
    UpdateCustomerInput,
    VersionFreeze,
    checked,
    given,
    given_list,
    renamed,
)
from cargoman.web.graphql.mutation_types import ScopedTokenCreatedResponse, TokenResponse
from cargoman.web.graphql.permissions import CanWrite
from cargoman.web.graphql.types import Collection, Ctx, Customer, Package

LEGACY_REGENERATE = "Legacy single-token model: use createToken (and revokeToken for the old ones)"
LEGACY_REVOKE_ALL = "Legacy single-token model: use revokeToken for each token"


def _open_transaction(session: Session) -> None:
    """Make sure the request's transaction is open before the first savepoint.

    pysqlite opens a transaction only before a data change: a SAVEPOINT sent first opens one of its
    own, and its RELEASE then commits -- before the unit of work decides to commit or roll back.
    IMMEDIATE takes SQLite's write lock now (waiting for it like any write): a deferred transaction
    would read from a snapshot and fail ("database is locked") if another writer commits before
    the mutation's first write.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def mutation_scope(info: Ctx) -> Iterator[ServiceContext]:
    """One mutation's writes, kept if it succeeds; rolled back (with its after-commit work) if not."""
    context = info.context
    ctx = context.ctx
    # Fresh loaders: this mutation's result must show its own writes, not an earlier mutation's reads.
    context.loaders = Loaders(ctx)
    queued = ctx.after_commit_mark()  # events, cache drops, worker wake-ups of the earlier mutations
    _open_transaction(ctx.session)
    try:
        with ctx.session.begin_nested():
            yield ctx
    except BaseException as exc:
        ctx.discard_after_commit(queued)
        if isinstance(exc, ValidationFailed):
            raise renamed(exc) from exc
        if isinstance(exc, DataError):  # e.g. a NUL character PostgreSQL cannot store
            raise ValidationFailed("input", "a value in the request cannot be stored") from exc
        raise


@contextmanager
def reads_before_writes(info: Ctx) -> Iterator[ServiceContext]:
    """A mutation's read-only first step, outside its write scope, its errors spelled as GraphQL's."""
    try:
        yield info.context.ctx
    except ValidationFailed as exc:
        raise renamed(exc) from exc


@strawberry.type
class CustomerMutation:
    @strawberry.mutation(permission_classes=[CanWrite], description="Create a customer")
    def create_customer(self, info: Ctx, input: CreateCustomerInput) -> Customer:
        with mutation_scope(info) as ctx:
            body = checked(schemas.CustomerCreate, given(input))
            created = customers.create_customer(ctx, body.name, body.email, body.external_id, body.expires_at)
            return Customer.from_row(created.customer)

    @strawberry.mutation(permission_classes=[CanWrite], description="Change a customer's fields")
    def update_customer(self, info: Ctx, id: strawberry.ID, input: UpdateCustomerInput) -> Customer:
        with mutation_scope(info) as ctx:
            body = checked(schemas.CustomerUpdate, given(input))
            changes = body.model_dump(exclude_unset=True)
            return Customer.from_row(customers.update_customer(ctx, str(id), changes))

    @strawberry.mutation(
        permission_classes=[CanWrite], description="Delete a customer, its tokens and grants"
    )
    def delete_customer(self, info: Ctx, id: strawberry.ID) -> bool:
        with mutation_scope(info) as ctx:
            customers.delete_customer(ctx, str(id))
            return True

    @strawberry.mutation(permission_classes=[CanWrite], description="Refuse every download of the customer")
    def suspend_customer(self, info: Ctx, id: strawberry.ID, reason: str | None = None) -> Customer:
        with mutation_scope(info) as ctx:
            body = checked(schemas.SuspendRequest, {"reason": reason})
            return Customer.from_row(customers.suspend_customer(ctx, str(id), body.reason))

    @strawberry.mutation(permission_classes=[CanWrite], description="Make the customer active again")
    def reactivate_customer(self, info: Ctx, id: strawberry.ID) -> Customer:
        with mutation_scope(info) as ctx:
            return Customer.from_row(customers.reactivate_customer(ctx, str(id)))

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Keep the customer on the given versions; without versions, on each granted "
        "package's newest visible version",
    )
    def freeze_customer(
        self, info: Ctx, id: strawberry.ID, versions: list[VersionFreeze] | None = None
    ) -> Customer:
        with mutation_scope(info) as ctx:
            body = checked(schemas.FreezeRequest, {"versions": given_list(versions)})
            chosen = [(v.package, v.version) for v in body.versions] if body.versions else None
            return Customer.from_row(customers.freeze_customer(ctx, str(id), chosen))


@strawberry.type
class TokenMutation:
    @strawberry.mutation(permission_classes=[CanWrite], description="Issue a scoped token for a customer")
    def create_token(
        self, info: Ctx, customer_id: strawberry.ID, input: CreateTokenInput
    ) -> ScopedTokenCreatedResponse:
        with mutation_scope(info) as ctx:
            body = checked(schemas.TokenCreate, given(input))
            issued = tokens.create_token(
                ctx, str(customer_id), body.name, body.scope, body.package_scopes, body.expires_at
            )
            return ScopedTokenCreatedResponse.from_issued(issued, ctx.settings.base_url)

    @strawberry.mutation(
        permission_classes=[CanWrite], description="Revoke one token; it stops working at once"
    )
    def revoke_token(self, info: Ctx, customer_id: strawberry.ID, token_id: strawberry.ID) -> bool:
        with mutation_scope(info) as ctx:
            tokens.revoke_token(ctx, str(token_id), str(customer_id))
            return True

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="A new secret for the same token; the old one stops working",
    )
    def rotate_token(
        self, info: Ctx, customer_id: strawberry.ID, token_id: strawberry.ID
    ) -> ScopedTokenCreatedResponse:
        with mutation_scope(info) as ctx:
            issued = tokens.rotate_token(ctx, str(token_id), str(customer_id))
            return ScopedTokenCreatedResponse.from_issued(issued, ctx.settings.base_url)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Replace every token of the customer with one new admin-scope token",
        deprecation_reason=LEGACY_REGENERATE,
    )
    def regenerate_token(self, info: Ctx, customer_id: strawberry.ID) -> TokenResponse:
        with mutation_scope(info) as ctx:
            issued = tokens.regenerate_legacy_token(ctx, str(customer_id))
            return TokenResponse.from_issued(issued, ctx.settings.base_url)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Revoke every token of the customer",
        deprecation_reason=LEGACY_REVOKE_ALL,
    )
    def revoke_all_tokens(self, info: Ctx, customer_id: strawberry.ID) -> bool:
        with mutation_scope(info) as ctx:
            tokens.revoke_all(ctx, str(customer_id))
            return True


@strawberry.type
class PackageAccessMutation:
    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Grant packages or collections (all or none: an existing grant is a CONFLICT)",
    )
    def grant_package_access(
        self, info: Ctx, customer_id: strawberry.ID, packages: list[PackageAccessInput]
    ) -> Customer:
        with mutation_scope(info) as ctx:
            body = checked(GrantEntries, {"packages": given_list(packages)})
            if not body.packages:
                raise ValidationFailed("packages", "must name at least one package or collection")
            for index, entry in enumerate(body.packages):
                try:
                    grants.add_grant(
                        ctx, str(customer_id), entry.package, entry.constraint, collection=entry.collection
                    )
                except ValidationFailed as exc:
                    raise renamed(exc, f"packages[{index}].") from exc
            return Customer.from_row(customers.get_customer(ctx, str(customer_id)))

    @strawberry.mutation(permission_classes=[CanWrite], description="Take a package grant away")
    def revoke_package_access(self, info: Ctx, customer_id: strawberry.ID, package_name: str) -> Customer:
        with mutation_scope(info) as ctx:
            grants.remove_grant(ctx, str(customer_id), package_name)
            return Customer.from_row(customers.get_customer(ctx, str(customer_id)))


@strawberry.type
class PackageMutation:
    @strawberry.mutation(permission_classes=[CanWrite], description="Add a package; its first sync is queued")
    def add_package(self, info: Ctx, input: AddPackageInput) -> Package:
        with reads_before_writes(info) as ctx:
            body = checked(package_schemas.PackageAdd, given(input))
            name = body.name
            if not (name and name.strip()) and body.monorepo is None:
                # Fetched before the write scope: on SQLite a slow fetch must not hold the write lock.
                name = packages.read_package_name(ctx, body.repository_url)
        with mutation_scope(info) as ctx:
            added = packages.add_package(ctx, body.repository_url, body.type, name, body.monorepo)
            return Package.from_row(added.package)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Queue a sync (a monorepo child is synced with its root); see the task list",
    )
    def sync_package(self, info: Ctx, name: str) -> Package:
        with mutation_scope(info) as ctx:
            packages.request_sync(ctx, name)
            return Package.from_row(packages.get_package(ctx, name))

    @strawberry.mutation(
        permission_classes=[CanWrite], description="Delete a package with its versions, archives and grants"
    )
    def delete_package(self, info: Ctx, name: str) -> bool:
        with mutation_scope(info) as ctx:
            storage = create_storage(ctx.settings.storage_backend, ctx.settings.storage_path)
            packages.delete_package(ctx, name, storage)
            return True


@strawberry.type
class CollectionMutation:
    @strawberry.mutation(permission_classes=[CanWrite], description="Create a collection of packages")
    def create_collection(self, info: Ctx, input: CreateCollectionInput) -> Collection:
        with mutation_scope(info) as ctx:
            body = checked(CollectionCreate, given(input))
            detail = collections.create_collection(ctx, body.name, body.slug, body.packages, body.description)
            return Collection.from_detail(detail)

    @strawberry.mutation(
        permission_classes=[CanWrite], description="Change a collection; its holders' access follows at once"
    )
    def update_collection(self, info: Ctx, slug: str, input: UpdateCollectionInput) -> Collection:
        with mutation_scope(info) as ctx:
            body = checked(CollectionUpdate, given(input))
            detail = collections.update_collection(ctx, slug, body.model_dump(exclude_unset=True))
            return Collection.from_detail(detail)

    @strawberry.mutation(
        permission_classes=[CanWrite], description="Delete a collection; grants on it go with it"
    )
    def delete_collection(self, info: Ctx, slug: str) -> bool:
        with mutation_scope(info) as ctx:
            collections.delete_collection(ctx, slug)
            return True


@strawberry.type
class GitHubAppMutation:
    @strawberry.mutation(
        name="removeGitHubAppInstallation",
        permission_classes=[CanWrite],
        description="Stop using a GitHub App installation (uninstall the app on GitHub separately)",
    )
    def remove_github_app_installation(self, info: Ctx, id: strawberry.ID) -> bool:
        with mutation_scope(info) as ctx:
            remove_installation(ctx, str(id))
            return True


MUTATIONS: tuple[type, ...] = (
    CustomerMutation,
    TokenMutation,
    PackageAccessMutation,
    PackageMutation,
    CollectionMutation,
    GitHubAppMutation,
)
