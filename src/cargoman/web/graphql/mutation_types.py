"""What token mutations answer: the only GraphQL types that ever carry a plain-text secret."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from cargoman.db import models
from cargoman.tokens.service import IssuedToken


@strawberry.enum(description="What a customer token may do")
class TokenScope(Enum):
    ADMIN = "admin"
    DEVELOPER = "developer"
    DOWNLOAD = "download"
    WEBHOOK = "webhook"


@strawberry.type(description="The credentials to put in Composer's auth.json (http-basic)")
class ComposerAuth:
    username: str
    password: str
    repository_url: str

    @classmethod
    def for_secret(cls, base_url: str, plain: str) -> ComposerAuth:
        return cls(username="token", password=plain, repository_url=base_url)


@strawberry.type(description="A customer token (its secret is shown once, when issued)")
class ScopedToken:
    id: strawberry.ID
    customer_id: strawberry.ID
    name: str
    scope: TokenScope
    package_scopes: list[str]
    token_hint: str
    expires_at: datetime | None
    last_used_at: datetime | None
    last_used_ip: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: models.CustomerToken) -> ScopedToken:
        return cls(
            id=strawberry.ID(row.id),
            customer_id=strawberry.ID(row.customer_id),
            name=row.name,
            scope=TokenScope(row.scope),
            package_scopes=list(row.package_scopes or []),
            token_hint=row.token_hint,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
            last_used_ip=row.last_used_ip,
            created_at=row.created_at,
        )


@strawberry.type(description="A newly issued or rotated token, with its secret (shown only here)")
class ScopedTokenCreatedResponse:
    token: ScopedToken
    plain_token: str
    composer_auth: ComposerAuth

    @classmethod
    def from_issued(cls, issued: IssuedToken, base_url: str) -> ScopedTokenCreatedResponse:
        return cls(
            token=ScopedToken.from_row(issued.token),
            plain_token=issued.plain,
            composer_auth=ComposerAuth.for_secret(base_url, issued.plain),
        )


@strawberry.type(description="The customer's single token of the legacy model, with its secret")
class TokenResponse:
    token: str
    token_id: strawberry.ID
    composer_auth: ComposerAuth

    @classmethod
    def from_issued(cls, issued: IssuedToken, base_url: str) -> TokenResponse:
        return cls(
            token=issued.plain,
            token_id=strawberry.ID(issued.token.id),
            composer_auth=ComposerAuth.for_secret(base_url, issued.plain),
        )
