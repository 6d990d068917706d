"""Bare mirrors of package repositories, driven through the system `git` binary.

Credentials never reach git's argv, the stored remote URL or an error message: they travel in environment
variables that a one-line credential helper (given on the command line, with no secret in it) prints back
to git when the server asks for them.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from cargoman.gitsync.errors import GitError
from cargoman.gitsync.urls import is_local_repository_url, validate_repository_url

_USERNAME_ENV = "CARGOMAN_GIT_USERNAME"
_PASSWORD_ENV = "CARGOMAN_GIT_PASSWORD"
_PROTOCOL_ENV = "CARGOMAN_GIT_PROTOCOL"
_HOST_ENV = "CARGOMAN_GIT_HOST"
_CREDENTIAL_ENV = (_USERNAME_ENV, _PASSWORD_ENV, _PROTOCOL_ENV, _HOST_ENV)
# Answers only `get`, so git's `store`/`erase` calls can never persist or drop anything, and only for
# the repository's own protocol and host (git names the host it asks for on stdin), so no other server
# -- one a redirect points at, say -- is ever handed the credentials.
_CREDENTIAL_HELPER = (
    '!f() { test "$1" = get || exit 0; p=; h=; '
    'while IFS= read -r l; do case "$l" in '
    'protocol=*) p="${l#protocol=}";; host=*) h="${l#host=}";; esac; done; '
    f'test "$p" = "${_PROTOCOL_ENV}" && test "$h" = "${_HOST_ENV}" || exit 0; '
    f'printf "username=%s\\npassword=%s\\n" "${_USERNAME_ENV}" "${_PASSWORD_ENV}"; }}; f'
)
# Inherited from a parent git process (e.g. when run from a hook) these would redirect our commands.
_REPOSITORY_LOCATION_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
)
_BRANCH_AND_TAG_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
_READ_CHUNK = 1 << 20


@dataclass
class GitAuth:
    """HTTP(S) credentials: a user name and a password or access token."""

    username: str
    token: str = field(repr=False)

    def __post_init__(self) -> None:
        # Newlines would break git's credential protocol (and let a value inject extra fields).
        if any(c in value for value in (self.username, self.token) for c in "\n\r\x00"):
            raise ValueError("git credentials must not contain newlines or NUL characters")


@dataclass(frozen=True)
class Ref:
    kind: Literal["tag", "branch"]
    name: str  # without the refs/tags/ or refs/heads/ prefix
    commit: str  # annotated tags are peeled to the commit they point at


def check_revision(revision: str) -> str:
    """Refuse a revision that git could parse as an option or that breaks line-based protocols."""
    if not revision or revision.startswith("-") or any(c.isspace() or c == "\x00" for c in revision):
        raise ValueError(f"invalid git revision {revision!r}")
    return revision


def _kill_process_group(process: subprocess.Popen[bytes]) -> None:
    # git spawns helpers (git-remote-https, ssh, index-pack) that would otherwise outlive a timeout.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


class GitProcess:
    """A running git command, killed with its whole process group on timeout or early exit.

    stderr is spooled to an anonymous temp file so that a chatty command can never block on a full pipe
    while the caller is busy streaming stdout.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str],
        timeout: float,
        secrets: Sequence[str],
        stdin: bool = False,
    ) -> None:
        self._description = f"git {_subcommand(argv)}"
        self._secrets = tuple(secrets)
        self._timeout = timeout
        self._timed_out = False
        # Closed in __exit__: it must outlive this method.
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self.process: subprocess.Popen[bytes] = subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                env=env,
                # Own session: no controlling terminal for ssh to prompt on, and one group to kill.
                start_new_session=True,
            )
        except OSError as exc:
            self._stderr.close()
            raise GitError(f"cannot run git: {exc}", secrets=self._secrets) from None
        self._timer = threading.Timer(timeout, self._on_timeout)
        self._timer.daemon = True
        self._timer.start()

    @property
    def stdin(self) -> IO[bytes]:
        assert self.process.stdin is not None
        return self.process.stdin

    @property
    def stdout(self) -> IO[bytes]:
        assert self.process.stdout is not None
        return self.process.stdout

    def _on_timeout(self) -> None:
        self._timed_out = True
        _kill_process_group(self.process)

    def communicate(self, data: bytes | None = None) -> bytes:
        stdout, _ = self.process.communicate(data)
        self.check()
        return stdout

    def check(self) -> None:
        """Wait for exit; raise GitError (scrubbed) on timeout or a non-zero exit status."""
        returncode = self.process.wait()
        self._timer.cancel()
        if self._timed_out:
            raise GitError(f"{self._description} timed out after {self._timeout:g}s", secrets=self._secrets)
        if returncode != 0:
            raise self.error(f"{self._description} failed (exit status {returncode})")

    def error(self, message: str) -> GitError:
        """A GitError for ``message`` with git's stderr appended."""
        returncode = self.process.poll()
        self._stderr.seek(0)
        stderr = self._stderr.read(64 * 1024).decode("utf-8", "replace").strip()
        full_message = f"{message}: {stderr}" if stderr else message
        return GitError(full_message, secrets=self._secrets, returncode=returncode, stderr=stderr)

    def __enter__(self) -> GitProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        if self.process.poll() is None:
            _kill_process_group(self.process)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self.process.wait()
        self._stderr.close()


