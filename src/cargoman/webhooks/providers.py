"""The providers the registry takes webhooks from: secret, signature scheme, headers, event reader."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from cargoman.config import Settings
from cargoman.webhooks import signatures
from cargoman.webhooks.git_events import (
    GitEvent,
    bitbucket_event,
    github_app_event,
    github_event,
    gitlab_event,
)

Interpreter = Callable[[str, dict[str, Any], Settings], GitEvent]


@dataclass(frozen=True)
class Provider:
    name: str  # as recorded in webhook_deliveries.provider and in the URL
    title: str
    secret_setting: str  # the environment variable holding the shared secret
    verify: signatures.Verifier
    # Git providers name the event in a header; Stripe names it in the payload (no header).
    event_header: str | None
    # Where the sender's own id of the delivery is, most stable first (retries keep it).
    delivery_headers: tuple[str, ...]
    interpret: Interpreter | None = None

    def secret(self, settings: Settings) -> str | None:
        value: str | None = getattr(settings, self.secret_setting.lower())
        return value or None


GITHUB = Provider(
    name="github",
    title="GitHub",
    secret_setting="GITHUB_WEBHOOK_SECRET",
    verify=signatures.verify_github,
    event_header="X-GitHub-Event",
    delivery_headers=("X-GitHub-Delivery",),
    interpret=lambda event, payload, _settings: github_event(event, payload),
)
# GitHub sends a GitHub App's deliveries: same signature scheme and headers, its own secret and events.
GITHUB_APP = replace(
    GITHUB,
    name="github-app",
    title="GitHub App",
    secret_setting="GITHUB_APP_WEBHOOK_SECRET",
    interpret=lambda event, payload, _settings: github_app_event(event, payload),
)
GITLAB = Provider(
    name="gitlab",
    title="GitLab",
    secret_setting="GITLAB_WEBHOOK_SECRET",
    verify=signatures.verify_gitlab,
    event_header="X-Gitlab-Event",
    # Idempotency-Key stays the same when GitLab retries; the event UUID identifies the event.
    delivery_headers=("Idempotency-Key", "X-Gitlab-Event-UUID"),
    interpret=lambda event, payload, _settings: gitlab_event(event, payload),
)
BITBUCKET = Provider(
    name="bitbucket",
    title="Bitbucket",
    secret_setting="BITBUCKET_WEBHOOK_SECRET",
    verify=signatures.verify_bitbucket,
    event_header="X-Event-Key",
    # X-Hook-UUID names the webhook, not the delivery: using it would drop every delivery after the first.
    delivery_headers=("X-Request-UUID",),
    interpret=lambda event, payload, settings: bitbucket_event(event, payload, settings.bitbucket_url),
)
STRIPE = Provider(
    name="stripe",
    title="Stripe",
    secret_setting="STRIPE_WEBHOOK_SECRET",
    verify=signatures.verify_stripe,
    event_header=None,
    delivery_headers=(),
)

PROVIDERS = {provider.name: provider for provider in (GITHUB, GITHUB_APP, GITLAB, BITBUCKET, STRIPE)}
