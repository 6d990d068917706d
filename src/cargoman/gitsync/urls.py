"""Validation and canonicalisation of repository URLs given to `git`.

A repository URL ends up as an argument of `git clone`/`git fetch`, so anything that could make git run a
command (``ext::``), read a file descriptor (``fd::``) or parse the URL as an option (``-u...``,
``ssh://-oProxyCommand=...``) is refused here, before git ever sees it.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urlsplit

REMOTE_SCHEMES = frozenset({"https", "ssh", "git"})
LOCAL_ONLY_SCHEMES = frozenset({"http", "file"})

_SCHEME_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://")
# `<transport>::<address>` makes git run the remote helper `git-remote-<transport>` (ext:: runs a shell).
_REMOTE_HELPER_SYNTAX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+.\-]*::")
# git treats `[user@]host:path` as ssh when a colon comes before any slash.
_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/:]+)@)?(?P<host>\[[^\]/]+\]|[^@/:\[\]]+):(?P<path>.*)$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?$")
_FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x20\x7f]")

_SUPPORTED_FORMS = "https://host/path, ssh://[user@]host/path, git://host/path or user@host:path"


@dataclass(frozen=True)
class _ParsedUrl:
    kind: str  # "url", "scp" or "local"
    host: str  # lowercased; empty for local repositories
    path: str


def validate_repository_url(url: str, *, allow_local: bool) -> str:
    """Return ``url`` unchanged if git may safely be pointed at it, else raise ValueError.

    Accepted: ``https://``, ``ssh://``, ``git://`` and scp-like ``user@host:path``. With ``allow_local``
    (development and tests) also ``http://``, ``file://`` and absolute local paths.
    """
    _parse(url, allow_local=allow_local)
    return url


def is_local_repository_url(url: str) -> bool:
    """True for ``file://`` URLs and local paths (which need ``protocol.file.allow``)."""
    return _parse(url, allow_local=True).kind == "local"


def canonical_repository_key(url: str) -> str:
    """A key under which every spelling of one repository's URL collides.

    ``https://GitHub.com/Acme/Lib.git``, ``ssh://git@github.com:22/acme/lib`` and ``git@github.com:acme/lib``
    all give ``github.com/acme/lib``: host and path are lowercased (GitHub, GitLab and Bitbucket treat paths
    case-insensitively, and webhook payloads do not always use the case the user typed), while user, port
    and a ``.git`` suffix are dropped. Local repositories map to their normalised absolute path.
    """
    parsed = _parse(url, allow_local=True)
    path = posixpath.normpath(parsed.path) if parsed.path.startswith("/") else parsed.path
    path = _strip_repository_suffix(path)
    if parsed.kind == "local":
        return path or "/"
    path = re.sub(r"/{2,}", "/", path).strip("/")
    return f"{parsed.host}/{path.lower()}"


def _strip_repository_suffix(path: str) -> str:
    path = path.rstrip("/")
    if path.lower().endswith(".git"):
        path = path[: -len(".git")].rstrip("/")
    return path


def _parse(url: str, *, allow_local: bool) -> _ParsedUrl:
    if not isinstance(url, str) or not url:
        raise ValueError("repository URL must be a non-empty string")
    if _FORBIDDEN_CHARACTERS.search(url):
        raise ValueError("repository URL must not contain whitespace or control characters")
    if url.startswith("-"):
        raise ValueError("repository URL must not start with '-'")

    scheme_match = _SCHEME_URL.match(url)
    if scheme_match:
        return _parse_scheme_url(url, scheme_match.group("scheme").lower(), allow_local=allow_local)
    if _REMOTE_HELPER_SYNTAX.match(url):
        raise ValueError(f"'transport::address' remote-helper syntax is not allowed; use {_SUPPORTED_FORMS}")
    if url.startswith("/"):
        if not allow_local:
            raise ValueError("local repository paths are not allowed; use " + _SUPPORTED_FORMS)
        return _ParsedUrl("local", "", url)

    scp_match = _SCP_LIKE.match(url)
    if scp_match:
        user, host, path = scp_match.group("user"), scp_match.group("host"), scp_match.group("path")
        if user is not None and (not user or user.startswith("-")):
            raise ValueError("invalid user name in repository URL")
        _check_host(host.strip("[]") if host.startswith("[") else host)
        if not path or path.startswith("-"):
            raise ValueError("repository URL has no valid repository path")
        return _ParsedUrl("scp", host.lower(), path)

    # The URL itself is never echoed: it may carry credentials.
    if allow_local:
        raise ValueError("unsupported repository URL; local repository paths must be absolute")
    raise ValueError(f"unsupported repository URL; use {_SUPPORTED_FORMS}")


def _parse_scheme_url(url: str, scheme: str, *, allow_local: bool) -> _ParsedUrl:
    if scheme in LOCAL_ONLY_SCHEMES and not allow_local:
        hint = "use https://" if scheme == "http" else "local repositories are not allowed"
        raise ValueError(f"{scheme}:// repository URLs are only allowed for local development; {hint}")
    if scheme not in REMOTE_SCHEMES | LOCAL_ONLY_SCHEMES:
        raise ValueError(f"unsupported URL scheme {scheme!r}; use {_SUPPORTED_FORMS}")
    try:
        parts: SplitResult = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a malformed port
    except ValueError as exc:
        raise ValueError(f"malformed repository URL: {exc}") from None

    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError("file:// repository URLs must not name a host")
        path = unquote(parts.path)
        if not path.startswith("/"):
            raise ValueError("file:// repository URLs must contain an absolute path")
        return _ParsedUrl("local", "", path)

    host = parts.hostname or ""
    _check_host(host)
    if parts.username is not None and (not parts.username or parts.username.startswith("-")):
        raise ValueError("invalid user name in repository URL")
    path = unquote(parts.path)
    if not path.strip("/"):
        raise ValueError("repository URL has no repository path")
    return _ParsedUrl("url", host.lower(), path)


def _check_host(host: str) -> None:
    if not host:
        raise ValueError("repository URL has no host")
    if ":" in host:  # bracketed IPv6 literal
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"invalid host {host!r} in repository URL") from None
        return
    if host.startswith("-") or not _HOSTNAME.match(host):
        # A host starting with '-' would reach ssh as an option (CVE-2017-1000117); the regex also
        # rejects anything else that is not a plain host name or IPv4 address.
        raise ValueError(f"invalid host {host!r} in repository URL")
