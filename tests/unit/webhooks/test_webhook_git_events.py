"""Reading Git provider deliveries: which events sync, which repository they name."""

from __future__ import annotations

from typing import Any

import pytest

from cargoman.webhooks.git_events import (
    ZERO_SHA,
    bitbucket_event,
    github_app_event,
    github_event,
    gitlab_event,
)

GITHUB_REPOSITORY = {
    "full_name": "Acme/Lib",
    "html_url": "https://github.com/Acme/Lib",
    "clone_url": "https://github.com/Acme/Lib.git",
    "ssh_url": "git@github.com:Acme/Lib.git",
    "git_url": "git://github.com/Acme/Lib.git",
    "svn_url": "https://github.com/Acme/Lib",
}


def test_github_tag_push_syncs_with_every_repository_url() -> None:
    event = github_event("push", {"ref": "refs/tags/v1.1.0", "repository": GITHUB_REPOSITORY})
    assert event.action == "sync"
    assert event.message == "tag v1.1.0 pushed"
    assert set(event.repository_urls) == {
        GITHUB_REPOSITORY[field] for field in ("html_url", "clone_url", "ssh_url", "git_url", "svn_url")
    }


def test_github_branch_deletion_push_syncs() -> None:
    event = github_event(
        "push", {"ref": "refs/heads/feature", "deleted": True, "repository": GITHUB_REPOSITORY}
    )
    assert (event.action, event.message) == ("sync", "branch feature deleted")


@pytest.mark.parametrize(("name", "verb"), [("create", "created"), ("delete", "deleted")])
def test_github_tag_create_and_delete_sync(name: str, verb: str) -> None:
    event = github_event(name, {"ref": "v2.0.0", "ref_type": "tag", "repository": GITHUB_REPOSITORY})
    assert (event.action, event.message) == ("sync", f"tag v2.0.0 {verb}")


def test_github_ping_is_acknowledged() -> None:
    event = github_event("ping", {"zen": "Keep it logically awesome.", "repository": GITHUB_REPOSITORY})
    assert event.action == "ping"
    assert "Keep it logically awesome." in event.message


@pytest.mark.parametrize("name", ["issues", "star", "release", "installation"])
def test_other_github_events_are_ignored(name: str) -> None:
    event = github_event(name, {"action": "published", "repository": GITHUB_REPOSITORY})
    assert event.action == "ignore"
    assert name in event.message


def test_malformed_fields_never_raise() -> None:
    event = github_event("push", {"ref": 5, "repository": ["not", "an", "object"]})
    assert event.action == "sync"
    assert event.repository_urls == ()


def test_github_app_syncs_published_releases_only() -> None:
    published = github_app_event(
        "release", {"action": "published", "release": {"tag_name": "v3.0.0"}, "repository": GITHUB_REPOSITORY}
    )
    assert (published.action, published.message) == ("sync", "release v3.0.0 published")
    drafted = github_app_event("release", {"action": "created", "release": {"tag_name": "v3.1.0"}})
    assert drafted.action == "ignore"


@pytest.mark.parametrize("name", ["installation", "installation_repositories"])
def test_github_app_installation_events_go_to_the_installation_handler(name: str) -> None:
    event = github_app_event(name, {"action": "created", "installation": {"id": 1}})
    assert (event.action, event.message) == ("installation", f"{name} created")


def test_github_app_push_reads_like_a_repository_webhook() -> None:
    payload = {"ref": "refs/tags/v1.0.0", "repository": GITHUB_REPOSITORY, "installation": {"id": 7}}
    assert github_app_event("push", payload) == github_event("push", payload)


