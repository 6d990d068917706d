"""Where each repository's bare mirror lives, and reading a package name before the first sync."""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cargoman.config import Settings
from cargoman.errors import ValidationFailed
from cargoman.gitsync.errors import GitError
from cargoman.gitsync.mirror import GitAuth, Mirror
from cargoman.gitsync.urls import canonical_repository_key


def mirror_path(settings: Settings, tenant_id: str, repository_url: str) -> Path:
    """Mirrors are per tenant: one tenant's credentials never serve another tenant's fetch."""
    key = hashlib.sha256(canonical_repository_key(repository_url).encode()).hexdigest()[:32]
    return settings.mirrors_path / tenant_id / f"{key}.git"


def git_auth(settings: Settings) -> GitAuth | None:
    if not settings.git_auth_token:
        return None
    return GitAuth(username=settings.git_auth_user or "x-access-token", token=settings.git_auth_token)


def open_mirror(
    settings: Settings, tenant_id: str, repository_url: str, auth: GitAuth | None = None
) -> Mirror:
    """``auth`` is the credential resolved for this repository; without one the deploy credentials apply."""
    return Mirror(
        mirror_path(settings, tenant_id, repository_url),
        repository_url,
        auth if auth is not None else git_auth(settings),
        timeout=settings.git_timeout,
    )


@contextmanager
def locked(mirror_dir: Path) -> Iterator[None]:
    """One process at a time fetches into a given mirror."""
    mirror_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(mirror_dir.with_suffix(".lock"), "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        yield


def discover_package_name(
    settings: Settings, tenant_id: str, repository_url: str, auth: GitAuth | None = None
) -> str:
    """The `name` of composer.json on the default branch (or the newest ref that has one)."""
    mirror = open_mirror(settings, tenant_id, repository_url, auth)
    try:
        with locked(mirror.path):
            mirror.sync()
            refs = mirror.list_refs()
            default = mirror.default_branch()
    except GitError as exc:
        raise ValidationFailed("repository_url", f"cannot read the repository: {exc}") from exc
    ordered = sorted(refs, key=lambda ref: (ref.kind != "branch" or ref.name != default, ref.kind == "tag"))
    blobs = mirror.read_blobs([(ref.commit, "composer.json") for ref in ordered])
    for ref in ordered:
        raw = blobs.get((ref.commit, "composer.json"))
        if raw is None:
            continue
        try:
            name = json.loads(raw).get("name")
        except (ValueError, AttributeError):
            continue
        if isinstance(name, str) and name:
            return name
    raise ValidationFailed("name", "not given and no composer.json with a name was found in the repository")
