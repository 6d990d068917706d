"""The registry-wide deploy credentials GIT_AUTH_USER / GIT_AUTH_TOKEN: the last resort for any host."""

from __future__ import annotations

from cargoman.git_credentials.base import GitCredential
from cargoman.runtime import ServiceContext


class DeployCredentialSource:
    name = "deploy"

    def credential_for(self, ctx: ServiceContext, repository_url: str) -> GitCredential | None:
        token = ctx.settings.git_auth_token
        if not token:
            return None
        return GitCredential(
            username=ctx.settings.git_auth_user or "x-access-token", password=token, source=self.name
        )
