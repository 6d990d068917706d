"""Drive the real ``composer`` client against a Composer repository in tests.

Each :class:`ComposerProject` is an isolated root project: its own
``COMPOSER_HOME`` and (unless one is shared on purpose) its own
``COMPOSER_CACHE_DIR``; packagist.org is disabled and the only repository is
the one under test. Credentials travel in ``COMPOSER_AUTH`` as ``http-basic``
with the username ``token``, keyed by the repository's ``host:port``.

Reading ``-vvv`` output (composer 2.5, checked against a local HTTP server;
all of these lines go to **stderr**)::

    Downloading http://127.0.0.1:8080/packages.json
    [200] http://127.0.0.1:8080/packages.json
    Writing /cache/repo/http---127.0.0.1-8080/packages.json into cache
    Reading /cache/repo/http---127.0.0.1-8080/provider-acme~foo.json from cache
    Downloading http://127.0.0.1:8080/p2/acme/foo.json if modified
    [304] http://127.0.0.1:8080/p2/acme/foo.json
    [401] http://127.0.0.1:8080/packages.json
    Reading /cache/files/acme/foo/5252953b....zip from cache
      - Loading acme/foo (1.0.0) from cache

* Every HTTP response is one line ``[STATUS] URL`` -- :data:`HTTP_STATUS_RE`
  ``^\\[(\\d{3})\\] (\\S+)$``. A 304 is ``[304] URL``. Composer sends
  ``If-Modified-Since`` (the ``Last-Modified`` of the cached copy) for the root
  ``packages.json`` and for ``metadata-url`` files it has cached, and logs
  ``Downloading URL if modified`` for such requests.
* A request is ``Downloading URL`` optionally followed by `` if modified`` --
  :data:`DOWNLOAD_RE`.
* A cache read is ``Reading PATH from cache`` -- :data:`CACHE_READ_RE`;
  metadata lives under ``<cache>/repo/``, dist archives under ``<cache>/files/``.
  A dist installed from the cache also prints ``  - Loading NAME (VERSION) from cache``
  -- :data:`DIST_FROM_CACHE_RE` -- and no ``Downloading`` line for its URL.
* A cache write is ``Writing PATH into cache`` (dists: ``... into cache from TMPFILE``).
"""

from __future__ import annotations

import enum
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

COMPOSER_BIN = shutil.which("composer") or "/usr/bin/composer"
DEFAULT_TIMEOUT = 180.0

HTTP_STATUS_RE = re.compile(r"^\[(?P<status>\d{3})\] (?P<url>\S+)\s*$", re.MULTILINE)
DOWNLOAD_RE = re.compile(r"^Downloading (?P<url>\S+)(?P<if_modified> if modified)?\s*$", re.MULTILINE)
CACHE_READ_RE = re.compile(r"^Reading (?P<path>.+) from cache\s*$", re.MULTILINE)
CACHE_WRITE_RE = re.compile(r"^Writing (?P<path>\S+) into cache(?: from \S+)?\s*$", re.MULTILINE)
DIST_FROM_CACHE_RE = re.compile(
    r"^\s*- Loading (?P<name>\S+) \((?P<version>[^)]+)\) from cache\s*$", re.MULTILINE
)


class _Unset(enum.Enum):
    UNSET = enum.auto()


#: Default for ``token=`` arguments: use the project's own token.
UNSET = _Unset.UNSET


@dataclass(frozen=True)
class HttpExchange:
    status: int
    url: str


def _text(output: subprocess.CompletedProcess[str] | str) -> str:
    if isinstance(output, str):
        return output
    return f"{output.stdout or ''}\n{output.stderr or ''}"


def http_exchanges(output: subprocess.CompletedProcess[str] | str) -> list[HttpExchange]:
    """All ``[STATUS] URL`` lines of a ``-vvv`` run, in order."""
    return [HttpExchange(int(m["status"]), m["url"]) for m in HTTP_STATUS_RE.finditer(_text(output))]


