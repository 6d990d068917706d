#!/usr/bin/env python3
"""Cargoman benchmarks against their floors (see DESIGN.md, "Floors to measure against").

One run measures three ratios:

  (a) p2 throughput   registry req/s / nginx req/s for the same ~15 KB p2 file      (target >= 0.3)
  (b) composer update registry time / static nginx repository time, cold cache   (target <= 1.3)
  (c) sync            initial sync of 300 tags / sequential `git archive` loop   (target <= 1.5)
                      plus the re-sync after one new tag                          (target < 1 s)

Usage: .venv/bin/python bench/run.py [--quick] [--server granian|uvicorn] [--profile] [--keep]
                                    [--wait-quiet SECONDS]

Prints a table and writes bench/results/latest.json. Every child process (registry, nginx, wrk,
composer, git) runs in its own process group and is killed on exit; the temp dir is removed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
COMPOSER = shutil.which("composer") or "/usr/bin/composer"
GIT = shutil.which("git") or "/usr/bin/git"

VENDOR = "bench"
RICH_PACKAGE = f"{VENDOR}/rich-sdk"
RICH_TAGS = 30
UPDATE_PACKAGES = 20
UPDATE_TAGS = 30
SYNC_TAGS = 300
SOURCE_FILES = 20
EPOCH = 1_700_000_000  # commit timestamps start here, one hour apart

TARGET_P2_RATIO = 0.3
TARGET_UPDATE_RATIO = 1.3
TARGET_SYNC_RATIO = 1.5
TARGET_RESYNC_SECONDS = 1.0
QUIET_CPU = 0.15  # background CPU use above this (of both cores) is reported as a skewed run


class BenchError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- child processes ----------------------------------------------------------------------------------


class Children:
    """Every long-lived child runs in its own session (process group); stop() kills the whole group."""

    def __init__(self) -> None:
        self._procs: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []

    def spawn(
        self, argv: list[str], *, log_path: Path, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.Popen[bytes]:
        log_file = log_path.open("ab")
        self._logs.append(log_file)
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
        if proc.poll() is None:
            _signal_group(proc, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=timeout)
        _signal_group(proc, signal.SIGKILL)  # leftovers (server workers) of an exited leader
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
        if proc in self._procs:
            self._procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self._procs)):
            self.stop(proc)
        for log_file in self._logs:
            with contextlib.suppress(OSError):
                log_file.close()
        self._logs.clear()


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def run_checked(
    argv: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    input_data: bytes | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[bytes]:
    """Run a short command in its own process group; kill the group on timeout; raise on failure."""
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE if input_data is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(input_data, timeout=timeout)
    except BaseException as exc:
        _signal_group(proc, signal.SIGKILL)
        proc.wait()
        if isinstance(exc, subprocess.TimeoutExpired):
            raise BenchError(f"{' '.join(argv[:4])}... timed out after {timeout:g}s") from None
        raise
    if proc.returncode != 0:
        raise BenchError(
            f"{' '.join(argv[:4])}... exited {proc.returncode}:\n{stderr.decode(errors='replace')[-4000:]}"
            f"\n{stdout.decode(errors='replace')[-2000:]}"
        )
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http(
    url: str, expect: int, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise BenchError(f"{url}: process exited ({proc.returncode}):\n{tail(log_path)}")
            try:
                status = client.get(url).status_code
                if status == expect:
                    return
                last = f"HTTP {status}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}"
            time.sleep(0.1)
    raise BenchError(f"{url} not ready after {timeout:.0f}s ({last}):\n{tail(log_path)}")


def tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except FileNotFoundError:
        return ""


# -- git fixtures (generated with one `git fast-import` per repository) ---------------------------------


def semver(index: int) -> str:
    return f"{1 + index // 100}.{(index // 10) % 10}.{index % 10}"


def php_class(package: str, number: int) -> str:
    namespace = "Bench\\" + package.split("/")[1].title().replace("-", "")
    body = "\n".join(
        f"    public function method{m}(array $input = []): array\n"
        f"    {{\n        return array_map(static fn ($v) => $v, $input); // step {m}\n    }}\n"
        for m in range(8)
    )
    return (
        f"<?php\n\ndeclare(strict_types=1);\n\nnamespace {namespace};\n\n"
        f"/**\n * Generated class {number} of {package}.\n */\nfinal class Class{number}\n{{\n{body}}}\n"
    )


def simple_manifest(package: str, _index: int) -> dict[str, Any]:
    """A plain library that requires nothing (for the composer update benchmark and the sync repo)."""
    short = package.split("/")[1]
    return {
        "name": package,
        "description": f"Benchmark fixture library {short}",
        "type": "library",
        "license": "MIT",
        "keywords": ["bench", short],
        "authors": [{"name": "Bench Author", "email": "bench@example.com"}],
        "autoload": {"psr-4": {"Bench\\" + short.title().replace("-", "") + "\\": "src/"}},
    }


def rich_manifest(package: str, index: int) -> dict[str, Any]:
    """A realistic, fairly large composer.json whose requirements move every few releases."""
    short = package.split("/")[1]
    namespace = "Acme\\" + short.title().replace("-", "") + "\\"
    minor = (index // 10) % 10
    php = [">=7.4", "^8.0", "^8.1"][min(index // 10, 2)]
    return {
        "name": package,
        "description": "A batteries-included SDK for the Acme platform: HTTP client, retries, "
        "pagination, webhooks verification, typed models and PSR-18/PSR-17 integration.",
        "type": "library",
        "license": "MIT",
        "homepage": "https://acme.example.com/sdk/php",
        "keywords": [
            "acme",
            "sdk",
            "api",
            "client",
            "http",
            "psr-18",
            "psr-17",
            "psr-7",
            "rest",
            "webhooks",
            "pagination",
            "retry",
        ],
        "authors": [
            {
                "name": "Jane Doe",
                "email": "jane@acme.example.com",
                "homepage": "https://jane.example.com",
                "role": "Lead developer",
            },
            {"name": "John Roe", "email": "john@acme.example.com", "role": "Developer"},
            {"name": "Acme Contributors", "homepage": "https://github.com/acme/sdk-php/contributors"},
        ],
        "support": {
            "issues": "https://github.com/acme/sdk-php/issues",
            "source": f"https://github.com/acme/sdk-php/tree/{semver(index)}",
        },
        "funding": [{"type": "github", "url": "https://github.com/sponsors/acme"}],
        "require": {
            "php": php,
            "ext-json": "*",
            "ext-mbstring": "*",
            "psr/http-client": "^1.0",
            "psr/http-factory": "^1.0",
            "psr/http-message": "^1.1 || ^2.0",
            "psr/log": "^1.1 || ^2.0 || ^3.0",
            "php-http/discovery": f"^1.{14 + minor}",
            "symfony/options-resolver": "^5.4 || ^6.0" + (" || ^7.0" if index >= 20 else ""),
        },
        "require-dev": {
            "phpunit/phpunit": "^9.6" if index < 15 else "^10.5",
            "phpstan/phpstan": f"^1.{10 + minor}",
            "friendsofphp/php-cs-fixer": "^3.40",
            "guzzlehttp/guzzle": "^7.8",
            "php-http/mock-client": "^1.6",
        },
        "suggest": {
            "guzzlehttp/guzzle": "A PSR-18 HTTP client implementation",
            "symfony/http-client": "Another PSR-18 HTTP client implementation",
            "monolog/monolog": "To log requests and responses",
        },
        "autoload": {
            "psr-4": {namespace: "src/"},
            "files": ["src/functions.php"],
        },
        "autoload-dev": {"psr-4": {namespace + "Tests\\": "tests/"}},
        "extra": {"branch-alias": {"dev-main": f"{1 + index // 100}.{minor + 1}-dev"}},
        "minimum-stability": "stable",
    }


@dataclass
class RepoSpec:
    path: Path
    package: str
    tags: list[str]
    manifest: Callable[[str, int], dict[str, Any]]


def _blob(path: str, content: bytes) -> bytes:
    return f"M 100644 inline {path}\ndata {len(content)}\n".encode() + content + b"\n"


def _commit(mark: int, when: int, message: str, parent: str | None, changes: list[bytes]) -> bytes:
    msg = message.encode()
    head = f"commit refs/heads/main\nmark :{mark}\ncommitter Bench <bench@example.com> {when} +0000\n"
    out = head.encode() + f"data {len(msg)}\n".encode() + msg + b"\n"
    if parent is not None:
        out += f"from {parent}\n".encode()
    return out + b"".join(changes)


def make_repo(spec: RepoSpec) -> None:
    """A bare repository: one commit per tag, each changing one file (composer.json when it moves)."""
    run_checked([GIT, "init", "--bare", "--quiet", "--initial-branch=main", str(spec.path)])
    files = {f"src/Class{n}.php": php_class(spec.package, n) for n in range(SOURCE_FILES)}
    files["src/functions.php"] = "<?php\n\ndeclare(strict_types=1);\n"
    files["README.md"] = f"# {spec.package}\n\nBenchmark fixture.\n"
    files["LICENSE"] = "MIT License\n\nCopyright (c) Bench\n"
    stream = io.BytesIO()
    previous_manifest = b""
    for index, tag in enumerate(spec.tags):
        manifest = (json.dumps(spec.manifest(spec.package, index), indent=4) + "\n").encode()
        if index == 0:
            changes = [_blob(path, content.encode()) for path, content in files.items()]
            changes.append(_blob("composer.json", manifest))
        elif manifest != previous_manifest:
            changes = [_blob("composer.json", manifest)]
        else:
            path = f"src/Class{index % SOURCE_FILES}.php"
            files[path] += f"// change for {tag}\n"
            changes = [_blob(path, files[path].encode())]
        previous_manifest = manifest
        mark = index + 1
        stream.write(_commit(mark, EPOCH + index * 3600, f"Release {tag}", None, changes))
        stream.write(f"reset refs/tags/{tag}\nfrom :{mark}\n\n".encode())
    run_checked([GIT, "--git-dir", str(spec.path), "fast-import", "--quiet"], input_data=stream.getvalue())


def add_tag(repo: Path, tag: str, index: int) -> None:
    """One more commit (a new file) on main, tagged ``tag``."""
    content = f"<?php\n\n// feature added in {tag}\n".encode()
    stream = _commit(
        1, EPOCH + index * 3600, f"Release {tag}", "refs/heads/main^0", [_blob("src/New.php", content)]
    )
    stream += f"reset refs/tags/{tag}\nfrom :1\n\n".encode()
    run_checked([GIT, "--git-dir", str(repo), "fast-import", "--quiet"], input_data=stream)


# -- nginx --------------------------------------------------------------------------------------------


def start_nginx(children: Children, work: Path, www: Path, port: int) -> subprocess.Popen[bytes]:
    prefix = work / "nginx"
    prefix.mkdir()
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the 0700 temp dir
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"""{user}worker_processes 2;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 100000;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    types {{ application/json json; application/zip zip; }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {www};
    }}
}}
"""
    )
    log_path = prefix / "stdout.log"
    argv = [NGINX, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf)]
    proc = children.spawn(argv, log_path=log_path)
    (www / "ping.txt").write_text("ok\n")
    wait_http(f"http://127.0.0.1:{port}/ping.txt", 200, proc, prefix / "error.log", timeout=15)
    return proc


# -- the registry server ------------------------------------------------------------------------------


@dataclass
class Registry:
    url: str
    port: int
    admin_token: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    client: httpx.Client = field(repr=False)

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        resp = self.client.request(
            method,
            f"{self.url}/api/v1{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.admin_token}"},
        )
        if resp.status_code >= 400:
            raise BenchError(f"{method} {path}: HTTP {resp.status_code}: {resp.text[:2000]}")
        data: dict[str, Any] = resp.json()["data"]
        return data

    def wait_task(self, task_id: str, timeout: float = 600) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            task = self.api("GET", f"/tasks/{task_id}")
            if task["status"] == "completed":
                return task
            if task["status"] == "failed":
                raise BenchError(f"task {task_id} failed: {task.get('error')}")
            time.sleep(0.05)
        raise BenchError(f"task {task_id} not done after {timeout:.0f}s:\n{tail(self.log_path)}")


def start_registry(children: Children, work: Path, server: str) -> Registry:
    home = work / "registry"
    home.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    admin_token = secrets.token_urlsafe(24)
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{home}/cargoman.db",
            "DATA_DIR": str(home),
            "STORAGE_PATH": str(home / "packages"),
            "ADMIN_TOKEN": admin_token,
            "BASE_URL": url,
            "ALLOW_LOCAL_REPOSITORIES": "true",
            "PYTHONUNBUFFERED": "1",
        }
    )
    argv = [
        sys.executable,
        "-m",
        "cargoman",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "2",
        "--server",
        server,
    ]
    log_path = home / "server.log"
    # cwd = its own dir, so no .env of the repository is read.
    proc = children.spawn(argv, log_path=log_path, env=env, cwd=home)
    wait_http(f"{url}/packages.json", 401, proc, log_path)
    client = httpx.Client(timeout=60, trust_env=False)
    return Registry(url, port, admin_token, proc, log_path, client)


def basic_header(token: str) -> str:
    return "Basic " + base64.b64encode(f"token:{token}".encode()).decode()


# -- (a) p2 throughput ----------------------------------------------------------------------------------


@dataclass
class WrkResult:
    requests_per_second: float
    latency_avg_ms: float
    latency_p99_ms: float
    requests: int
    errors: str | None
    server_cpu_us_per_request: float = 0.0
    wrk_cpu_us_per_request: float = 0.0

    @property
    def idle_estimate_rps(self) -> float:
        """Requests/s if server and wrk had the machine's CPUs to themselves."""
        per_request = (self.server_cpu_us_per_request + self.wrk_cpu_us_per_request) / 1e6
        return (os.cpu_count() or 1) / per_request if per_request else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests_per_second": round(self.requests_per_second, 1),
            "latency_avg_ms": round(self.latency_avg_ms, 3),
            "latency_p99_ms": round(self.latency_p99_ms, 3),
            "requests": self.requests,
            "errors": self.errors,
            "server_cpu_us_per_request": round(self.server_cpu_us_per_request, 2),
            "wrk_cpu_us_per_request": round(self.wrk_cpu_us_per_request, 2),
            "idle_estimate_rps": round(self.idle_estimate_rps),
        }


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU time of the live processes of one process group (a server and its workers)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "; fields[0] is the state
        if int(fields[2]) == pgid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, auth: str, seconds: int, work: Path, server_pgid: int) -> WrkResult:
    argv = [WRK, "-t2", "-c64", f"-d{seconds}s", "--latency", "-H", f"Authorization: {auth}", url]
    cpu_before = group_cpu_seconds(server_pgid)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = run_checked(argv, timeout=seconds + 60, cwd=work).stdout.decode()
    cpu = group_cpu_seconds(server_pgid) - cpu_before
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (children_after.ru_utime - children_before.ru_utime) + (
        children_after.ru_stime - children_before.ru_stime
    )
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    avg = re.search(r"^\s+Latency\s+([\d.]+)(us|ms|s|m)\b", out, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\b", out, re.M)
    total = re.search(r"(\d+) requests in", out)
    if not (rps and avg and p99 and total):
        raise BenchError(f"cannot parse wrk output:\n{out}")
    problems = [m.group(0).strip() for m in re.finditer(r"^\s*(Socket errors|Non-2xx or 3xx).*$", out, re.M)]
    return WrkResult(
        requests_per_second=float(rps.group(1)),
        latency_avg_ms=_ms(avg.group(1), avg.group(2)),
        latency_p99_ms=_ms(p99.group(1), p99.group(2)),
        requests=int(total.group(1)),
        errors="; ".join(problems) or None,
        server_cpu_us_per_request=cpu * 1e6 / max(1, int(total.group(1))),
        wrk_cpu_us_per_request=wrk_cpu * 1e6 / max(1, int(total.group(1))),
    )


def bench_p2(
    registry: Registry,
    token: str,
    www: Path,
    nginx: tuple[str, int],
    seconds: int,
    rounds: int,
    work: Path,
) -> dict[str, Any]:
    nginx_url, nginx_pgid = nginx
    auth = basic_header(token)
    registry_url = f"{registry.url}/p2/{RICH_PACKAGE}.json"
    headers = {"Authorization": auth, "Accept-Encoding": "identity"}
    body = registry.client.get(registry_url, headers=headers)
    if body.status_code != 200:
        raise BenchError(f"GET {registry_url}: HTTP {body.status_code}: {body.text[:500]}")
    static = www / "a" / "p2" / f"{RICH_PACKAGE}.json"
    static.parent.mkdir(parents=True)
    static.write_bytes(body.content)
    static_url = f"{nginx_url}/a/p2/{RICH_PACKAGE}.json"
    for url in (registry_url, static_url):
        check = registry.client.get(url, headers=headers)
        if check.status_code != 200 or check.content != body.content:
            raise BenchError(f"{url} did not answer 200 with the p2 bytes (HTTP {check.status_code})")
    versions = len(json.loads(body.content)["packages"][RICH_PACKAGE])
    log(f"(a) p2 file: {len(body.content)} bytes, {versions} versions; wrk -t2 -c64 -d{seconds}s")
    for url, pgid in ((static_url, nginx_pgid), (registry_url, registry.proc.pid)):  # warm up both
        run_wrk(url, auth, 1, work, pgid)
    nginx_runs: list[WrkResult] = []
    registry_runs: list[WrkResult] = []
    for attempt in range(rounds):  # interleaved (ABBA...), so background load hits both sides alike
        for side in ("nginx", "registry")[:: 1 if attempt % 2 == 0 else -1]:
            if side == "nginx":
                nginx_runs.append(run_wrk(static_url, auth, seconds, work, nginx_pgid))
            else:
                registry_runs.append(run_wrk(registry_url, auth, seconds, work, registry.proc.pid))
        log(
            f"(a) round {attempt + 1}: nginx {nginx_runs[-1].requests_per_second:,.0f} req/s, "
            f"registry {registry_runs[-1].requests_per_second:,.0f} req/s"
        )
    nginx = median_run(nginx_runs)
    reg = median_run(registry_runs)
    ratio = reg.requests_per_second / nginx.requests_per_second
    errors = [r.errors for r in nginx_runs + registry_runs if r.errors]
    # CPU time per request is far less sensitive to other load than req/s: (server + wrk) CPU per
    # request over the 2 cores estimates the throughput of an idle machine.
    nginx_idle = statistics.median(r.idle_estimate_rps for r in nginx_runs)
    registry_idle = statistics.median(r.idle_estimate_rps for r in registry_runs)
    return {
        "p2_bytes": len(body.content),
        "p2_versions": versions,
        "wrk": f"wrk -t2 -c64 -d{seconds}s --latency -H 'Authorization: Basic ...'",
        "rounds": rounds,
        "nginx": nginx.as_dict(),
        "registry": reg.as_dict(),
        "nginx_rps_all": [round(r.requests_per_second) for r in nginx_runs],
        "registry_rps_all": [round(r.requests_per_second) for r in registry_runs],
        "ratio": round(ratio, 3),
        "idle_estimate_ratio": round(registry_idle / nginx_idle, 3),
        "target": f">= {TARGET_P2_RATIO}",
        "ok": ratio >= TARGET_P2_RATIO and not errors,
        "errors": errors,
    }


def median_run(results: list[WrkResult]) -> WrkResult:
    return sorted(results, key=lambda r: r.requests_per_second)[len(results) // 2]


# -- (b) composer update --------------------------------------------------------------------------------


def build_static_repository(
    registry: Registry, token: str, packages: list[str], www: Path, nginx_url: str
) -> str:
    """Mirror the registry's p2 files (dist URLs rewritten) and dist zips under www/static."""
    base = www / "static"
    static_url = f"{nginx_url}/static"
    headers = {"Authorization": basic_header(token), "Accept-Encoding": "identity"}
    old_prefix = f"{registry.url}/dist/".encode()
    new_prefix = f"{static_url}/dist/".encode()
    for package in packages:
        for suffix in ("", "~dev"):
            resp = registry.client.get(f"{registry.url}/p2/{package}{suffix}.json", headers=headers)
            if resp.status_code != 200:
                raise BenchError(f"p2 {package}{suffix}: HTTP {resp.status_code}")
            target = base / "p2" / f"{package}{suffix}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(resp.content.replace(old_prefix, new_prefix))
            for entry in json.loads(resp.content)["packages"][package]:
                dist = entry.get("dist")  # differs per version, so every minified entry carries it
                if not isinstance(dist, dict):
                    continue
                zip_resp = registry.client.get(dist["url"], headers=headers)
                if zip_resp.status_code != 200:
                    raise BenchError(f"{dist['url']}: HTTP {zip_resp.status_code}")
                if hashlib.sha1(zip_resp.content).hexdigest() != dist["shasum"]:
                    raise BenchError(f"{dist['url']}: sha1 differs from the p2 shasum")
                zip_path = base / "dist" / dist["url"][len(old_prefix.decode()) :]
                zip_path.parent.mkdir(parents=True, exist_ok=True)
                zip_path.write_bytes(zip_resp.content)
    root = {
        "packages": [],
        "metadata-url": f"{static_url}/p2/%package%.json",
        "available-packages": sorted(packages),
    }
    (base / "packages.json").write_text(json.dumps(root))
    return static_url


def composer_env(home: Path, cache: Path, auth_host: str | None, token: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSER")}
    env.update(
        {
            "COMPOSER_HOME": str(home),
            "COMPOSER_CACHE_DIR": str(cache),
            "COMPOSER_NO_INTERACTION": "1",
            "COMPOSER_ALLOW_SUPERUSER": "1",
            "COMPOSER_NO_AUDIT": "1",
            "LC_ALL": "C",
            "no_proxy": "127.0.0.1,localhost",
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    if auth_host and token:
        env["COMPOSER_AUTH"] = json.dumps(
            {"http-basic": {auth_host: {"username": "token", "password": token}}}
        )
    return env


@dataclass
class ComposerRun:
    project: Path
    env: dict[str, str]
    seconds: float
    installed: dict[str, str]


def composer_update(project: Path, env: dict[str, str]) -> tuple[float, dict[str, str]]:
    argv = [COMPOSER, "update", "--no-interaction", "--no-progress"]
    start = time.perf_counter()
    run_checked(argv, cwd=project, env=env, timeout=600)
    elapsed = time.perf_counter() - start
    installed_json = json.loads((project / "vendor" / "composer" / "installed.json").read_text())
    installed = {p["name"]: p["version"] for p in installed_json["packages"]}
    return elapsed, installed


def cold_composer_run(
    work: Path, label: str, repo_url: str, packages: list[str], token: str | None
) -> ComposerRun:
    run_dir = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=work))
    project = run_dir / "project"
    project.mkdir()
    manifest = {
        "name": "bench/project",
        "type": "project",
        "license": "proprietary",
        "require": {p: "*" for p in packages},
        "repositories": [{"type": "composer", "url": repo_url}, {"packagist.org": False}],
        "config": {"secure-http": False, "allow-plugins": False},
        "minimum-stability": "stable",
    }
    (project / "composer.json").write_text(json.dumps(manifest, indent=4) + "\n")
    auth_host = httpx.URL(repo_url).netloc.decode() if token else None
    env = composer_env(run_dir / "home", run_dir / "cache", auth_host, token)
    seconds, installed = composer_update(project, env)
    if len(installed) != len(packages):
        raise BenchError(f"{label}: installed {len(installed)} packages, expected {len(packages)}")
    return ComposerRun(project, env, seconds, installed)


def bench_composer(
    registry: Registry, token: str, packages: list[str], www: Path, nginx_url: str, runs: int, work: Path
) -> dict[str, Any]:
    static_url = build_static_repository(registry, token, packages, www, nginx_url)
    log(f"(b) static repository mirrored at {static_url}; {runs} cold run(s) each, interleaved")
    static_times: list[float] = []
    registry_times: list[float] = []
    last_static: ComposerRun | None = None
    last_registry: ComposerRun | None = None
    for attempt in range(runs):  # interleaved (ABBA...)
        for side in ("static", "registry")[:: 1 if attempt % 2 == 0 else -1]:
            if side == "static":
                last_static = cold_composer_run(work, "static", static_url, packages, None)
                static_times.append(last_static.seconds)
            else:
                last_registry = cold_composer_run(work, "registry", registry.url, packages, token)
                registry_times.append(last_registry.seconds)
        assert last_static is not None and last_registry is not None
        log(
            f"(b) run {attempt + 1}: static {last_static.seconds:.3f}s, registry {last_registry.seconds:.3f}s"
        )
        if last_static.installed != last_registry.installed:
            raise BenchError("static and registry installs differ")
    assert last_static is not None and last_registry is not None
    warm_registry, _ = composer_update(last_registry.project, last_registry.env)
    warm_static, _ = composer_update(last_static.project, last_static.env)
    log(f"(b) warm: static {warm_static:.3f}s, registry {warm_registry:.3f}s")
    # Untimed -vvv repeat of the warm run: how the registry answered the revalidations.
    verbose = run_checked(
        [COMPOSER, "update", "--no-interaction", "--no-progress", "-vvv"],
        cwd=last_registry.project,
        env=last_registry.env,
    )
    output = (verbose.stdout + verbose.stderr).decode(errors="replace")
    warm_statuses = {code: len(re.findall(rf"\[{code}\] http", output)) for code in ("200", "304")}
    static_median = statistics.median(static_times)
    registry_median = statistics.median(registry_times)
    ratio = registry_median / static_median
    return {
        "packages": len(packages),
        "tags_per_package": UPDATE_TAGS,
        "runs": runs,
        "static_seconds": [round(t, 3) for t in static_times],
        "registry_seconds": [round(t, 3) for t in registry_times],
        "static_median_seconds": round(static_median, 3),
        "registry_median_seconds": round(registry_median, 3),
        "ratio": round(ratio, 3),
        "target": f"<= {TARGET_UPDATE_RATIO}",
        "ok": ratio <= TARGET_UPDATE_RATIO,
        "warm_registry_seconds": round(warm_registry, 3),
        "warm_registry_responses": warm_statuses,
        "warm_static_seconds": round(warm_static, 3),
        "installed_sample": dict(sorted(last_registry.installed.items())[:2]),
    }


# -- (c) sync -------------------------------------------------------------------------------------------


def archive_loop(bare: Path, tags: list[str], out_dir: Path) -> float:
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for index, tag in enumerate(tags):
        subprocess.run(
            [
                GIT,
                "--git-dir",
                str(bare),
                "archive",
                "--format=zip",
                "-o",
                str(out_dir / f"{index}.zip"),
                tag,
            ],
            check=True,
        )
    elapsed = time.perf_counter() - start
    shutil.rmtree(out_dir)
    return elapsed


@contextlib.contextmanager
def timed_phases(runtime: Any, phases: dict[str, float] | None) -> Iterator[None]:
    """Wrap the steps sync_package calls (without touching src/) to see where its time goes."""
    if phases is None:
        yield
        return
    from cargoman.gitsync import mirror as mirror_module
    from cargoman.packages import sync as sync_module

    def wrap(label: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                phases[label] = phases.get(label, 0.0) + time.perf_counter() - start

        return wrapper

    mirror_steps = ("sync", "list_refs", "default_branch", "read_blobs", "commit_time")
    patches: list[tuple[Any, str, Any]] = [(mirror_module.Mirror, name, None) for name in mirror_steps]
    patches += [(sync_module, "build_archives", None), (runtime.storage, "put_file", None)]
    labels = {
        "sync": "git fetch/clone (+ls-remote)",
        "list_refs": "git for-each-ref",
        "default_branch": "git symbolic-ref/show-ref",
        "read_blobs": "git cat-file composer.json",
        "commit_time": "git cat-file commit times",
        "build_archives": "build_archives (git archive + hashes)",
        "put_file": "storage.put_file (copy + fsync)",
    }
    restored: list[tuple[Any, str, Any]] = []
    try:
        for target, name, _ in patches:
            original = getattr(target, name)
            restored.append((target, name, original))
            setattr(target, name, wrap(labels[name], original))
        start = time.perf_counter()
        yield
        phases["total"] = phases.get("total", 0.0) + time.perf_counter() - start
    finally:
        for target, name, original in restored:
            if target is runtime.storage:
                delattr(target, name)  # drop the instance attribute, back to the class method
            else:
                setattr(target, name, original)


class InProcessRegistry:
    """A Runtime on its own SQLite database and data dir, as the CLI and the task worker use it."""

    def __init__(self, home: Path) -> None:
        from cargoman.config import Settings
        from cargoman.db.migrate import upgrade
        from cargoman.runtime import Runtime

        home.mkdir(parents=True)
        settings = Settings(
            database_url=f"sqlite:///{home}/cargoman.db",
            data_dir=home,
            storage_path=home / "packages",
            allow_local_repositories=True,
            admin_token=secrets.token_urlsafe(16),
            base_url="http://127.0.0.1:1",
        )
        self.runtime = Runtime(settings)
        upgrade(self.runtime.engine)

    def add(self, url: str, name: str) -> str:
        from cargoman.packages import service

        with self.runtime.unit_of_work("bench") as ctx:
            package_id: str = service.add_package(ctx, url, "git", name).package.id
        return package_id

    def sync(self, package_id: str, phases: dict[str, float] | None = None) -> dict[str, Any]:
        """Run sync_package; with ``phases``, add the wall time of its main steps to that dict."""
        from cargoman.db.models import DEFAULT_TENANT_ID
        from cargoman.packages.sync import sync_package

        with timed_phases(self.runtime, phases):
            return sync_package(self.runtime, DEFAULT_TENANT_ID, package_id).as_dict()

    def close(self) -> None:
        self.runtime.dispose()


def _phase_table(phases: dict[str, float]) -> dict[str, float]:
    table = {label: round(seconds, 3) for label, seconds in phases.items() if label != "total"}
    table["other (DB, manifests, Python)"] = round(phases.get("total", 0.0) - sum(table.values()), 3)
    table["total"] = round(phases.get("total", 0.0), 3)
    return table


def bench_sync(work: Path, repo: Path, tags: list[str], runs: int, profile: bool) -> dict[str, Any]:
    package = f"{VENDOR}/sync-heavy"
    bare = work / "sync-loop.git"
    run_checked([GIT, "clone", "--bare", "--quiet", "--no-local", str(repo), str(bare)])
    run_checked(
        [GIT, "--git-dir", str(bare), "archive", "--format=zip", "-o", str(work / "warm.zip"), tags[0]]
    )
    loop_times: list[float] = []
    sync_times: list[float] = []
    clone_times: list[float] = []
    registry: InProcessRegistry | None = None
    package_id = ""
    report: dict[str, Any] = {}
    profiler: cProfile.Profile | None = None
    initial_phases: dict[str, float] = {}
    resync_phases: dict[str, float] = {}
    try:
        for attempt in range(runs):
            if attempt % 2 == 0:  # interleaved (ABBA...): loop first on even runs, sync first on odd
                loop_times.append(archive_loop(bare, tags, work / "loop-out"))
            # What the mirror clone alone costs (part of the initial sync, not of the loop).
            start = time.perf_counter()
            clone_probe = work / f"clone-probe-{attempt}.git"
            run_checked([GIT, "clone", "--mirror", "--quiet", "--no-local", str(repo), str(clone_probe)])
            clone_times.append(time.perf_counter() - start)
            shutil.rmtree(clone_probe)
            if registry is not None:
                registry.close()
            registry = InProcessRegistry(work / f"sync-{attempt}")
            package_id = registry.add(str(repo), package)
            last = attempt == runs - 1
            profiler = cProfile.Profile() if (profile and last) else None
            start = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            report = registry.sync(package_id, initial_phases if last else None)
            if profiler is not None:
                profiler.disable()
            sync_times.append(time.perf_counter() - start)
            added_tags = [v for v in report["added"] if not v.startswith("dev-")]
            if len(added_tags) != len(tags):
                raise BenchError(f"initial sync added {len(added_tags)} tag versions, expected {len(tags)}")
            if attempt % 2 == 1:
                loop_times.append(archive_loop(bare, tags, work / "loop-out"))
            log(f"(c) run {attempt + 1}: loop {loop_times[-1]:.3f}s, sync {sync_times[-1]:.3f}s")
        assert registry is not None
        start = time.perf_counter()
        noop = registry.sync(package_id)
        noop_seconds = time.perf_counter() - start
        new_tag = semver(len(tags))
        add_tag(repo, new_tag, len(tags))
        start = time.perf_counter()
        resync = registry.sync(package_id, resync_phases)
        resync_seconds = time.perf_counter() - start
        if resync["added"] != [new_tag]:  # dev-main moved too: it shows up under "updated"
            raise BenchError(f"re-sync report {resync}, expected {new_tag} added")
        log(f"(c) re-sync after one new tag: {resync_seconds:.3f}s (no-op re-sync {noop_seconds:.3f}s)")
    finally:
        if registry is not None:
            registry.close()
    profile_top = None
    if profiler is not None:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(str(RESULTS_DIR / "sync.prof"))
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(30)
        profile_top = text.getvalue()
    loop = statistics.median(loop_times)
    sync = statistics.median(sync_times)
    ratio = sync / loop
    result = {
        "tags": len(tags),
        "runs": runs,
        "loop_seconds": [round(t, 3) for t in loop_times],
        "sync_seconds": [round(t, 3) for t in sync_times],
        "loop_median_seconds": round(loop, 3),
        "sync_median_seconds": round(sync, 3),
        "mirror_clone_seconds": round(statistics.median(clone_times), 3),
        "ratio": round(ratio, 3),
        "target": f"<= {TARGET_SYNC_RATIO}",
        "ok": ratio <= TARGET_SYNC_RATIO,
        "resync_seconds": round(resync_seconds, 3),
        "resync_target": f"< {TARGET_RESYNC_SECONDS} s",
        "resync_ok": resync_seconds < TARGET_RESYNC_SECONDS,
        "noop_resync_seconds": round(noop_seconds, 3),
        "noop_report": noop,
        "initial_sync_phases_seconds": _phase_table(initial_phases),
        "resync_phases_seconds": _phase_table(resync_phases),
    }
    if profile_top is not None:
        result["profile"] = str(RESULTS_DIR / "sync.prof")
        print(profile_top, file=sys.stderr)
    return result


# -- main -----------------------------------------------------------------------------------------------


def load_average() -> float:
    """1-minute load average: other processes on this 2-core machine skew absolute numbers."""
    return round(os.getloadavg()[0], 2)


def _cpu_times() -> tuple[int, int]:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields[:8]) - idle, sum(fields[:8])


def cpu_busy(sample: float = 1.0) -> float:
    """Fraction of all CPUs busy over ``sample`` seconds (call it while our own children are idle)."""
    busy0, total0 = _cpu_times()
    time.sleep(sample)
    busy1, total1 = _cpu_times()
    return round((busy1 - busy0) / max(1, total1 - total0), 3)


def background(label: str, wait_quiet: float, record: dict[str, float]) -> None:
    """Record how busy the machine is before a section; with --wait-quiet, first wait for calm."""
    deadline = time.monotonic() + wait_quiet
    busy = cpu_busy()
    while busy > QUIET_CPU and time.monotonic() < deadline:
        log(f"machine {busy:.0%} busy (other processes); waiting for < {QUIET_CPU:.0%} before {label}")
        time.sleep(4)
        busy = cpu_busy()
    record[label] = busy
    if busy > QUIET_CPU:
        log(f"warning: machine {busy:.0%} busy before {label}: absolute numbers are skewed")


def tool_versions() -> dict[str, str]:
    def first_line(argv: list[str]) -> str:
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        except OSError as exc:
            return f"unavailable: {exc}"
        return ((proc.stdout or "") + (proc.stderr or "")).strip().splitlines()[0]

    return {
        "python": platform.python_version(),
        "nginx": first_line([NGINX, "-v"]),
        "wrk": first_line([WRK, "--version"]),
        "composer": first_line([COMPOSER, "--version", "--no-ansi"]),
        "git": first_line([GIT, "--version"]),
        "cpus": str(os.cpu_count()),
    }


def make_fixtures(work: Path) -> tuple[RepoSpec, list[RepoSpec], RepoSpec]:
    repos = work / "repos"
    repos.mkdir()
    rich = RepoSpec(
        repos / "rich-sdk.git", RICH_PACKAGE, [semver(i) for i in range(RICH_TAGS)], rich_manifest
    )
    update = [
        RepoSpec(
            repos / f"lib{n:02d}.git",
            f"{VENDOR}/lib{n:02d}",
            [semver(i) for i in range(UPDATE_TAGS)],
            simple_manifest,
        )
        for n in range(UPDATE_PACKAGES)
    ]
    heavy = RepoSpec(
        repos / "sync-heavy.git",
        f"{VENDOR}/sync-heavy",
        [semver(i) for i in range(SYNC_TAGS)],
        simple_manifest,
    )
    start = time.perf_counter()
    for spec in [rich, *update, heavy]:
        make_repo(spec)
    log(f"fixtures: {2 + len(update)} repositories in {time.perf_counter() - start:.2f}s under {repos}")
    return rich, update, heavy


def run(args: argparse.Namespace, work: Path, children: Children) -> dict[str, Any]:
    seconds = 3 if args.quick else 10
    runs = 1 if args.quick else 3
    load: dict[str, float] = {"start": load_average()}
    busy: dict[str, float] = {}
    rich, update, heavy = make_fixtures(work)

    www = work / "www"
    www.mkdir()
    nginx_port = free_port()
    nginx_proc = start_nginx(children, work, www, nginx_port)
    nginx_url = f"http://127.0.0.1:{nginx_port}"

    log(f"starting the registry ({args.server}, 2 workers)")
    registry = start_registry(children, work, args.server)
    try:
        start = time.perf_counter()
        tasks = [
            registry.api("POST", "/packages", {"repository_url": str(s.path), "name": s.package})[
                "sync_task"
            ]["id"]
            for s in [rich, *update]
        ]
        for task_id in tasks:
            registry.wait_task(task_id)
        setup_sync_seconds = time.perf_counter() - start
        log(f"registry synced {len(tasks)} packages through its task workers in {setup_sync_seconds:.2f}s")
        customer = registry.api("POST", "/customers", {"name": "Bench Customer"})
        for spec in [rich, *update]:
            registry.api(
                "POST", f"/customers/{customer['id']}/packages", {"package": spec.package, "constraint": "*"}
            )
        token: str = customer["token"]

        background("p2", args.wait_quiet, busy)
        p2 = bench_p2(registry, token, www, (nginx_url, nginx_proc.pid), seconds, runs, work)
        background("composer", args.wait_quiet, busy)
        # composer's own wall time varies most, so it gets more runs than the other sections.
        composer_runs = 1 if args.quick else 5
        composer = bench_composer(
            registry, token, [s.package for s in update], www, nginx_url, composer_runs, work
        )
    finally:
        registry.client.close()
        children.stop(registry.proc)
    background("sync", args.wait_quiet, busy)
    sync = bench_sync(work, heavy.path, heavy.tags, runs, args.profile)
    load["end"] = load_average()
    return {
        "mode": "quick" if args.quick else "full",
        "server": args.server,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "tools": tool_versions(),
        "load_average_1m": load,
        "background_cpu_busy": busy,
        "setup": {"registry_task_sync_of_21_packages_seconds": round(setup_sync_seconds, 3)},
        "p2_throughput": p2,
        "composer_update": composer,
        "sync": sync,
    }


def print_table(results: dict[str, Any]) -> None:
    p2, comp, sync = results["p2_throughput"], results["composer_update"], results["sync"]
    reg, ngx = p2["registry"], p2["nginx"]

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    rows = [
        (
            "(a) p2 req/s (registry/nginx)",
            f"{p2['registry']['requests_per_second']:,.0f}",
            f"{p2['nginx']['requests_per_second']:,.0f}",
            f"{p2['ratio']:.3f}",
            p2["target"],
            verdict(p2["ok"]),
        ),
        (
            "(b) composer update s (cold)",
            f"{comp['registry_median_seconds']:.3f}",
            f"{comp['static_median_seconds']:.3f}",
            f"{comp['ratio']:.3f}",
            comp["target"],
            verdict(comp["ok"]),
        ),
        (
            "(b) composer update s (warm)",
            f"{comp['warm_registry_seconds']:.3f}",
            f"{comp['warm_static_seconds']:.3f}",
            f"{comp['warm_registry_seconds'] / comp['warm_static_seconds']:.3f}",
            "-",
            "info",
        ),
        (
            f"(c) initial sync s ({sync['tags']} tags)",
            f"{sync['sync_median_seconds']:.3f}",
            f"{sync['loop_median_seconds']:.3f}",
            f"{sync['ratio']:.3f}",
            sync["target"],
            verdict(sync["ok"]),
        ),
        (
            "(c) re-sync s (one new tag)",
            f"{sync['resync_seconds']:.3f}",
            "-",
            "-",
            sync["resync_target"],
            verdict(sync["resync_ok"]),
        ),
    ]
    header = ("measure", "cargoman", "floor", "ratio", "target", "")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print(
        f"\n(a) CPU per request (server + wrk): "
        f"registry {reg['server_cpu_us_per_request']:.1f} + {reg['wrk_cpu_us_per_request']:.1f} us, "
        f"nginx {ngx['server_cpu_us_per_request']:.1f} + {ngx['wrk_cpu_us_per_request']:.1f} us; "
        f"idle-machine estimate "
        f"{p2['registry']['idle_estimate_rps']:,} vs {p2['nginx']['idle_estimate_rps']:,} req/s, "
        f"ratio {p2['idle_estimate_ratio']:.3f}"
    )
    print(
        f"p2 file {p2['p2_bytes']} bytes ({p2['p2_versions']} versions); "
        f"p99 latency registry {p2['registry']['latency_p99_ms']:.2f} ms, "
        f"nginx {p2['nginx']['latency_p99_ms']:.2f} ms; "
        f"mirror clone {sync['mirror_clone_seconds']:.3f}s; no-op re-sync {sync['noop_resync_seconds']:.3f}s"
    )
    for title, key in (("initial sync", "initial_sync_phases_seconds"), ("re-sync", "resync_phases_seconds")):
        parts = ", ".join(f"{label} {seconds:.3f}" for label, seconds in sync[key].items())
        print(f"(c) {title} phases (s, last run): {parts}")
    loads = ", ".join(f"{k} {v}" for k, v in results["load_average_1m"].items())
    busy = ", ".join(f"{k} {v:.0%}" for k, v in results["background_cpu_busy"].items())
    print(f"background CPU busy before each section: {busy}; 1-min load average: {loads}")
    if any(v > QUIET_CPU for v in results["background_cpu_busy"].values()):
        print("WARNING: other processes were using the CPUs; absolute numbers (and ratios) are skewed")


@contextlib.contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="3 s wrk runs and 1 run per timing (else 10 s, 3)"
    )
    parser.add_argument("--server", choices=("granian", "uvicorn"), default="granian")
    parser.add_argument("--profile", action="store_true", help="cProfile the last initial sync")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (fixtures, logs)")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each section wait up to SECONDS for other processes to leave the CPUs idle",
    )
    args = parser.parse_args()
    for tool in (NGINX, WRK, COMPOSER, GIT):
        if not Path(tool).exists():
            print(f"missing tool: {tool}", file=sys.stderr)
            return 2
    work = Path(tempfile.mkdtemp(prefix="cargoman-bench-")).resolve()
    children = Children()
    try:
        with terminate_on_sigterm():
            results = run(args, work, children)
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        children.stop_all()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / "latest.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    print(f"\nwritten {out.relative_to(ROOT)}")
    ok = all(
        (
            results["p2_throughput"]["ok"],
            results["composer_update"]["ok"],
            results["sync"]["ok"],
            results["sync"]["resync_ok"],
        )
    )
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
