"""Mirror against real git repositories built in tmp_path."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from tests.support.gitrepo import BASE_EPOCH, DATE_STEP_SECONDS, GitRepo, composer_json

from cargoman.gitsync.errors import GitError, scrub_secrets
from cargoman.gitsync.mirror import GitAuth, Mirror, Ref

if TYPE_CHECKING:
    from tests.unit.gitsync.conftest import ProtectedGitServer

MakeRepo = Callable[..., GitRepo]


@pytest.fixture
def source(make_git_repo: MakeRepo) -> GitRepo:
    repo = make_git_repo("acme-lib")
    repo.write({"composer.json": composer_json("acme/lib"), "src/Lib.php": "<?php\n"})
    repo.commit("initial")
    repo.tag("v1.0.0")
    return repo


@pytest.fixture
def mirror(source: GitRepo, tmp_path: Path) -> Mirror:
    return Mirror(tmp_path / "mirrors" / "acme-lib.git", source.url)


@pytest.fixture
def spawned_argv(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """argv of every process Mirror starts."""
    calls: list[list[str]] = []
    real_popen = subprocess.Popen

    def recording_popen(argv: list[str], *args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        calls.append(list(argv))
        return real_popen(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", recording_popen)
    yield calls


def refs_by_name(mirror: Mirror) -> dict[tuple[str, str], str]:
    return {(ref.kind, ref.name): ref.commit for ref in mirror.list_refs()}


def test_clone_then_incremental_fetch_picks_up_new_tag(source: GitRepo, mirror: Mirror) -> None:
    first = source.head()
    mirror.sync()
    assert mirror.exists()
    assert mirror.list_refs() == [Ref("branch", "main", first), Ref("tag", "v1.0.0", first)]

    source.write({"src/Extra.php": "<?php\n"})
    second = source.commit("second")
    source.tag("v1.1.0")
    mirror.sync()

    assert refs_by_name(mirror) == {
        ("branch", "main"): second,
        ("tag", "v1.0.0"): first,
        ("tag", "v1.1.0"): second,
    }
    # The clone was staged next to the mirror and renamed into place: nothing else is left there.
    assert [p.name for p in mirror.path.parent.iterdir()] == ["acme-lib.git"]


def test_deleted_tag_and_branch_disappear(source: GitRepo, mirror: Mirror) -> None:
    source.tag("v0.9.0")
    source.branch("feature")
    mirror.sync()
    assert {("tag", "v0.9.0"), ("branch", "feature")} <= refs_by_name(mirror).keys()

    source.delete_tag("v0.9.0")
    source.delete_branch("feature")
    mirror.sync()

    assert set(refs_by_name(mirror)) == {("branch", "main"), ("tag", "v1.0.0")}


def test_moved_tag_shows_new_commit(source: GitRepo, mirror: Mirror) -> None:
    mirror.sync()
    moved_to = source.commit("fix")
    source.git("tag", "--force", "v1.0.0", moved_to)
    mirror.sync()
    assert refs_by_name(mirror)[("tag", "v1.0.0")] == moved_to


def test_annotated_tags_are_peeled_to_commits(source: GitRepo, mirror: Mirror) -> None:
    commit = source.head()
    source.tag("v2.0.0", annotated=True)
    source.git("-c", "advice.nestedTag=false", "tag", "-a", "-m", "tag of a tag", "v2.0.0-nested", "v2.0.0")
    tree = source.git("rev-parse", "HEAD^{tree}")
    source.git("tag", "tree-tag", tree)  # not a commit: skipped
    mirror.sync()

    refs = refs_by_name(mirror)
    assert refs[("tag", "v2.0.0")] == commit
    assert refs[("tag", "v2.0.0-nested")] == commit
    assert ("tag", "tree-tag") not in refs


def test_default_branch_follows_upstream(source: GitRepo, mirror: Mirror) -> None:
    mirror.sync()
    assert mirror.default_branch() == "main"

    source.git("branch", "--move", "main", "trunk")
    mirror.sync()
    assert mirror.default_branch() == "trunk"
    assert ("branch", "main") not in refs_by_name(mirror)


def test_read_blobs_in_one_process(source: GitRepo, mirror: Mirror, spawned_argv: list[list[str]]) -> None:
    with_composer = source.head()
    source.write({"composer.json": None})
    without_composer = source.commit("drop composer.json")
    mirror.sync()
    spawned_argv.clear()

    requests = [(with_composer, "composer.json"), (without_composer, "composer.json"), (with_composer, "src")]
    requests += [(with_composer, f"missing-{i}.json") for i in range(300)]
    blobs = mirror.read_blobs(requests)

    assert blobs[(with_composer, "composer.json")] == composer_json("acme/lib").encode()
    assert blobs[(without_composer, "composer.json")] is None
    assert blobs[(with_composer, "src")] is None  # a directory, not a file
    assert blobs[(with_composer, "missing-299.json")] is None
    assert len(blobs) == len(requests)
    assert len(spawned_argv) == 1 and "cat-file" in spawned_argv[0]
    assert mirror.read_blobs([]) == {}


def test_read_blobs_handles_large_files(source: GitRepo, mirror: Mirror) -> None:
    big = bytes(range(256)) * 4096  # 1 MiB, more than any pipe buffer
    source.write({"big.bin": big})
    commit = source.commit("big")
    mirror.sync()
    blobs = mirror.read_blobs([(commit, "big.bin"), (commit, "composer.json")])
    assert blobs[(commit, "big.bin")] == big
    assert blobs[(commit, "composer.json")] == composer_json("acme/lib").encode()


def test_list_paths_globs_do_not_cross_directories(source: GitRepo, mirror: Mirror) -> None:
    source.write(
        {
            "packages/alpha/composer.json": "{}",
            "packages/beta/composer.json": "{}",
            "packages/beta/nested/deep/composer.json": "{}",
            "packages/README.md": "",
        }
    )
    commit = source.commit("monorepo")
    mirror.sync()

    assert mirror.list_paths(commit, "packages/*/composer.json") == [
        "packages/alpha/composer.json",
        "packages/beta/composer.json",
    ]
    assert mirror.list_paths(commit, "*.json") == ["composer.json"]
    assert mirror.list_paths(commit, "packages/**/composer.json") == [
        "packages/alpha/composer.json",
        "packages/beta/composer.json",
        "packages/beta/nested/deep/composer.json",
    ]
    assert mirror.list_paths(commit, "nothing/*/composer.json") == []


def test_commit_time_uses_committer_date(source: GitRepo, mirror: Mirror) -> None:
    first = source.head()
    second = source.commit("second")
    mirror.sync()

    times = mirror.commit_time([first, second, "f" * 40, "v1.0.0"])

    assert times == {
        first: datetime.fromtimestamp(BASE_EPOCH, tz=UTC),
        second: datetime.fromtimestamp(BASE_EPOCH + DATE_STEP_SECONDS, tz=UTC),
        "v1.0.0": datetime.fromtimestamp(BASE_EPOCH, tz=UTC),
    }


def test_failed_clone_leaves_nothing_behind(tmp_path: Path) -> None:
    mirror = Mirror(tmp_path / "mirrors" / "gone.git", str(tmp_path / "does-not-exist"))
    with pytest.raises(GitError, match="git clone failed"):
        mirror.sync()
    assert not mirror.path.exists()
    assert list((tmp_path / "mirrors").iterdir()) == []


@pytest.mark.parametrize(
    "url", ["ext::sh -c touch% /tmp/pwned", "-uupload-pack=touch", "ssh://-oProxyCommand=x/repo", "fd::7"]
)
def test_mirror_refuses_dangerous_urls(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValueError):
        Mirror(tmp_path / "m.git", url)


def test_error_messages_never_contain_credentials(tmp_path: Path) -> None:
    mirror = Mirror(tmp_path / "m.git", "http://user:secret@127.0.0.1:1/x.git", timeout=30)
    assert mirror.url == "http://127.0.0.1:1/x.git"
    with pytest.raises(GitError) as caught:
        mirror.sync()
    assert "secret" not in str(caught.value) and "secret" not in caught.value.stderr
    assert "127.0.0.1" in str(caught.value)  # still useful

    with_auth = Mirror(tmp_path / "m2.git", "https://127.0.0.1:1/x.git", auth=GitAuth("u", "tok-secret"))
    assert "tok-secret" not in repr(with_auth) and "tok-secret" not in repr(with_auth.auth)
    assert "tok-secret" not in str(GitError("fatal: tok-secret rejected", secrets=["tok-secret"]))
    assert scrub_secrets("fatal: 'https://a:b@h/x' failed") == "fatal: 'https://***@h/x' failed"


def test_authenticated_fetch_passes_token_only_through_environment(
    source: GitRepo, git_http_server: ProtectedGitServer, tmp_path: Path, spawned_argv: list[list[str]]
) -> None:
    url = _serve(source, git_http_server)

    mirror = Mirror(tmp_path / "m.git", url, auth=GitAuth(git_http_server.username, git_http_server.token))
    mirror.sync()
    mirror.sync()  # incremental fetch authenticates as well

    assert refs_by_name(mirror)[("tag", "v1.0.0")] == source.head()
    assert git_http_server.authorizations[0] is None  # git only sends credentials once challenged
    assert any(git_http_server.authorizations)
    token = git_http_server.token
    assert spawned_argv and not any(token in arg for argv in spawned_argv for arg in argv)
    assert token not in (mirror.path / "config").read_text()

    wrong = Mirror(tmp_path / "wrong.git", url, auth=GitAuth(git_http_server.username, "not-the-token"))
    with pytest.raises(GitError) as caught:
        wrong.sync()
    assert "not-the-token" not in str(caught.value)
    assert not wrong.path.exists()


@pytest.fixture
def redirector(git_http_server: ProtectedGitServer) -> Iterator[str]:
    """An HTTP server on another port (so another host for git) that redirects every request to the git
    server: a repository host answering with a redirect to a server it does not control."""

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", git_http_server.url + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def _serve(source: GitRepo, server: ProtectedGitServer) -> str:
    served = server.root / "acme-lib.git"
    subprocess.run(["git", "clone", "--bare", "--quiet", str(source.path), str(served)], check=True)
    return f"{server.url}/acme-lib.git"


def test_credentials_never_follow_a_redirect_to_another_host(
    source: GitRepo, git_http_server: ProtectedGitServer, redirector: str, tmp_path: Path
) -> None:
    _serve(source, git_http_server)
    auth = GitAuth(git_http_server.username, git_http_server.token)
    mirror = Mirror(tmp_path / "m.git", f"{redirector}/acme-lib.git", auth=auth)

    with pytest.raises(GitError):
        mirror.sync()

    assert not any(git_http_server.authorizations)  # the redirect target never saw the token
    assert not mirror.path.exists()


def test_the_credential_helper_answers_only_for_the_repository_host(
    source: GitRepo, git_http_server: ProtectedGitServer, redirector: str, tmp_path: Path
) -> None:
    other_host_url = _serve(source, git_http_server)
    auth = GitAuth(git_http_server.username, git_http_server.token)
    mirror = Mirror(tmp_path / "m.git", f"{redirector}/acme-lib.git", auth=auth)

    # git asks the helper for the git server's host; the mirror's credentials are for the redirector's.
    clone = ("clone", "--mirror", "--quiet", "--", other_host_url, str(tmp_path / "other.git"))
    with pytest.raises(GitError), mirror.git_process(*clone, network=True) as git:
        git.communicate()

    assert git_http_server.authorizations and not any(git_http_server.authorizations)


def test_timeout_kills_git(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        mirror = Mirror(tmp_path / "m.git", f"http://127.0.0.1:{port}/x.git", timeout=1)
        with pytest.raises(GitError, match="timed out"):
            mirror.sync()


def test_empty_repository(tmp_path: Path) -> None:
    upstream = tmp_path / "empty.git"
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(upstream)], check=True)
    mirror = Mirror(tmp_path / "m.git", str(upstream))
    mirror.sync()
    mirror.sync()
    assert mirror.list_refs() == []
    assert mirror.default_branch() is None
    assert mirror.read_blobs([("HEAD", "composer.json")]) == {("HEAD", "composer.json"): None}
    assert mirror.commit_time(["HEAD"]) == {}
