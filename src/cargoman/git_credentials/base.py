"""The credential a fetch uses and the protocol every credential source implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from cargoman.gitsync.mirror import GitAuth
from cargoman.runtime import ServiceContext

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class GitCredential:
    """HTTP(S) Basic credentials for one repository, and which source supplied them."""

    username: str
    password: str = field(repr=False)
    source: str  # github_app | oauth | deploy

    def git_auth(self) -> GitAuth:
        return GitAuth(username=self.username, token=self.password)


class CredentialSource(Protocol):
    """One place credentials may come from; ``None`` means "not mine, ask the next source"."""

    name: str

    def credential_for(self, ctx: ServiceContext, repository_url: str) -> GitCredential | None: ...


@dataclass(frozen=True)
class HttpLocation:
    """Scheme, host, port and path segments of an http(s) repository URL."""

    scheme: str
    host: str
    port: int
    path_segments: tuple[str, ...]

    def same_origin(self, other: HttpLocation) -> bool:
        return (self.scheme, self.host, self.port) == (other.scheme, other.host, other.port)


def http_location(url: str) -> HttpLocation | None:
    """Parse an http(s) URL; ``None`` for ssh, scp-like, local or malformed URLs (no token applies)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    segments = tuple(segment for segment in parts.path.split("/") if segment)
    return HttpLocation(scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme], segments)
