"""Incoming webhooks under /api/webhooks: Git providers, Stripe, and syncs asked for by customer tokens."""

from cargoman.web.webhooks.routes import build_webhooks_router

__all__ = ["build_webhooks_router"]
