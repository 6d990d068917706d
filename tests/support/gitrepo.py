"""Build local Git repositories to use as package sources in tests.

Everything is deterministic: author and committer are fixed, and every commit
(and annotated tag) gets a date one minute after the previous one of the same
repository, so the same sequence of calls always yields the same SHAs. The
user's and the system's Git configuration are never read.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

AUTHOR_NAME = "Cargoman Tests"
AUTHOR_EMAIL = "tests@cargoman.invalid"
#: Date of the first commit of every fixture repository (2024-01-01T00:00:00Z).
BASE_EPOCH = 1_704_067_200
DATE_STEP_SECONDS = 60

_SCRUBBED_PREFIXES = ("GIT_",)


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for running git isolated from any user/system configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    env.update(
        {
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": AUTHOR_NAME,
            "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
            "GIT_COMMITTER_NAME": AUTHOR_NAME,
            "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL,
            "LC_ALL": "C",
            "LANG": "C",
        }
    )
    if extra:
        env.update(extra)
    return env


class GitError(RuntimeError):
    pass


class GitRepo:
    """A working-tree Git repository on disk, driven through the git CLI."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).resolve()
        self._tick = 0

    # -- construction -----------------------------------------------------

    @classmethod
    def init(cls, path: Path | str, default_branch: str = "main") -> GitRepo:
        """Create (or reuse) ``path`` and run ``git init`` with ``default_branch``."""
        p = Path(path)
        p.mkdir(parents=True, exist_ok=True)
        repo = cls(p)
        repo.git("init", "--quiet", f"--initial-branch={default_branch}")
        return repo

    # -- properties ---------------------------------------------------------

    @property
    def url(self) -> str:
        """``file://`` URL of the repository."""
        return self.path.as_uri()

    def __fspath__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"GitRepo({str(self.path)!r})"

    # -- low level ------------------------------------------------------------

    def _next_date(self) -> str:
        when = BASE_EPOCH + self._tick * DATE_STEP_SECONDS
        self._tick += 1
        return f"{when} +0000"

    def git(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        """Run ``git -C <path> *args`` and return stdout stripped; raise GitError on failure."""
        cmd = [
            "git",
            "-c", "commit.gpgsign=false",
            "-c", "tag.gpgsign=false",
            "-c", "core.autocrlf=false",
            "-c", "advice.detachedHead=false",
            "-C", str(self.path),
            *args,
        ]  # fmt: skip
        proc = subprocess.run(cmd, env=git_env(env), capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise GitError(
                f"{' '.join(cmd)} failed with exit code {proc.returncode}:\n{proc.stdout}{proc.stderr}"
            )
        return proc.stdout.strip()

    # -- working tree -----------------------------------------------------------

    def write(self, files: Mapping[str, str | bytes | None]) -> None:
        """Write files relative to the work tree; ``None`` deletes the file."""
        for rel, content in files.items():
            target = self.path / rel
            if content is None:
                target.unlink(missing_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")

    def commit(self, message: str) -> str:
        """Stage everything (including deletions) and commit; return the new commit SHA.

        Empty commits are allowed.
        """
        self.git("add", "--all")
        date = self._next_date()
        self.git(
            "commit", "--quiet", "--allow-empty", "--no-verify", "-m", message,
            env={"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date},
        )  # fmt: skip
        return self.head()

    # -- refs ---------------------------------------------------------------------

    def tag(self, name: str, annotated: bool = False, message: str | None = None, ref: str = "HEAD") -> None:
        """Create tag ``name`` at ``ref``; annotated if ``annotated`` or a message is given."""
        if annotated or message is not None:
            date = self._next_date()
            self.git(
                "tag", "--annotate", "-m", message or name, name, ref,
                env={"GIT_COMMITTER_DATE": date},
            )  # fmt: skip
        else:
            self.git("tag", name, ref)

    def delete_tag(self, name: str) -> None:
        self.git("tag", "--delete", name)

    def branch(self, name: str, start: str | None = None) -> None:
        """Create branch ``name`` at ``start`` (default HEAD) without checking it out."""
        self.git("branch", name, *([start] if start else []))

    def checkout(self, name: str) -> None:
        self.git("checkout", "--quiet", name)

    def delete_branch(self, name: str) -> None:
        self.git("branch", "--delete", "--force", name)

    def head(self) -> str:
        """SHA of the commit HEAD points at."""
        return self.git("rev-parse", "HEAD")

    def rev_parse(self, ref: str) -> str:
        """Commit SHA that ``ref`` resolves to (annotated tags are peeled)."""
        return self.git("rev-parse", f"{ref}^{{commit}}")

    def current_branch(self) -> str:
        return self.git("symbolic-ref", "--short", "HEAD")

    def refs(self) -> dict[str, str]:
        """``{refname: object sha}`` of all refs, as ``git for-each-ref`` shows them."""
        out = self.git("for-each-ref", "--format=%(refname) %(objectname)")
        result: dict[str, str] = {}
        for line in out.splitlines():
            refname, sha = line.split(" ", 1)
            result[refname] = sha
        return result


def composer_json(
    name: str,
    version: str | None = None,
    require: Mapping[str, str] | None = None,
    autoload: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    **more: Any,
) -> str:
    """Render a composer.json document (pretty JSON with a trailing newline).

    Keyword arguments in ``more`` become top-level keys with ``_`` replaced by
    ``-`` (``require_dev=...`` -> ``"require-dev"``, ``minimum_stability=...``).
    Keys are only emitted when given (``None`` values are dropped).
    """
    doc: dict[str, Any] = {"name": name}
    if version is not None:
        doc["version"] = version
    if require is not None:
        doc["require"] = dict(require)
    if autoload is not None:
        doc["autoload"] = dict(autoload)
    if extra is not None:
        doc["extra"] = dict(extra)
    for key, value in more.items():
        if value is not None:
            doc[key.replace("_", "-")] = value
    return json.dumps(doc, indent=4, ensure_ascii=False) + "\n"


def release_repo(path: Path | str, name: str, tags: Sequence[str]) -> GitRepo:
    """A repository for package ``name`` with one commit and tag per entry of ``tags``.

    Each release writes ``src/Version.php`` holding its tag, so an installed copy tells which one it is.
    """
    repo = GitRepo.init(path)
    for tag in tags:
        repo.write(
            {
                "composer.json": composer_json(
                    name, description=f"{name} library", autoload={"psr-4": {"Acme\\Lib\\": "src/"}}
                ),
                "src/Version.php": f"<?php\nnamespace Acme\\Lib;\nconst VERSION = '{tag}';\n",
            }
        )
        repo.commit(f"release {tag}")
        repo.tag(tag)
    return repo
