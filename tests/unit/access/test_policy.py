"""The Composer access rules as pure functions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cargoman.access.policy import (
    CustomerAccess,
    FullAccess,
    check_credential,
    combine_constraints,
    matches_package_scopes,
    may_see_package,
    version_rule,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)

BASE = CustomerAccess(
    token_id="tok_1",
    customer_id="cust_1",
    tenant_id="default",
    scope="download",
    package_scopes=(),
    token_expires_at=None,
    token_revoked=False,
    customer_status="active",
    customer_status_reason=None,
    customer_expires_at=None,
    access_changed_at=NOW,
    grants={"acme/lib": ("^2.0",), "acme/all": ("*",), "other/pkg": ("*",)},
)


def test_download_capable_scopes_pass_and_webhook_is_refused() -> None:
    for scope in ("admin", "developer", "download"):
        assert check_credential(replace(BASE, scope=scope), NOW) is None
    denial = check_credential(replace(BASE, scope="webhook"), NOW)
    assert denial is not None and denial.code == "TOKEN_SCOPE"


def test_revoked_and_expired_tokens_are_refused() -> None:
    assert check_credential(replace(BASE, token_revoked=True), NOW).code == "TOKEN_REVOKED"  # type: ignore[union-attr]
    expired = replace(BASE, token_expires_at=NOW - timedelta(seconds=1))
    assert check_credential(expired, NOW).code == "TOKEN_EXPIRED"  # type: ignore[union-attr]
    assert check_credential(replace(BASE, token_expires_at=NOW + timedelta(days=1)), NOW) is None


def test_customer_status_decides_with_a_reason() -> None:
    suspended = check_credential(
        replace(BASE, customer_status="suspended", customer_status_reason="Unpaid"), NOW
    )
    assert suspended is not None and suspended.code == "CUSTOMER_SUSPENDED" and "Unpaid" in suspended.message
    assert check_credential(replace(BASE, customer_status="expired"), NOW).code == "CUSTOMER_EXPIRED"  # type: ignore[union-attr]
    lapsed = replace(BASE, customer_expires_at=NOW - timedelta(minutes=1))
    assert check_credential(lapsed, NOW).code == "CUSTOMER_EXPIRED"  # type: ignore[union-attr]
    assert check_credential(replace(BASE, customer_status="frozen"), NOW) is None


def test_package_scopes_are_case_insensitive_globs() -> None:
    assert matches_package_scopes((), "any/thing")
    assert matches_package_scopes(("acme/*",), "Acme/Lib")
    assert not matches_package_scopes(("acme/*",), "other/pkg")
    assert matches_package_scopes(("acme/lib", "other/*"), "other/pkg")


def test_visibility_needs_a_grant_and_a_matching_scope() -> None:
    assert may_see_package(BASE, "acme/lib")
    assert not may_see_package(BASE, "acme/unknown")
    scoped = replace(BASE, package_scopes=("acme/*",))
    assert may_see_package(scoped, "acme/all")
    assert not may_see_package(scoped, "other/pkg")
    assert may_see_package(FullAccess(tenant_id="default"), "anything/at-all")


def test_version_rule_applies_constraint_yank_and_freeze() -> None:
    rule = version_rule(BASE, "acme/lib")
    assert rule is not None
    assert rule.allows("2.1.0.0", yanked=False)
    assert not rule.allows("1.9.0.0", yanked=False)
    assert not rule.allows("2.1.0.0", yanked=True)
    everything = version_rule(BASE, "acme/all")
    assert everything is not None and everything.allows("dev-main", yanked=False)

    frozen = replace(BASE, customer_status="frozen", frozen={"acme/lib": frozenset({"2.1.0.0"})})
    frozen_rule = version_rule(frozen, "acme/lib")
    assert frozen_rule is not None
    assert frozen_rule.allows("2.1.0.0", yanked=False)
    assert not frozen_rule.allows("2.2.0.0", yanked=False)
    # A frozen customer does not see granted packages it has no frozen version of.
    assert version_rule(frozen, "acme/all") is None


def test_equal_rules_are_equal_so_rendered_metadata_can_be_shared() -> None:
    other_customer = replace(BASE, customer_id="cust_2", token_id="tok_2")
    assert version_rule(BASE, "acme/lib") == version_rule(other_customer, "acme/lib")
    assert hash(version_rule(BASE, "acme/lib")) == hash(version_rule(other_customer, "acme/lib"))


def test_a_package_granted_several_times_is_visible_under_any_of_its_constraints() -> None:
    # Granted ^1.0 directly and ^3.0 through a collection: the union, not the intersection.
    both = replace(BASE, grants={"acme/lib": combine_constraints(["^3.0", "^1.0"])})
    rule = version_rule(both, "acme/lib")
    assert rule is not None
    assert rule.allows("1.4.0.0", yanked=False)
    assert rule.allows("3.0.0.0", yanked=False)
    assert not rule.allows("2.0.0.0", yanked=False)
    assert not rule.allows("dev-main", yanked=False)
    assert not rule.allows("3.0.0.0", yanked=True)
    frozen = replace(both, customer_status="frozen", frozen={"acme/lib": frozenset({"1.4.0.0"})})
    frozen_rule = version_rule(frozen, "acme/lib")
    assert frozen_rule is not None
    assert frozen_rule.allows("1.4.0.0", yanked=False)
    assert not frozen_rule.allows("3.0.0.0", yanked=False)


def test_combined_constraints_are_canonical_and_a_wildcard_absorbs_the_rest() -> None:
    assert combine_constraints(["^2.0", "^1.0", "^2.0"]) == ("^1.0", "^2.0")
    assert combine_constraints(["~1.2", "*"]) == ("*",)
    with_wildcard = replace(BASE, grants={"acme/lib": combine_constraints(["^1.0", "*"])})
    wildcard = version_rule(with_wildcard, "acme/lib")
    assert wildcard is not None and wildcard.allows("dev-main", yanked=False)
    # The same union reached in another order renders the same metadata (one cache entry).
    in_order = replace(BASE, grants={"acme/lib": combine_constraints(["^1.0", "^3.0"])})
    other_order = replace(
        BASE, customer_id="cust_2", grants={"acme/lib": combine_constraints(["^3.0", "^1.0"])}
    )
    first, second = version_rule(in_order, "acme/lib"), version_rule(other_order, "acme/lib")
    assert first == second and hash(first) == hash(second)
