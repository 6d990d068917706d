"""Incoming webhooks: Git providers ask for package syncs, Stripe moves customers through their lifecycle."""
