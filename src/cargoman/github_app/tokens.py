"""Installation access tokens, cached per process until shortly before GitHub expires them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from cargoman.github_app.client import GitHubAppClient, InstallationToken
from cargoman.github_app.config import AppConfig
from cargoman.timeutil import utcnow

# A token is replaced this long before its expiry, so a fetch never starts with one about to lapse.
REFRESH_MARGIN = timedelta(minutes=5)

_Key = tuple[str, str, int]  # API URL, app ID, installation ID


class InstallationTokenCache:
    """Thread-safe; concurrent callers for one installation share a single token request."""

    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self._clock = clock
        self._tokens: dict[_Key, InstallationToken] = {}
        self._locks: dict[_Key, threading.Lock] = {}
        self._guard = threading.Lock()

    def token(self, config: AppConfig, installation_id: int) -> str:
        key = (config.api_url, config.app_id, installation_id)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            # The per-key lock keeps one request per installation; every touch of the dict itself
            # takes the guard, since forget() and clear() walk it from other threads.
            with self._guard:
                cached = self._tokens.get(key)
            if cached is not None and self._fresh(cached):
                return cached.token
            with GitHubAppClient(config) as client:
                issued = client.create_installation_token(installation_id)
            with self._guard:
                self._tokens[key] = issued
            return issued.token

    def forget(self, installation_id: int) -> None:
        """Drop the tokens of an installation that was deleted or suspended."""
        with self._guard:
            for key in [key for key in self._tokens if key[2] == installation_id]:
                del self._tokens[key]

    def clear(self) -> None:
        with self._guard:
            self._tokens.clear()

    def _fresh(self, token: InstallationToken) -> bool:
        return token.expires_at - REFRESH_MARGIN > self._clock()


TOKEN_CACHE = InstallationTokenCache()


def installation_token(config: AppConfig, installation_id: int) -> str:
    return TOKEN_CACHE.token(config, installation_id)