def _gitlab(ref: str, after: str = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7") -> dict[str, Any]:
    return {
        "object_kind": "tag_push" if ref.startswith("refs/tags/") else "push",
        "ref": ref,
        "after": after,
        "project": {
            "web_url": "https://gitlab.example.com/acme/lib",
            "git_ssh_url": "git@gitlab.example.com:acme/lib.git",
            "git_http_url": "https://gitlab.example.com/acme/lib.git",
        },
        "repository": {"homepage": "https://gitlab.example.com/acme/lib"},
    }


def test_gitlab_tag_push_syncs() -> None:
    event = gitlab_event("Tag Push Hook", _gitlab("refs/tags/v1.2.0"))
    assert (event.action, event.message) == ("sync", "tag v1.2.0 pushed")
    assert "git@gitlab.example.com:acme/lib.git" in event.repository_urls
    assert "https://gitlab.example.com/acme/lib.git" in event.repository_urls


def test_gitlab_tag_deletion_syncs() -> None:
    event = gitlab_event("Tag Push Hook", _gitlab("refs/tags/v1.2.0", after=ZERO_SHA))
    assert (event.action, event.message) == ("sync", "tag v1.2.0 deleted")


def test_gitlab_branch_push_and_system_hook_push_sync() -> None:
    assert gitlab_event("Push Hook", _gitlab("refs/heads/main")).message == "branch main pushed"
    assert gitlab_event("System Hook", _gitlab("refs/heads/main")).action == "sync"


@pytest.mark.parametrize("name", ["Merge Request Hook", "Issue Hook", "Pipeline Hook"])
def test_other_gitlab_events_are_ignored(name: str) -> None:
    assert gitlab_event(name, _gitlab("refs/heads/main")).action == "ignore"


def test_gitlab_system_hooks_other_than_pushes_are_ignored() -> None:
    assert gitlab_event("System Hook", {"event_name": "project_create"}).action == "ignore"


BITBUCKET_CLOUD_PUSH = {
    "push": {"changes": [{"new": {"type": "tag", "name": "v1.3.0"}, "old": None}]},
    "repository": {"full_name": "acme/lib", "links": {"html": {"href": "https://bitbucket.org/acme/lib"}}},
}


def test_bitbucket_cloud_push_syncs() -> None:
    event = bitbucket_event("repo:push", BITBUCKET_CLOUD_PUSH, "https://bitbucket.org")
    assert (event.action, event.message) == ("sync", "tag v1.3.0")
    assert "https://bitbucket.org/acme/lib" in event.repository_urls


def test_bitbucket_full_name_alone_names_the_repository_under_the_configured_host() -> None:
    payload = {"push": {"changes": []}, "repository": {"full_name": "acme/lib"}}
    event = bitbucket_event("repo:push", payload, "https://bitbucket.example.com/")
    assert event.repository_urls == ("https://bitbucket.example.com/acme/lib",)


def test_bitbucket_deleted_branch_is_named() -> None:
    payload = {
        "push": {"changes": [{"new": None, "old": {"type": "branch", "name": "old"}}]},
        "repository": {},
    }
    assert bitbucket_event("repo:push", payload, "https://bitbucket.org").message == "branch old deleted"


def test_bitbucket_data_center_refs_changed_syncs_with_clone_links() -> None:
    payload = {
        "changes": [{"ref": {"displayId": "v2.0.0", "type": "TAG"}, "type": "ADD"}],
        "repository": {
            "links": {
                "clone": [
                    {"href": "ssh://git@bitbucket.example.com:7999/acme/lib.git", "name": "ssh"},
                    {"href": "https://bitbucket.example.com/scm/acme/lib.git", "name": "http"},
                ],
                "self": [{"href": "https://bitbucket.example.com/projects/ACME/repos/lib/browse"}],
            }
        },
    }
    event = bitbucket_event("repo:refs_changed", payload, "https://bitbucket.org")
    assert (event.action, event.message) == ("sync", "tag v2.0.0")
    assert "ssh://git@bitbucket.example.com:7999/acme/lib.git" in event.repository_urls


def test_bitbucket_ping_and_other_events() -> None:
    assert bitbucket_event("diagnostics:ping", {}, "https://bitbucket.org").action == "ping"
    assert bitbucket_event("pullrequest:created", {}, "https://bitbucket.org").action == "ignore"
