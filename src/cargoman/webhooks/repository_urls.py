"""Which registered repository a webhook payload talks about, whatever spelling each side uses.

Payloads name a repository several ways (``https://github.com/Acme/Lib.git``, ``git@github.com:acme/lib.git``,
``ssh://git@github.com/acme/lib``, ``git://github.com/acme/lib.git``, the web page ``https://github.com/acme/lib/``)
and the registry may hold any of them. All spellings reduce to one key (host and path, lowercased, without
user, port, scheme or ``.git``), and a package matches a payload when their keys meet.
"""

from __future__ import annotations

from collections.abc import Iterable

from cargoman.gitsync.urls import canonical_repository_key


def repository_key(url: str) -> str | None:
    """The key of one URL, or None for anything that is not a repository URL."""
    try:
        return canonical_repository_key(url.strip())
    except ValueError:
        return None


def repository_keys(urls: Iterable[object]) -> frozenset[str]:
    """Keys of every usable URL among ``urls``; other values (None, numbers, junk) are skipped."""
    keys = (repository_key(url) for url in urls if isinstance(url, str) and url.strip())
    return frozenset(key for key in keys if key)


def repository_name(key: str) -> str:
    """The last path segment of a key: every spelling of the repository's URL contains it."""
    return key.rstrip("/").rsplit("/", 1)[-1]


def join_web_url(base: str, full_name: object) -> str | None:
    """``owner/repo`` under a provider's web address (payloads that carry only the full name)."""
    if not isinstance(full_name, str) or "/" not in full_name.strip("/"):
        return None
    return f"{base.rstrip('/')}/{full_name.strip('/')}"
