"""Repository URL validation and canonical keys."""

from __future__ import annotations

import pytest

from cargoman.gitsync.urls import canonical_repository_key, is_local_repository_url, validate_repository_url

REMOTE_URLS = [
    "https://github.com/acme/lib.git",
    "https://gitlab.example.com:8443/group/sub/lib",
    "ssh://git@github.com/acme/lib.git",
    "ssh://git@gitlab.example.com:2222/group/lib.git",
    "git://git.example.org/lib.git",
    "git@github.com:acme/lib.git",
    "github.com:acme/lib.git",
    "git@[2001:db8::1]:acme/lib.git",
    "https://[2001:db8::1]/acme/lib.git",
]
LOCAL_ONLY_URLS = ["http://localhost:8080/lib.git", "file:///srv/git/lib.git", "/srv/git/lib.git"]
DANGEROUS_URLS = [
    "",
    "ext::sh -c touch% /tmp/pwned",
    "fd::17",
    "transport::anything",
    "-uupload-pack=touch /tmp/pwned",
    "--upload-pack=x",
    "ssh://-oProxyCommand=touch%20x/repo",
    "ssh://-user@host/repo",
    "-oProxyCommand=x:repo",
    "git@-oProxyCommand=x:repo",
    "https://github.com/acme/lib.git\nhttps://evil",
    "https://github.com/acme/lib.git\r",
    "https://github.com/acme lib.git",
    "https://github.com/acme/\x00lib",
    "ftp://example.com/lib.git",
    "javascript://x/y",
    "https://",
    "https:///acme/lib.git",
    "https://github.com",
    "https://github.com:99999/acme/lib.git",
    "https://exa$mple.com/lib.git",
    "relative/path/lib",
    "./lib.git",
    "lib.git",
    "file://otherhost/srv/lib.git",
]


@pytest.mark.parametrize("url", REMOTE_URLS)
def test_remote_urls_are_accepted(url: str) -> None:
    assert validate_repository_url(url, allow_local=False) == url
    assert validate_repository_url(url, allow_local=True) == url
    assert not is_local_repository_url(url)


@pytest.mark.parametrize("url", LOCAL_ONLY_URLS)
def test_http_and_local_urls_need_allow_local(url: str) -> None:
    with pytest.raises(ValueError, match="local"):
        validate_repository_url(url, allow_local=False)
    assert validate_repository_url(url, allow_local=True) == url


def test_local_detection() -> None:
    assert is_local_repository_url("/srv/git/lib.git")
    assert is_local_repository_url("file:///srv/git/lib.git")
    assert not is_local_repository_url("http://localhost/lib.git")


@pytest.mark.parametrize("url", DANGEROUS_URLS)
@pytest.mark.parametrize("allow_local", [False, True])
def test_dangerous_or_malformed_urls_are_rejected(url: str, allow_local: bool) -> None:
    with pytest.raises(ValueError):
        validate_repository_url(url, allow_local=allow_local)


@pytest.mark.parametrize(
    "url", ["ftp://user:hunter2@host/x", "https://user:hunter2@exa$mple.com/x", "https://user:hunter2@host"]
)
def test_error_message_does_not_echo_credentials(url: str) -> None:
    with pytest.raises(ValueError) as caught:
        validate_repository_url(url, allow_local=False)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/lib",
        "https://github.com/acme/lib.git",
        "https://GitHub.com/Acme/Lib.git/",
        "https://token@github.com/acme/lib.git",
        "http://github.com/acme/lib",
        "ssh://git@github.com/acme/lib.git",
        "ssh://git@github.com:22/acme/lib",
        "git@github.com:acme/lib.git",
        "git@github.com:/acme/lib.git",
        "git://github.com/acme//lib.git",
    ],
)
def test_spellings_of_one_repository_share_a_key(url: str) -> None:
    assert canonical_repository_key(url) == "github.com/acme/lib"


def test_distinct_repositories_have_distinct_keys() -> None:
    keys = {
        canonical_repository_key(url)
        for url in (
            "https://github.com/acme/lib",
            "https://github.com/acme/lib-extra",
            "https://gitlab.com/acme/lib",
            "https://github.com/other/lib",
        )
    }
    assert len(keys) == 4


def test_local_keys() -> None:
    assert canonical_repository_key("file:///srv/git/lib.git") == "/srv/git/lib"
    assert canonical_repository_key("/srv/git/lib.git/") == "/srv/git/lib"
    assert canonical_repository_key("/srv/git/lib/.git") == "/srv/git/lib"
    with pytest.raises(ValueError):
        canonical_repository_key("ext::sh")
