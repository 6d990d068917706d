"""GraphQL-native webhooks (SourceHut style): a stored query runs on each event; its result is POSTed.

A webhook names an HTTP(S) URL, the events it wants (``WebhookEvent``: one per event-bus topic) and
a GraphQL query. When an event of its tenant happens, the dispatcher queues a delivery task; the
task runs the query read-only with the credentials of the webhook's creator and POSTs the JSON
result ``{"data": ..., "errors": [...]}``. A revoked or expired creator credential disables the
webhook. Every attempt is recorded (request, response, duration); failures are retried with
exponential backoff (WEBHOOK_RETRY_BASE_SECONDS * 2^(attempt-1), at most WEBHOOK_MAX_ATTEMPTS
attempts); records older than WEBHOOK_DELIVERY_RETENTION_DAYS are removed by the cleanup task.

The event reaches the query two ways. As SourceHut's ``webhook`` resolver, the ``webhookPayload``
field (``web/graphql/webhook_payload.py``) returns the ``WebhookPayload`` interface (uuid, event,
date) with one type per event, e.g. ``query { webhookPayload { uuid event date ... on
PackageSyncedPayload { packageName status package { name latestVersion } } } }``; it is null in a
normal request. And as variables (see ``variables.py``) the query declares, e.g.
``query($packageName: String!) { package(name: $packageName) { name } }``. ``sample`` runs the query
for an event like the latest real one through the same path, without sending anything.

Each CMA credential sees and deletes only the webhooks it created; the root token and owner-level
credentials see every webhook (auditing). Others' ids answer NOT_FOUND.
How a receiver checks a delivery is in ``signing.py``; which targets are refused in ``targets.py``.
"""