def urls_with_status(output: subprocess.CompletedProcess[str] | str, status: int) -> list[str]:
    """URLs that got ``status`` (e.g. 304) in a ``-vvv`` run."""
    return [x.url for x in http_exchanges(output) if x.status == status]


def cache_reads(output: subprocess.CompletedProcess[str] | str) -> list[str]:
    """Cache file paths composer read (``Reading PATH from cache``) in a ``-vvv`` run."""
    return [m["path"] for m in CACHE_READ_RE.finditer(_text(output))]


def dists_from_cache(output: subprocess.CompletedProcess[str] | str) -> dict[str, str]:
    """``{package name: version}`` of dists installed from the local cache."""
    return {m["name"]: m["version"] for m in DIST_FROM_CACHE_RE.finditer(_text(output))}


def describe(proc: subprocess.CompletedProcess[str]) -> str:
    """Human-readable summary of a composer run, for assertion messages."""
    args = proc.args if isinstance(proc.args, str) else " ".join(map(str, proc.args))
    return (
        f"$ {args}\nexit code {proc.returncode}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    )


class ComposerProject:
    """An isolated Composer root project that uses only ``repository_url``."""

    def __init__(
        self,
        path: Path,
        repository_url: str,
        token: str | None,
        cache_dir: Path | None = None,
        *,
        minimum_stability: str = "stable",
        prefer_stable: bool = True,
        require: Mapping[str, str] | None = None,
        extra_config: Mapping[str, Any] | None = None,
        composer_bin: str = COMPOSER_BIN,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.path = Path(path).resolve()
        self.repository_url = repository_url.rstrip("/")
        self.token = token
        self.composer_bin = composer_bin
        self.timeout = timeout
        self.path.mkdir(parents=True, exist_ok=True)
        # Kept beside the project so that `vendor/` and the project stay clean.
        self.home_dir = self.path.parent / f"{self.path.name}.composer-home"
        self.cache_dir = (
            Path(cache_dir).resolve()
            if cache_dir is not None
            else self.path.parent / f"{self.path.name}.composer-cache"
        )
        self.home_dir.mkdir(parents=True, exist_ok=True)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        manifest: dict[str, Any] = {
            "name": "cargoman-tests/project",
            "type": "project",
            "description": "Cargoman test project",
            "license": "proprietary",
            "require": dict(require or {}),
            "repositories": [
                {"type": "composer", "url": self.repository_url},
                {"packagist.org": False},
            ],
            "config": {"secure-http": False, "allow-plugins": False, **dict(extra_config or {})},
            "minimum-stability": minimum_stability,
            "prefer-stable": prefer_stable,
        }
        self.write_manifest(manifest)

    # -- files ----------------------------------------------------------------------

    @property
    def manifest_path(self) -> Path:
        return self.path / "composer.json"

    @property
    def lock_path(self) -> Path:
        return self.path / "composer.lock"

    @property
    def vendor_dir(self) -> Path:
        return self.path / "vendor"

    def manifest(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.manifest_path.read_text())
        return data

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        self.manifest_path.write_text(json.dumps(manifest, indent=4) + "\n")

    def lock(self) -> dict[str, Any]:
        """Parsed composer.lock."""
        data: dict[str, Any] = json.loads(self.lock_path.read_text())
        return data

    def installed(self) -> dict[str, str]:
        """``{name: pretty version}`` from vendor/composer/installed.json ({} if nothing installed)."""
        path = self.vendor_dir / "composer" / "installed.json"
        if not path.exists():
            return {}
        data = json.loads(path.read_text())
        packages = data["packages"] if isinstance(data, dict) else data
        return {p["name"]: p["version"] for p in packages}

    # -- environment ------------------------------------------------------------------

    @property
    def auth_host(self) -> str:
        """The ``host[:port]`` key composer matches credentials against."""
        parts = urlsplit(self.repository_url)
        return parts.netloc.rsplit("@", 1)[-1]

    def env(self, token: str | _Unset | None = UNSET) -> dict[str, str]:
        """Environment for a composer run (``token`` overrides the project's token; None = no auth)."""
        tok = self.token if isinstance(token, _Unset) else token
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSER")}
        env.update(
            {
                "COMPOSER_HOME": str(self.home_dir),
                "COMPOSER_CACHE_DIR": str(self.cache_dir),
                "COMPOSER_NO_INTERACTION": "1",
                "COMPOSER_ALLOW_SUPERUSER": "1",
                "COMPOSER_NO_AUDIT": "1",
                "COMPOSER_ROOT_VERSION": "1.0.0",
                "COMPOSER_PROCESS_TIMEOUT": str(int(self.timeout)),
                "LC_ALL": "C",
            }
        )
        if tok is not None:
            env["COMPOSER_AUTH"] = json.dumps(
                {"http-basic": {self.auth_host: {"username": "token", "password": tok}}}
            )
        host = urlsplit(self.repository_url).hostname or ""
        for var in ("no_proxy", "NO_PROXY"):
            entries = [e for e in env.get(var, "").split(",") if e]
            for h in (host, "127.0.0.1", "localhost"):
                if h and h not in entries:
                    entries.append(h)
            env[var] = ",".join(entries)
        return env

    # -- commands -------------------------------------------------------------------------

    def run(
        self,
        *args: str,
        verbose: bool = False,
        token: str | _Unset | None = UNSET,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``composer ARGS --no-ansi`` (plus ``-vvv`` if ``verbose``) in the project.

        Never raises on a non-zero exit status; raises ``subprocess.TimeoutExpired``
        after ``timeout`` (default 180 s).
        """
        cmd: list[str] = [self.composer_bin, *args, "--no-ansi"]
        if verbose:
            cmd.append("-vvv")
        run_env = self.env(token)
        if env:
            run_env.update(env)
        return subprocess.run(
            cmd,
            cwd=self.path,
            env=run_env,
            capture_output=True,
            text=True,
            timeout=timeout if timeout is not None else self.timeout,
            check=False,
        )

    def require(
        self, spec: str, *extra_args: str, verbose: bool = False, token: str | _Unset | None = UNSET
    ) -> subprocess.CompletedProcess[str]:
        """``composer require SPEC`` (e.g. ``"acme/foo:^1.0"``)."""
        return self.run("require", spec, *extra_args, verbose=verbose, token=token)

    def update(
        self, *args: str, verbose: bool = False, token: str | _Unset | None = UNSET
    ) -> subprocess.CompletedProcess[str]:
        """``composer update ARGS``."""
        return self.run("update", *args, verbose=verbose, token=token)

    def install(
        self, *args: str, verbose: bool = False, token: str | _Unset | None = UNSET
    ) -> subprocess.CompletedProcess[str]:
        """``composer install ARGS``."""
        return self.run("install", *args, verbose=verbose, token=token)

    def clear_cache(self) -> None:
        """Empty this project's cache directory (shared caches included!)."""
        shutil.rmtree(self.cache_dir, ignore_errors=True)
        self.cache_dir.mkdir(parents=True, exist_ok=True)

    def remove_vendor(self, lock: bool = False) -> None:
        """Delete vendor/ (and composer.lock if ``lock``), to re-install from scratch."""
        shutil.rmtree(self.vendor_dir, ignore_errors=True)
        if lock:
            self.lock_path.unlink(missing_ok=True)


def composer_available() -> str | None:
    """Why the real composer client cannot run here, or ``None``."""
    if not Path(COMPOSER_BIN).exists():
        return "composer is not installed (Debian package 'composer')"
    if shutil.which("php") is None:
        return "php is not installed (Debian package 'php-cli')"
    return None


__all__: Sequence[str] = [
    "CACHE_READ_RE",
    "CACHE_WRITE_RE",
    "DIST_FROM_CACHE_RE",
    "DOWNLOAD_RE",
    "HTTP_STATUS_RE",
    "ComposerProject",
    "HttpExchange",
    "cache_reads",
    "composer_available",
    "describe",
    "dists_from_cache",
    "http_exchanges",
    "urls_with_status",
]
