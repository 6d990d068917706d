"""Who may install what: the Composer access rules, as pure functions over snapshots.

A version V of package P is visible to a customer token T of customer C when:
1. T is not revoked or expired and its scope allows downloads (webhook tokens get 403);
2. C is active, or frozen and (P, V) is in C's freeze list; suspended/expired -> 403 with why;
3. P matches T's package scopes (none = all of C's packages);
4. C holds a grant for P whose constraint V satisfies under Composer's rules; a package granted
   several times (directly and through collections) is visible under any of its constraints;
5. V is not yanked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase

from cargoman.composer.constraints import InvalidConstraint, parse_constraint

DOWNLOAD_SCOPES = frozenset({"admin", "developer", "download"})
TOKEN_SCOPES = ("admin", "developer", "download", "webhook")
CUSTOMER_STATUSES = ("active", "suspended", "frozen", "expired")


@dataclass(frozen=True)
class Denial:
    """Why a credential may not use the Composer endpoints at all (HTTP 403)."""

    code: str
    message: str


@dataclass(frozen=True)
class CustomerAccess:
    """Everything needed to decide visibility for one customer token, loaded once and cached."""

    token_id: str
    customer_id: str
    tenant_id: str
    scope: str
    package_scopes: tuple[str, ...]
    token_expires_at: datetime | None
    token_revoked: bool
    customer_status: str
    customer_status_reason: str | None
    customer_expires_at: datetime | None
    access_changed_at: datetime
    # package name -> the constraints of every grant reaching it (direct and through collections)
    grants: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # package name -> normalized versions the customer is frozen at
    frozen: dict[str, frozenset[str]] = field(default_factory=dict)
    # "token" (a stored customer token) or "jwt" (a signed, self-expiring customer JWT)
    credential_kind: str = "token"

    @property
    def is_full(self) -> bool:
        return False


@dataclass(frozen=True)
class FullAccess:
    """Root admin and management tokens: every package and every non-yanked version."""

    tenant_id: str
    principal: str = "admin"
    expires_at: datetime | None = None  # management credentials may expire

    @property
    def is_full(self) -> bool:
        return True


Access = CustomerAccess | FullAccess


def check_credential(access: Access, now: datetime) -> Denial | None:
    if isinstance(access, FullAccess):
        return None
    if access.token_revoked:
        return Denial("TOKEN_REVOKED", "This token has been revoked")
    if access.token_expires_at is not None and access.token_expires_at <= now:
        return Denial("TOKEN_EXPIRED", "This token has expired")
    if access.scope not in DOWNLOAD_SCOPES:
        return Denial("TOKEN_SCOPE", f"Tokens of scope '{access.scope}' cannot download packages")
    status = access.customer_status
    if access.customer_expires_at is not None and access.customer_expires_at <= now:
        status = "expired"
    if status == "suspended":
        reason = access.customer_status_reason or "no reason given"
        return Denial("CUSTOMER_SUSPENDED", f"Customer account is suspended: {reason}")
    if status == "expired":
        return Denial("CUSTOMER_EXPIRED", "Customer subscription has expired")
    if status not in ("active", "frozen"):
        return Denial("CUSTOMER_INACTIVE", f"Customer account is {status}")
    return None


def matches_package_scopes(package_scopes: tuple[str, ...], package_name: str) -> bool:
    if not package_scopes:
        return True
    name = package_name.lower()
    return any(fnmatchcase(name, pattern.lower()) for pattern in package_scopes)


def may_see_package(access: Access, package_name: str) -> bool:
    """True when the package is listed for this caller (granted and within the token's scopes)."""
    if isinstance(access, FullAccess):
        return True
    name = package_name.lower()
    if name not in access.grants:
        return False
    if not matches_package_scopes(access.package_scopes, name):
        return False
    return not (access.customer_status == "frozen" and not access.frozen.get(name))


def constraint_allows(constraint: str, version_normalized: str) -> bool:
    try:
        return parse_constraint(constraint).matches_version(version_normalized)
    except InvalidConstraint:
        # A stored constraint is validated on write; if one is unreadable, grant nothing.
        return False


@dataclass(frozen=True)
class VersionRule:
    """The per-package part of an access profile: equal rules render equal metadata."""

    constraints: tuple[str, ...] | None  # None = every version (full access); else any may match
    frozen: frozenset[str] | None  # None = not frozen

    def allows(self, version_normalized: str, yanked: bool) -> bool:
        if yanked:
            return False
        if self.frozen is not None and version_normalized not in self.frozen:
            return False
        if self.constraints is None:
            return True
        return any(constraint_allows(c, version_normalized) for c in self.constraints)


FULL_RULE = VersionRule(constraints=None, frozen=None)


def combine_constraints(constraints: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The union of several grants' constraints in a canonical form, so equal unions compare equal.

    `*` already allows everything (dev branches included), so it absorbs the others.
    """
    unique = sorted(set(constraints))
    return ("*",) if "*" in unique else tuple(unique)


def version_rule(access: Access, package_name: str) -> VersionRule | None:
    """The rule for one package, or None when the caller may not see the package at all."""
    if isinstance(access, FullAccess):
        return FULL_RULE
    if not may_see_package(access, package_name):
        return None
    name = package_name.lower()
    frozen = access.frozen.get(name, frozenset()) if access.customer_status == "frozen" else None
    return VersionRule(constraints=access.grants[name], frozen=frozen)
