"""Every spelling of one repository's URL names the same repository; other repositories never do."""

from __future__ import annotations

import pytest

from cargoman.webhooks.repository_urls import join_web_url, repository_key, repository_keys, repository_name

SAME_REPOSITORY = [
    "https://github.com/acme/lib",
    "https://github.com/acme/lib.git",
    "https://github.com/acme/lib/",
    "https://github.com/acme/lib.git/",
    "https://GitHub.com/Acme/Lib.git",
    "HTTPS://GITHUB.COM/ACME/LIB",
    "http://github.com/acme/lib",
    "https://user:secret@github.com/acme/lib.git",
    "https://github.com:443/acme/lib",
    "git@github.com:acme/lib.git",
    "git@github.com:Acme/Lib",
    "git@GITHUB.com:acme/lib/",
    "ssh://git@github.com/acme/lib.git",
    "ssh://git@github.com:22/acme/lib",
    "ssh://github.com/acme/lib",
    "git://github.com/acme/lib.git",
    "  https://github.com/acme/lib.git  ",
]


@pytest.mark.parametrize("url", SAME_REPOSITORY)
def test_every_spelling_reduces_to_one_key(url: str) -> None:
    assert repository_key(url) == "github.com/acme/lib"


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/lib-extra",
        "https://github.com/acme/li",
        "https://github.com/other/lib",
        "https://gitlab.com/acme/lib",
        "git@bitbucket.org:acme/lib.git",
        "https://github.com/acme/lib/tree/main",
    ],
)
def test_other_repositories_do_not_collide(url: str) -> None:
    assert repository_key(url) != "github.com/acme/lib"


def test_gitlab_subgroups_keep_their_whole_path() -> None:
    assert repository_key("https://gitlab.com/Group/Sub/Project.git") == "gitlab.com/group/sub/project"
    assert repository_key("git@gitlab.com:group/sub/project.git") == "gitlab.com/group/sub/project"
    assert repository_key("https://gitlab.com/group/project") != repository_key(
        "https://gitlab.com/group/sub/project"
    )


def test_local_paths_keep_their_case() -> None:
    assert repository_key("/srv/git/Acme/Lib.git") == repository_key("file:///srv/git/Acme/Lib")
    assert repository_key("/srv/git/Acme/Lib") != repository_key("/srv/git/acme/lib")


@pytest.mark.parametrize(
    "url", ["", "   ", "not a url", "ext::sh -c touch% /tmp/x", "ftp://example.com/a/b", "-oProxyCommand=x"]
)
def test_anything_else_has_no_key(url: str) -> None:
    assert repository_key(url) is None


def test_keys_of_a_payload_skip_junk() -> None:
    urls = [
        "https://github.com/acme/lib.git",
        None,
        42,
        "",
        "git@github.com:acme/lib.git",
        "::",
        "https://github.com/acme/other",
    ]
    assert repository_keys(urls) == {"github.com/acme/lib", "github.com/acme/other"}


def test_repository_name_is_the_last_segment() -> None:
    assert repository_name("gitlab.com/group/sub/project") == "project"


@pytest.mark.parametrize(
    ("base", "full_name", "expected"),
    [
        ("https://bitbucket.org", "acme/lib", "https://bitbucket.org/acme/lib"),
        ("https://bitbucket.org/", "/acme/lib/", "https://bitbucket.org/acme/lib"),
        ("https://bitbucket.org", "lib", None),
        ("https://bitbucket.org", None, None),
    ],
)
def test_join_web_url(base: str, full_name: object, expected: str | None) -> None:
    assert join_web_url(base, full_name) == expected
