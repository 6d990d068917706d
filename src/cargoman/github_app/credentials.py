"""Installation tokens as Git credentials for repositories on the app's GitHub host."""

from __future__ import annotations

from cargoman.git_credentials.base import GitCredential, http_location
from cargoman.github_app import repository
from cargoman.github_app.config import app_config
from cargoman.github_app.tokens import installation_token
from cargoman.runtime import ServiceContext

# GitHub's documented user name for HTTPS Git access with an installation token.
TOKEN_USERNAME = "x-access-token"


class GitHubAppCredentialSource:
    """Answers for ``<GITHUB_URL>/<owner>/<repo>`` when the tenant has claimed an active installation
    on ``owner``."""

    name = "github_app"

    def credential_for(self, ctx: ServiceContext, repository_url: str) -> GitCredential | None:
        config = app_config(ctx.settings)
        if config is None:
            return None
        location, github = http_location(repository_url), http_location(config.web_url + "/")
        if location is None or github is None or not location.same_origin(github):
            return None
        if len(location.path_segments) < 2:
            return None
        installation = repository.active_claimed_for_account(
            ctx.session, ctx.tenant_id, location.path_segments[0]
        )
        if installation is None:
            return None
        token = installation_token(config, installation.github_installation_id)
        return GitCredential(username=TOKEN_USERNAME, password=token, source=self.name)
