"""What a verified Git provider delivery asks for, read from its event name and JSON payload.

Pure: no database, no settings object (provider web addresses are passed in). Unknown events and
actions become ``ignore`` with a reason, so a provider's new event types never fail a delivery.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from cargoman.webhooks.repository_urls import join_web_url

Action = Literal["sync", "ping", "ignore", "installation"]

ZERO_SHA = "0" * 40
GITHUB_URL_FIELDS = ("clone_url", "ssh_url", "git_url", "html_url", "svn_url")
GITLAB_PROJECT_URL_FIELDS = ("git_http_url", "git_ssh_url", "web_url", "http_url", "ssh_url")
GITLAB_REPOSITORY_URL_FIELDS = ("git_http_url", "git_ssh_url", "homepage", "url")
GITHUB_APP_INSTALLATION_EVENTS = frozenset({"installation", "installation_repositories"})


@dataclass(frozen=True)
class GitEvent:
    action: Action
    message: str
    repository_urls: tuple[str, ...] = ()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _ref_name(ref: str) -> str:
    for prefix in ("refs/tags/", "refs/heads/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def _ref_kind(ref: str) -> str:
    return "tag" if ref.startswith("refs/tags/") else "branch"


def _github_urls(payload: dict[str, Any]) -> tuple[str, ...]:
    repository = _object(payload.get("repository"))
    return tuple(_text(repository.get(field)) for field in GITHUB_URL_FIELDS if _text(repository.get(field)))


def _github_sync(event: str, payload: dict[str, Any]) -> GitEvent | None:
    urls = _github_urls(payload)
    if event == "push":
        ref = _text(payload.get("ref"))
        verb = "deleted" if payload.get("deleted") is True else "pushed"
        return GitEvent("sync", f"{_ref_kind(ref)} {_ref_name(ref) or '?'} {verb}", urls)
    if event in ("create", "delete"):
        kind = _text(payload.get("ref_type")) or "ref"
        verb = "created" if event == "create" else "deleted"
        return GitEvent("sync", f"{kind} {_text(payload.get('ref')) or '?'} {verb}", urls)
    if event == "ping":
        zen = _text(payload.get("zen"))
        return GitEvent("ping", f"ping: {zen}" if zen else "ping", urls)
    return None


def github_event(event: str, payload: dict[str, Any]) -> GitEvent:
    """push, create and delete (tags and branches) sync; ping is acknowledged."""
    return _github_sync(event, payload) or GitEvent("ignore", f"event {event!r} does not change packages")


def github_app_event(event: str, payload: dict[str, Any]) -> GitEvent:
    """As a repository webhook, plus published releases and the installation lifecycle."""
    if event in GITHUB_APP_INSTALLATION_EVENTS:
        action = _text(payload.get("action")) or "?"
        return GitEvent("installation", f"{event} {action}")
    if event == "release":
        action = _text(payload.get("action"))
        tag = _text(_object(payload.get("release")).get("tag_name")) or "?"
        if action == "published":
            return GitEvent("sync", f"release {tag} published", _github_urls(payload))
        return GitEvent("ignore", f"release {tag} {action or '?'}: only published releases sync")
    return github_event(event, payload)


def gitlab_event(event: str, payload: dict[str, Any]) -> GitEvent:
    """Push Hook and Tag Push Hook (also as instance system hooks) sync."""
    kind = _text(payload.get("object_kind") or payload.get("event_name"))
    is_push = event in ("Push Hook", "Tag Push Hook") or (
        event == "System Hook" and kind in ("push", "tag_push")
    )
    if not is_push:
        return GitEvent("ignore", f"event {event!r} does not change packages")
    project = _object(payload.get("project"))
    repository = _object(payload.get("repository"))
    urls = [_text(project.get(field)) for field in GITLAB_PROJECT_URL_FIELDS]
    urls += [_text(repository.get(field)) for field in GITLAB_REPOSITORY_URL_FIELDS]
    ref = _text(payload.get("ref"))
    verb = "deleted" if _text(payload.get("after")) == ZERO_SHA else "pushed"
    return GitEvent("sync", f"{_ref_kind(ref)} {_ref_name(ref) or '?'} {verb}", tuple(u for u in urls if u))


def _bitbucket_links(links: dict[str, Any]) -> Iterator[str]:
    """Cloud: ``links.html.href``; Data Center: ``links.clone[].href`` and ``links.self[].href``."""
    for entry in links.values():
        candidates = entry if isinstance(entry, list) else [entry]
        for candidate in candidates:
            href = _text(_object(candidate).get("href"))
            if href:
                yield href


def _bitbucket_changes(payload: dict[str, Any]) -> str:
    names: list[str] = []
    for change in _object(payload.get("push")).get("changes") or payload.get("changes") or []:
        change = _object(change)
        new, old = _object(change.get("new")), _object(change.get("old"))
        ref = new or old or _object(change.get("ref"))
        name = _text(ref.get("name") or ref.get("displayId"))
        kind = _text(ref.get("type")).lower() or "ref"
        deleted = (not new and bool(old)) or change.get("type") == "DELETE"
        if name:
            names.append(f"{kind} {name}{' deleted' if deleted else ''}")
    return ", ".join(names) if names else "push"


def bitbucket_event(event: str, payload: dict[str, Any], web_base: str) -> GitEvent:
    """Cloud repo:push and Data Center repo:refs_changed sync; diagnostics:ping is acknowledged."""
    repository = _object(payload.get("repository"))
    urls = list(_bitbucket_links(_object(repository.get("links"))))
    from_name = join_web_url(web_base, repository.get("full_name"))
    if from_name:
        urls.append(from_name)
    if event in ("repo:push", "repo:refs_changed"):
        return GitEvent("sync", _bitbucket_changes(payload), tuple(urls))
    if event == "diagnostics:ping":
        return GitEvent("ping", "ping", tuple(urls))
    return GitEvent("ignore", f"event {event!r} does not change packages")
