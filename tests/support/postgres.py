"""Throwaway PostgreSQL clusters for tests.

A cluster is initialised with ``initdb`` in a fresh directory, listens on
127.0.0.1 on a free port (plus a unix socket inside its own directory), trusts
every connection (it is reachable only from this machine and lives only for
the test run) and trades durability for speed (``fsync=off``,
``synchronous_commit=off``, ``full_page_writes=off``).

``initdb`` refuses to run as root, so when the tests run as root the server
binaries run as the ``postgres`` system user through ``runuser``, in a
directory owned by that user.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

PG_LIB_ROOT = Path("/usr/lib/postgresql")
PG_SUPERUSER = "postgres"
DEFAULT_DBNAME = "cargoman"
_DBNAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# sockaddr_un.sun_path is 108 bytes; keep room for "/.s.PGSQL.NNNNN".
_MAX_SOCKET_DIR_LEN = 80


class PostgresUnavailable(RuntimeError):
    """Raised when a cluster cannot be started on this machine."""


def _version_key(path: Path) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in path.parent.parent.name.split("."))
    except ValueError:
        return (0,)


def find_pg_bin() -> Path | None:
    """Directory holding initdb/pg_ctl of the newest PostgreSQL under /usr/lib/postgresql."""
    candidates = [
        p
        for p in PG_LIB_ROOT.glob("*/bin/initdb")
        if os.access(p, os.X_OK) and (p.parent / "pg_ctl").exists()
    ]
    if not candidates:
        return None
    return max(candidates, key=_version_key).parent


def _is_root() -> bool:
    return os.geteuid() == 0


def postgres_available() -> str | None:
    """Return why a throwaway cluster cannot be started here, or ``None`` if it can."""
    if find_pg_bin() is None:
        return (
            f"PostgreSQL server binaries (initdb, pg_ctl) not found under {PG_LIB_ROOT}/*/bin; "
            "install the Debian package 'postgresql'"
        )
    if _is_root():
        if shutil.which("runuser") is None:
            return "running as root but 'runuser' is missing (needed to run initdb as the postgres user)"
        try:
            pwd.getpwnam(PG_SUPERUSER)
        except KeyError:
            return f"running as root but there is no '{PG_SUPERUSER}' system user to run initdb as"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the Python package 'psycopg' is not installed"
    return None


REQUIRE_POSTGRES_ENV = "CARGOMAN_REQUIRE_POSTGRES"


def postgres_required() -> bool:
    """True when CARGOMAN_REQUIRE_POSTGRES=1 (scripts/test sets it): missing PostgreSQL is an error."""
    return os.environ.get(REQUIRE_POSTGRES_ENV, "").strip().lower() in {"1", "true", "yes"}


def skip_or_fail_without_postgres() -> None:
    """In a test: skip when PostgreSQL cannot run here, or fail if it is required."""
    import pytest

    reason = postgres_available()
    if reason is None:
        return
    if postgres_required():
        pytest.fail(f"PostgreSQL is required ({REQUIRE_POSTGRES_ENV}=1) but unavailable: {reason}")
    pytest.skip(f"PostgreSQL unavailable: {reason}")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _others_can_traverse(path: Path) -> bool:
    """True if every directory from / to ``path`` is searchable by other users."""
    for p in [path, *path.parents]:
        try:
            mode = p.stat().st_mode
        except OSError:
            return False
        if not mode & stat.S_IXOTH:
            return False
    return True


class PostgresCluster:
    """A private PostgreSQL server; use as a context manager or call start()/stop()."""

    def __init__(self, base_dir: Path, dbname: str = DEFAULT_DBNAME, host: str = "127.0.0.1") -> None:
        self.base_dir = Path(base_dir)
        self.dbname = dbname
        self.host = host
        self.port: int = 0
        self.dir: Path | None = None
        self._bin: Path | None = None
        self._run_as_postgres = _is_root()
        self._running = False
        self._dbcounter = 0

    # -- paths ------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self._require_dir() / "data"

    @property
    def socket_dir(self) -> Path:
        return self._require_dir() / "sock"

    @property
    def log_path(self) -> Path:
        return self._require_dir() / "postgres.log"

    def _require_dir(self) -> Path:
        if self.dir is None:
            raise RuntimeError("cluster has not been started")
        return self.dir

    # -- URLs -------------------------------------------------------------------

    def url_for(self, dbname: str, driver: str = "postgresql+psycopg") -> str:
        """SQLAlchemy URL for ``dbname`` (``driver="postgresql"`` gives a libpq URL)."""
        return f"{driver}://{PG_SUPERUSER}@{self.host}:{self.port}/{dbname}"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the default database: postgresql+psycopg://postgres@127.0.0.1:PORT/DB."""
        return self.url_for(self.dbname)

    @property
    def libpq_url(self) -> str:
        """Plain libpq URL of the default database, for ``psycopg.connect``."""
        return self.url_for(self.dbname, driver="postgresql")

    # -- lifecycle ------------------------------------------------------------------

    def _cmd(self, *args: str) -> list[str]:
        if self._run_as_postgres:
            return ["runuser", "-u", PG_SUPERUSER, "--", *args]
        return list(args)

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        env["LANG"] = "C"
        proc = subprocess.run(
            self._cmd(*args),
            cwd=self._require_dir(),
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            log = ""
            with contextlib.suppress(OSError):
                log = self.log_path.read_text(errors="replace")[-4000:]
            raise PostgresUnavailable(
                f"{' '.join(args)} failed with exit code {proc.returncode}:\n"
                f"{proc.stdout}{proc.stderr}\n{log}"
            )
        return proc

    def _make_dir(self) -> Path:
        parent = self.base_dir
        parent.mkdir(parents=True, exist_ok=True)
        if self._run_as_postgres and not _others_can_traverse(parent.resolve()):
            # e.g. pytest's /tmp/pytest-of-root is 0700: postgres could not reach it.
            parent = Path(tempfile.gettempdir())
        if len(str(parent.resolve())) > _MAX_SOCKET_DIR_LEN - 20:
            parent = Path(tempfile.gettempdir())
        d = Path(tempfile.mkdtemp(prefix="pg-", dir=parent)).resolve()
        if self._run_as_postgres:
            pw = pwd.getpwnam(PG_SUPERUSER)
            os.chown(d, pw.pw_uid, pw.pw_gid)
        d.chmod(0o700)
        return d

    def start(self) -> PostgresCluster:
        """initdb, configure, start the server and create the default database."""
        if self._running:
            return self
        reason = postgres_available()
        if reason:
            raise PostgresUnavailable(reason)
        self._bin = find_pg_bin()
        assert self._bin is not None
        self.dir = self._make_dir()
        try:
            self._initdb()
            last_error: Exception | None = None
            for _attempt in range(3):  # the free port may be taken between probe and bind
                self.port = free_port(self.host)
                self._write_config()
                try:
                    self._run(
                        str(self._bin / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_path),
                        "-w", "-t", "60", "start",
                    )  # fmt: skip
                except PostgresUnavailable as exc:
                    last_error = exc
                    continue
                self._running = True
                break
            if not self._running:
                raise last_error or PostgresUnavailable("pg_ctl start failed")
            atexit.register(self.stop)
            self.create_database(self.dbname)
        except BaseException:
            self.stop()
            raise
        return self

    def _initdb(self) -> None:
        assert self._bin is not None
        self.socket_dir.mkdir()
        self._chown_to_postgres(self.socket_dir)
        self._run(
            str(self._bin / "initdb"), "-D", str(self.data_dir), "-U", PG_SUPERUSER,
            "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip

    def _chown_to_postgres(self, path: Path) -> None:
        if self._run_as_postgres:
            pw = pwd.getpwnam(PG_SUPERUSER)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def _write_config(self) -> None:
        conf = self.data_dir / "cargoman-test.conf"
        conf.write_text(
            "\n".join(
                [
                    f"listen_addresses = '{self.host}'",
                    f"port = {self.port}",
                    f"unix_socket_directories = '{self.socket_dir}'",
                    "fsync = off",
                    "synchronous_commit = off",
                    "full_page_writes = off",
                    "max_connections = 200",
                    "shared_buffers = 64MB",
                    "logging_collector = off",
                    "log_min_messages = warning",
                    "",
                ]
            )
        )
        self._chown_to_postgres(conf)
        main_conf = self.data_dir / "postgresql.conf"
        text = main_conf.read_text()
        include = "include = 'cargoman-test.conf'\n"
        if include not in text:
            main_conf.write_text(text + "\n" + include)
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(
            "# throwaway test cluster: unix socket in a private directory, TCP on loopback only\n"
            "local all all trust\n"
            f"host all all {self.host}/32 trust\n"
        )
        self._chown_to_postgres(hba)

    def stop(self) -> None:
        """``pg_ctl stop -m immediate`` and remove the cluster directory. Idempotent."""
        if self._running and self._bin is not None:
            with contextlib.suppress(Exception):
                self._run(
                    str(self._bin / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"
                )
            self._running = False
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    @property
    def running(self) -> bool:
        return self._running

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- databases --------------------------------------------------------------------

    def create_database(self, name: str | None = None) -> str:
        """Create database ``name`` (a unique one if omitted) and return its SQLAlchemy URL."""
        import psycopg
        from psycopg import sql

        if name is None:
            self._dbcounter += 1
            name = f"test_{os.getpid()}_{self._dbcounter}"
        if not _DBNAME_RE.match(name):
            raise ValueError(f"invalid database name {name!r}")
        with psycopg.connect(self.url_for("postgres", driver="postgresql"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url_for("postgres", driver="postgresql"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def start_postgres(tmp_dir: Path, dbname: str = DEFAULT_DBNAME) -> PostgresCluster:
    """Start a throwaway cluster under ``tmp_dir`` (or the system temp dir when
    ``tmp_dir`` is not reachable by the postgres user) and return it running."""
    return PostgresCluster(tmp_dir, dbname=dbname).start()
