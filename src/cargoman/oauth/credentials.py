"""OAuth connections as Git credentials for repositories on the connected GitLab or Bitbucket host."""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from cargoman.git_credentials.base import GitCredential, http_location
from cargoman.oauth import listing
from cargoman.oauth.refresh import git_login
from cargoman.runtime import ServiceContext


class OAuthCredentialSource:
    """Answers for an https URL on the origin (scheme, host, port) of a connection's instance:
    GitLab with user ``oauth2``, Bitbucket with ``x-token-auth``, the access token as password."""

    name = "oauth"

    def credential_for(self, ctx: ServiceContext, repository_url: str) -> GitCredential | None:
        location = http_location(repository_url)
        if location is None:
            return None  # ssh and local repositories: a bearer token does not apply
        provider = next(
            (
                row.provider
                for row in listing.list_connections(ctx.session, ctx.tenant_id)
                if (instance := http_location(row.base_url + "/")) is not None
                and instance.same_origin(location)
            ),
            None,
        )
        if provider is None:
            return None
        # Renewal commits on its own (and must survive a failure of the caller's transaction).
        sessions = sessionmaker(bind=ctx.session.get_bind(), expire_on_commit=False)
        login = git_login(sessions, ctx.settings, ctx.tenant_id, provider)
        if login is None:
            return None
        return GitCredential(username=login.username, password=login.password, source=self.name)
