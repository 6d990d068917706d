"""Stripe events mapped onto the customer lifecycle of the subscriptions guide."""

from __future__ import annotations

import pytest

from cargoman.webhooks.stripe_events import billing_change

SUBSCRIPTION = {"id": "sub_1", "object": "subscription", "customer": "cus_A"}


@pytest.mark.parametrize("status", ["past_due", "unpaid"])
def test_overdue_subscription_suspends_an_active_customer_with_a_reason(status: str) -> None:
    change = billing_change("customer.subscription.updated", {**SUBSCRIPTION, "status": status}, "freeze")
    assert change.change == "suspend"
    assert change.stripe_customer == "cus_A"
    assert change.applies_to == {"active"}
    assert change.reason is not None and "sub_1" in change.reason


@pytest.mark.parametrize("status", ["active", "trialing"])
def test_live_subscription_reactivates_any_inactive_customer(status: str) -> None:
    change = billing_change("customer.subscription.updated", {**SUBSCRIPTION, "status": status}, "freeze")
    assert change.change == "reactivate"
    assert change.applies_to == {"suspended", "frozen", "expired"}


@pytest.mark.parametrize("status", ["incomplete", "canceled", "paused", None])
def test_other_subscription_statuses_change_nothing(status: str | None) -> None:
    change = billing_change("customer.subscription.updated", {**SUBSCRIPTION, "status": status}, "freeze")
    assert change.change == "ignore"


def test_deleted_subscription_freezes_or_expires_as_configured() -> None:
    frozen = billing_change("customer.subscription.deleted", SUBSCRIPTION, "freeze")
    assert (frozen.change, frozen.applies_to) == ("freeze", {"active", "suspended"})
    expired = billing_change("customer.subscription.deleted", SUBSCRIPTION, "expire")
    assert (expired.change, expired.applies_to) == ("expire", {"active", "suspended", "frozen"})


def test_paid_invoice_lifts_a_suspension_only() -> None:
    change = billing_change("invoice.paid", {"id": "in_1", "customer": "cus_A"}, "freeze")
    assert (change.change, change.applies_to) == ("reactivate", {"suspended"})


def test_failed_payment_suspends_with_the_invoice_named() -> None:
    change = billing_change("invoice.payment_failed", {"id": "in_9", "customer": {"id": "cus_B"}}, "freeze")
    assert change.change == "suspend"
    assert change.stripe_customer == "cus_B"  # an expanded customer object
    assert change.reason == "Stripe invoice in_9: payment failed"


def test_unmapped_events_and_missing_customers() -> None:
    assert billing_change("charge.refunded", {"customer": "cus_A"}, "freeze").change == "ignore"
    assert billing_change("invoice.paid", {"id": "in_1"}, "freeze").stripe_customer is None
    assert billing_change("invoice.paid", {"id": "in_1", "customer": "  "}, "freeze").stripe_customer is None