def _subcommand(argv: Sequence[str]) -> str:
    # argv is `git [--git-dir X] [-c k=v]... <subcommand> ...`
    index = 1
    while index < len(argv):
        if argv[index] in ("-c", "--git-dir"):
            index += 2
            continue
        return argv[index]
    return "?"


class Mirror:
    """A bare ``git clone --mirror`` of a remote repository at ``path``."""

    def __init__(self, path: Path, url: str, auth: GitAuth | None = None, timeout: float = 600) -> None:
        # Callers apply their own policy (e.g. no local paths in production) with validate_repository_url;
        # this only refuses what would be unsafe to hand to git at all.
        validate_repository_url(url, allow_local=True)
        self.path = Path(path)
        self.timeout = timeout
        self.is_local = is_local_repository_url(url)
        self.url, url_auth = _split_credentials(url)
        self.auth = auth if auth is not None else url_auth
        self._secrets = tuple(s for s in (self.auth.token if self.auth else "", *_url_secrets(url)) if s)

    def __repr__(self) -> str:
        return f"Mirror(path={str(self.path)!r}, url={self.url!r})"

    # -- running git ------------------------------------------------------------------------------------

    def git_process(self, *args: str, network: bool = False, stdin: bool = False) -> GitProcess:
        """Start ``git <args>`` on this mirror.

        Use it as a context manager and finish with ``check()`` or ``communicate()``.
        """
        argv = ["git"]
        if args[0] != "clone":
            argv += ["--git-dir", str(self.path)]
        if network:
            if self.is_local:
                argv += ["-c", "protocol.file.allow=always"]
            if self.auth is not None:
                # The empty value first drops any configured helper (e.g. `store`, which would write our
                # token to disk), so ours is the only one git asks. No redirect is followed: the
                # credentials are for this URL's server alone.
                argv += ["-c", "credential.helper=", "-c", f"credential.helper={_CREDENTIAL_HELPER}"]
                argv += ["-c", "http.followRedirects=false"]
        argv += args
        env = self._env(network)
        return GitProcess(argv, env=env, timeout=self.timeout, secrets=self._secrets, stdin=stdin)

    def _run(self, *args: str, network: bool = False, input_data: bytes | None = None) -> bytes:
        with self.git_process(*args, network=network, stdin=input_data is not None) as process:
            return process.communicate(input_data)

    def _env(self, network: bool) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _REPOSITORY_LOCATION_ENV}
        for name in _CREDENTIAL_ENV:
            env.pop(name, None)
        env["GIT_TERMINAL_PROMPT"] = "0"
        env["LC_ALL"] = "C"  # stable, English messages
        if network:
            # Only the transports validate_repository_url accepts (never ext::, fd:: or the like).
            env["GIT_ALLOW_PROTOCOL"] = "https:http:ssh:git" + (":file" if self.is_local else "")
            if self.auth is not None:
                protocol, host = _credential_origin(self.url)
                env[_USERNAME_ENV] = self.auth.username
                env[_PASSWORD_ENV] = self.auth.token
                env[_PROTOCOL_ENV] = protocol
                env[_HOST_ENV] = host
        return env

    # -- syncing ----------------------------------------------------------------------------------------

    def exists(self) -> bool:
        return (self.path / "HEAD").is_file() and (self.path / "objects").is_dir()

    def sync(self) -> None:
        """Clone the mirror if it does not exist yet, else fetch all branches and tags incrementally.

        Branches and tags deleted upstream are deleted here; moved tags are moved.
        """
        if not self.exists():
            self._clone()
            return
        self._run(
            "fetch", "--prune", "--prune-tags", "--force", "--quiet", "--no-write-fetch-head",
            "--", self.url, *_BRANCH_AND_TAG_REFSPECS,
            network=True,
        )  # fmt: skip
        self._update_head()

    def _clone(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Clone next to the final location (same filesystem) and rename into place, so an interrupted clone
        # never leaves something that looks like a mirror.
        staging_dir = tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".cloning", dir=self.path.parent)
        staging = Path(staging_dir)
        try:
            target = staging / "mirror.git"
            # --no-local: a real fetch instead of hard-linking the source repository's object files.
            local_flags = ["--no-local"] if self.is_local else []
            self._run("clone", "--mirror", "--quiet", *local_flags, "--", self.url, str(target), network=True)
            try:
                os.rename(target, self.path)
            except OSError as exc:
                if not self.exists():
                    raise GitError(f"cannot move the new mirror into place at {self.path}: {exc}") from None
                # A concurrent sync finished first; its mirror is as good as ours.
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _update_head(self) -> None:
        # `git fetch` never updates HEAD, so a renamed default branch upstream would go unnoticed.
        output = self._run("ls-remote", "--symref", "--", self.url, "HEAD", network=True).decode()
        for line in output.splitlines():
            if line.startswith("ref: ") and line.endswith("\tHEAD"):
                target = line[len("ref: ") : -len("\tHEAD")]
                if target.startswith("refs/heads/"):
                    self._run("symbolic-ref", "HEAD", target)
                return

    # -- reading --------------------------------------------------------------------------------------

    def list_refs(self) -> list[Ref]:
        """All branches and tags, sorted by ref name; tags pointing at something other than a commit are
        left out."""
        fields = "%(refname)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)"
        output = self._run("for-each-ref", f"--format={fields}", "refs/heads", "refs/tags").decode(
            "utf-8", "surrogateescape"
        )
        entries: list[tuple[Literal["tag", "branch"], str, str]] = []
        nested_tags: list[str] = []  # tags of tags: for-each-ref peels only one level
        for line in output.splitlines():
            refname, object_type, object_name, peeled_type, peeled_name = line.split("\x00")
            kind: Literal["tag", "branch"]
            if refname.startswith("refs/tags/"):
                kind, name = "tag", refname[len("refs/tags/") :]
            else:
                kind, name = "branch", refname[len("refs/heads/") :]
            if object_type == "commit":
                entries.append((kind, name, object_name))
            elif object_type == "tag" and peeled_type == "commit":
                entries.append((kind, name, peeled_name))
            elif object_type == "tag" and peeled_type == "tag":
                entries.append((kind, name, object_name))
                nested_tags.append(object_name)
        if nested_tags:
            peeled = self._peel_to_commits(nested_tags)
            entries = [
                (kind, name, peeled.get(target, "") if target in nested_tags else target)
                for kind, name, target in entries
            ]
        return [Ref(kind, name, commit) for kind, name, commit in entries if commit]

    def _peel_to_commits(self, objects: list[str]) -> dict[str, str]:
        queries = "".join(f"{name}^{{commit}}\n" for name in objects).encode()
        output = self._run("cat-file", "--batch-check", input_data=queries).decode()
        peeled: dict[str, str] = {}
        for name, line in zip(objects, output.splitlines(), strict=True):
            parts = line.split()
            if len(parts) == 3 and parts[1] == "commit":
                peeled[name] = parts[0]
        return peeled

    def default_branch(self) -> str | None:
        """Name of the branch HEAD points at, or None (detached HEAD, empty repository)."""
        try:
            target = self._run("symbolic-ref", "--quiet", "HEAD").decode().strip()
        except GitError:
            return None
        if not target.startswith("refs/heads/"):
            return None
        try:
            self._run("show-ref", "--verify", "--quiet", target)
        except GitError:
            return None
        return target[len("refs/heads/") :]

    def read_blobs(self, requests: list[tuple[str, str]]) -> dict[tuple[str, str], bytes | None]:
        """``{(commit, path): content}`` for files at commits; None where the file does not exist (or is a
        directory). All requests are answered by a single ``git cat-file --batch``."""
        unique = list(dict.fromkeys(requests))
        readable = [(commit, path) for commit, path in unique if _usable_in_batch(commit, path)]
        objects = self._cat_file([f"{commit}:{path}" for commit, path in readable])
        result: dict[tuple[str, str], bytes | None] = dict.fromkeys(unique)
        for request, found in zip(readable, objects, strict=True):
            if found is not None and found[0] == "blob":
                result[request] = found[1]
        return result

    def _cat_file(self, object_names: list[str]) -> list[tuple[str, bytes] | None]:
        """``(type, content)`` or None (missing) for each name, from one ``git cat-file --batch``."""
        if not object_names:
            return []
        results: list[tuple[str, bytes] | None] = []
        with self.git_process("cat-file", "--batch", stdin=True) as process:
            # Feed requests from a thread: writing them all before reading could deadlock once both pipe
            # buffers are full.
            writer = threading.Thread(target=_write_lines, args=(process.stdin, object_names), daemon=True)
            writer.start()
            for _ in object_names:
                header = process.stdout.readline()
                if not header.endswith(b"\n"):
                    raise process.error("git cat-file --batch stopped unexpectedly")
                parts = header.split()
                if len(parts) != 3:  # "<name> missing" / "<name> ambiguous"
                    results.append(None)
                    continue
                size = int(parts[2])
                content = process.stdout.read(size)
                process.stdout.read(1)  # the newline after each object
                if len(content) != size:
                    raise process.error("git cat-file --batch returned a truncated object")
                results.append((parts[1].decode(), content))
            writer.join()
            process.stdout.close()
            process.check()
        return results

    def list_paths(self, commit: str, pattern: str) -> list[str]:
        """Files of ``commit`` matching a glob such as ``packages/*/composer.json``.

        ``*``, ``?`` and ``[...]`` match within one path segment; a ``**`` segment matches any number of
        segments.
        """
        check_revision(commit)
        segments = pattern.strip("/").split("/")
        literal_prefix: list[str] = []
        for segment in segments[:-1]:
            if segment == "**" or any(c in segment for c in "*?["):
                break
            literal_prefix.append(segment)
        # Let git skip the trees outside the literal leading directories of the pattern.
        pathspec = ["--", "/".join(literal_prefix) + "/"] if literal_prefix else []
        output = self._run("ls-tree", "-r", "-z", "--name-only", "--full-tree", commit, *pathspec)
        paths = output.decode("utf-8", "surrogateescape").split("\x00")
        return [path for path in paths if path and _glob_match(path.split("/"), segments)]

    def commit_time(self, commits: list[str]) -> dict[str, datetime]:
        """Committer date (UTC) of each commit; unknown commits are left out. One git process."""
        unique = [commit for commit in dict.fromkeys(commits) if _usable_in_batch(commit, "")]
        objects = self._cat_file([f"{commit}^{{commit}}" for commit in unique])
        times: dict[str, datetime] = {}
        for commit, found in zip(unique, objects, strict=True):
            if found is not None and found[0] == "commit":
                when = _committer_time(found[1])
                if when is not None:
                    times[commit] = when
        return times


