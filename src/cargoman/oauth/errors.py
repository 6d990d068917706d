"""Errors of the OAuth connections. Messages never carry a token, a code or a client secret."""

from __future__ import annotations

from cargoman.errors import CargomanError, Conflict


class OAuthNotConfigured(Conflict):
    """The provider's client id or secret is not set, so no authorization can start."""


class OAuthProviderError(CargomanError):
    """The provider could not be reached or answered something unusable (a retry may work)."""

    code = "OAUTH_PROVIDER_ERROR"
    status = 502


class OAuthGrantRejected(OAuthProviderError):
    """The provider refused a code or refresh token (`invalid_grant`): only a new authorization helps."""

    code = "OAUTH_GRANT_REJECTED"
    status = 400


class ReauthorizationRequired(CargomanError):
    """A connection whose tokens can no longer be renewed; an administrator must connect again."""

    code = "OAUTH_REAUTHORIZATION_REQUIRED"
    status = 409
