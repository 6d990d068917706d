"""The registry's GitHub App: app JWTs, installation tokens, installations and their repositories."""