def _write_lines(stream: IO[bytes], lines: list[str]) -> None:
    try:
        for line in lines:
            stream.write(line.encode("utf-8", "surrogateescape") + b"\n")
        stream.close()
    except (BrokenPipeError, ValueError):
        pass  # git died or the reader gave up; the reader reports the error


def _usable_in_batch(revision: str, path: str) -> bool:
    # cat-file --batch is line based: a newline in a request would split it in two.
    return bool(revision) and not any(c in revision + path for c in "\n\r\x00")


def _committer_time(commit_object: bytes) -> datetime | None:
    headers = commit_object.split(b"\n\n", 1)[0]
    for line in headers.split(b"\n"):
        if line.startswith(b"committer "):
            # "committer Name <email> 1704067200 +0100"; the name may contain anything but '<' / '>'
            parts = line.rsplit(b" ", 2)
            try:
                return datetime.fromtimestamp(int(parts[1]), tz=UTC)
            except (ValueError, IndexError, OverflowError, OSError):
                return None
    return None


def _glob_match(path: list[str], pattern: list[str]) -> bool:
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_glob_match(path[skip:], rest) for skip in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatchcase(path[0], head) and _glob_match(path[1:], rest)


def _split_credentials(url: str) -> tuple[str, GitAuth | None]:
    """Move ``user:token@`` out of an http(s) URL, so it never reaches argv or the mirror's config."""
    parts = urlsplit(url) if "://" in url else None
    if parts is None or "@" not in parts.netloc:
        return url, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    if parts.scheme.lower() in ("http", "https"):
        auth = GitAuth(unquote(username), unquote(password))
        return urlunsplit(parts._replace(netloc=hostport)), auth
    # ssh: the user name selects the account and is no secret, but a password has no business here.
    return urlunsplit(parts._replace(netloc=f"{username}@{hostport}")), None


def _credential_origin(url: str) -> tuple[str, str]:
    """The ``protocol`` and ``host`` (with any port, as written) git names when it asks for credentials
    for ``url``."""
    parts = urlsplit(url) if "://" in url else None
    if parts is None:
        return "", ""
    return parts.scheme, parts.netloc.rpartition("@")[2]


def _url_secrets(url: str) -> list[str]:
    if "://" not in url:
        return []
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return []
    userinfo = parts.netloc.rpartition("@")[0]
    username, _, password = userinfo.partition(":")
    secrets = [password, unquote(password)]
    if not password and parts.scheme.lower() in ("http", "https"):
        secrets += [username, unquote(username)]  # `https://<token>@host` puts the token in the user name
    return [s for s in secrets if s]
