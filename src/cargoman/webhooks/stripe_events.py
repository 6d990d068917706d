"""What a verified Stripe event means for a customer's access (the subscriptions guide, as data).

Pure: the event JSON in, a lifecycle change out. The customer is the registry customer whose
``external_id`` is the Stripe customer id (``data.object.customer``). Each change names the statuses
it applies to, so a late or repeated event never undoes a later decision: a paid invoice lifts a
suspension but does not revive a cancelled (frozen or expired) subscription, while a subscription
Stripe reports active again restores access whatever happened before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Change = Literal["suspend", "reactivate", "freeze", "expire", "ignore"]
DeletedAction = Literal["freeze", "expire"]

SUSPENDING_STATUSES = {"past_due": "payment past due", "unpaid": "subscription unpaid"}
ACTIVE_STATUSES = frozenset({"active", "trialing"})

_ONLY_ACTIVE = frozenset({"active"})
_ONLY_SUSPENDED = frozenset({"suspended"})
_NOT_ACTIVE = frozenset({"suspended", "frozen", "expired"})
_NOT_CANCELLED = frozenset({"active", "suspended"})
_NOT_EXPIRED = frozenset({"active", "suspended", "frozen"})


@dataclass(frozen=True)
class BillingChange:
    change: Change
    stripe_customer: str | None
    message: str
    # Customer statuses (as in effect now) this change moves; any other status is left as it is.
    applies_to: frozenset[str] = frozenset()
    # Shown to the customer's Composer clients while suspended.
    reason: str | None = None


def _stripe_customer(obj: dict[str, Any]) -> str | None:
    customer = obj.get("customer")
    if isinstance(customer, dict):  # an expanded customer object
        customer = customer.get("id")
    return customer if isinstance(customer, str) and customer.strip() else None


def billing_change(
    event_type: str, data_object: dict[str, Any], deleted_action: DeletedAction
) -> BillingChange:
    customer = _stripe_customer(data_object)
    object_id = data_object.get("id") if isinstance(data_object.get("id"), str) else "?"
    if event_type == "customer.subscription.updated":
        status = data_object.get("status")
        if isinstance(status, str) and status in SUSPENDING_STATUSES:
            reason = f"Stripe subscription {object_id}: {SUSPENDING_STATUSES[status]}"
            return BillingChange("suspend", customer, f"subscription {status}", _ONLY_ACTIVE, reason)
        if status in ACTIVE_STATUSES:
            return BillingChange("reactivate", customer, f"subscription {status}", _NOT_ACTIVE)
        return BillingChange("ignore", customer, f"subscription status {status!r} does not change access")
    if event_type == "customer.subscription.deleted":
        statuses = _NOT_CANCELLED if deleted_action == "freeze" else _NOT_EXPIRED
        return BillingChange(deleted_action, customer, "subscription deleted", statuses)
    if event_type == "invoice.paid":
        return BillingChange("reactivate", customer, f"invoice {object_id} paid", _ONLY_SUSPENDED)
    if event_type == "invoice.payment_failed":
        reason = f"Stripe invoice {object_id}: payment failed"
        return BillingChange("suspend", customer, f"invoice {object_id} payment failed", _ONLY_ACTIVE, reason)
    return BillingChange("ignore", customer, f"event {event_type!r} does not change access")
