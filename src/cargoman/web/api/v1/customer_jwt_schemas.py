"""Response body of `POST /customers/{id}/jwt`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from cargoman.web.api.v1.schemas import ComposerAuth


class CustomerJwtIssued(BaseModel):
    """A signed, short-lived download credential; composer uses it as the http-basic password."""

    token: str
    token_type: str = "Bearer"
    expires_at: datetime
    expires_in: int
    composer_auth: ComposerAuth
