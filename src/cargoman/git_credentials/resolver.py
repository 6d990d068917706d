"""Ask each credential source in order; the first that answers supplies the fetch's credential.

Order (most specific and least privileged first): GitHub App installation token, OAuth connection,
then the configured deploy credentials.
"""

from __future__ import annotations

from cargoman.git_credentials.base import CredentialSource, GitCredential
from cargoman.git_credentials.deploy import DeployCredentialSource
from cargoman.github_app.credentials import GitHubAppCredentialSource
from cargoman.oauth.credentials import OAuthCredentialSource
from cargoman.runtime import ServiceContext

SOURCES: list[CredentialSource] = [
    GitHubAppCredentialSource(),
    OAuthCredentialSource(),
    DeployCredentialSource(),
]


def resolve_credential(
    ctx: ServiceContext, repository_url: str, sources: list[CredentialSource] | None = None
) -> GitCredential | None:
    """The credential for fetching ``repository_url`` in ``ctx``'s tenant, or ``None`` (anonymous)."""
    for source in SOURCES if sources is None else sources:
        credential = source.credential_for(ctx, repository_url)
        if credential is not None:
            return credential
    return None
