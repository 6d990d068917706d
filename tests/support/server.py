"""Run the Cargoman registry as a real subprocess for functional/e2e tests.

The server runs ``python -m cargoman serve --host 127.0.0.1 --port PORT`` in
its own process group, with its working directory set to ``tmp_dir`` (so no
``.env`` of the repository is picked up) and everything it stores under
``tmp_dir``. It counts as ready when ``GET /packages.json`` without
credentials answers 401.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx
from tests.support.postgres import free_port

STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
API_PREFIX = "/api/v1"


class ServerError(RuntimeError):
    pass


class RegistryServer:
    """A Cargoman server subprocess bound to 127.0.0.1 on a free (or given) port."""

    def __init__(
        self,
        tmp_dir: Path,
        *,
        env: Mapping[str, str] | None = None,
        database_url: str | None = None,
        port: int | None = None,
        admin_token: str | None = None,
        startup_timeout: float = STARTUP_TIMEOUT,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.tmp_dir = Path(tmp_dir).resolve()
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.port = port if port is not None else free_port()
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        self.database_url = database_url or f"sqlite:///{self.tmp_dir}/cargoman.db"
        self.storage_path = self.tmp_dir / "packages"
        self.log_path = self.tmp_dir / "server.log"
        self.startup_timeout = startup_timeout
        self.extra_args = tuple(extra_args)
        self.extra_env: dict[str, str] = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._starts = 0

    # -- addresses ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return self.url + API_PREFIX

    @property
    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "cargoman", "serve",
            "--host", "127.0.0.1", "--port", str(self.port),
            *self.extra_args,
        ]  # fmt: skip

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "STORAGE_PATH": str(self.storage_path),
                "DATA_DIR": str(self.tmp_dir),
                "ADMIN_TOKEN": self.admin_token,
                "BASE_URL": self.url,
                "ALLOW_LOCAL_REPOSITORIES": "true",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> RegistryServer:
        """Start the process and wait until it is ready; raise ServerError otherwise."""
        if self.running:
            return self
        self._starts += 1
        self._log_file = self.log_path.open("ab")
        self._log_file.write(f"\n===== start #{self._starts}: {' '.join(self.command)}\n".encode())
        self._log_file.flush()
        self.process = subprocess.Popen(
            self.command,
            cwd=self.tmp_dir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: kill() also reaches any workers
        )
        try:
            self._wait_ready()
        except BaseException:
            self.kill()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last = "no answer yet"
        with httpx.Client(timeout=2.0) as client:
            while True:
                assert self.process is not None
                code = self.process.poll()
                if code is not None:
                    raise ServerError(
                        f"cargoman serve exited with code {code} during startup; output:\n{self.log_tail()}"
                    )
                try:
                    resp = client.get(self.url + "/packages.json")
                    if resp.status_code == 401:
                        return
                    last = f"GET /packages.json answered {resp.status_code} (expected 401)"
                except httpx.HTTPError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"cargoman serve not ready after {self.startup_timeout:.0f}s ({last}); "
                        f"output:\n{self.log_tail()}"
                    )
                time.sleep(0.1)

    def _signal_group(self, sig: int) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM, then SIGKILL (whole process group) after ``timeout`` s; return the exit code."""
        if self.process is None:
            return None
        proc = self.process
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                proc.wait()
        # Leftover workers of a stopped server would keep the port busy.
        self._signal_group(signal.SIGKILL)
        return self._finish()

    def kill(self) -> int | None:
        """SIGKILL the whole process group at once (simulates a crash); return the exit code."""
        if self.process is None:
            return None
        self._signal_group(signal.SIGKILL)
        self.process.wait()
        return self._finish()

    def _finish(self) -> int | None:
        assert self.process is not None
        code = self.process.returncode
        if self._log_file is not None:
            with contextlib.suppress(OSError):
                self._log_file.write(f"===== exited with code {code}\n".encode())
                self._log_file.close()
            self._log_file = None
        self.process = None
        return code

    def restart(self, *, env: Mapping[str, str] | None = None) -> RegistryServer:
        """Stop (gracefully) and start again on the same port and data; ``env`` updates extra env."""
        self.stop()
        if env:
            self.extra_env.update(env)
        return self.start()

    def __enter__(self) -> RegistryServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- output ---------------------------------------------------------------------------

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, chars: int = 8000) -> str:
        return self.log_text()[-chars:]

    # -- HTTP helpers --------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        bearer: str | None = None,
        basic_token: str | None = None,
        timeout: float = 30.0,
        **kw: Any,
    ) -> httpx.Response:
        """Request ``path`` (relative to the server root) with optional credentials:
        ``bearer`` as ``Authorization: Bearer``, ``basic_token`` as composer does
        (HTTP basic, username ``token``)."""
        headers = dict(kw.pop("headers", None) or {})
        if bearer is not None:
            headers.setdefault("Authorization", f"Bearer {bearer}")
        auth = ("token", basic_token) if basic_token is not None else None
        return httpx.request(method, self.url + path, headers=headers, auth=auth, timeout=timeout, **kw)

    def api(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """Call ``/api/v1{path}`` with the admin bearer token (``token=`` overrides it)."""
        token = kw.pop("token", self.admin_token)
        return self.request(method, API_PREFIX + path, bearer=token, **kw)

    def wait_task(self, task_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """Poll the task until it completes; fail on `failed` or at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            task: dict[str, Any] = self.api("GET", f"/tasks/{task_id}").json()["data"]
            if task["status"] == "completed":
                return task
            assert task["status"] in ("pending", "running"), task
            assert time.monotonic() < deadline, f"task {task_id} did not finish: {task}"
            time.sleep(0.1)
