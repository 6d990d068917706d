"""The Composer v2 endpoints as a lean ASGI app: the hot path of the registry.

`/packages.json`, `/p2/{vendor}/{name}.json`, `/p2/{vendor}/{name}~dev.json`,
`/dist/{vendor}/{name}/{version}.zip` and the `notify-batch` URL `/downloads`.
No framework routing or dependency injection here: a request that hits the caches costs a digest,
two dict lookups and one `send`. Database work on a cache miss runs in a worker thread.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse

from cargoman.access.policy import (
    Access,
    CustomerAccess,
    FullAccess,
    VersionRule,
    check_credential,
    may_see_package,
    version_rule,
)
from cargoman.admins.lookup import CMA_TOKEN_PREFIX, lookup_admin_credential
from cargoman.composer.metadata import package_document, root_document, version_entry
from cargoman.composer.versions import sort_versions
from cargoman.db.models import DEFAULT_TENANT_ID
from cargoman.packages import repository as packages_repository
from cargoman.packages.snapshot import PackageSnapshot, VersionSnapshot, load_snapshot
from cargoman.runtime import Runtime
from cargoman.security import token_digest
from cargoman.stats.recorder import UsageEvent, UsageRecorder
from cargoman.timeutil import parse_http_date, utcnow
from cargoman.tokens.access import load_customer_access, load_jwt_access
from cargoman.tokens.customer_jwt import looks_like_jwt, verify_customer_jwt
from cargoman.web.composer.cache import ComposerCache, Generation, Rendered, render

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

COMPOSER_PATHS = ("/packages.json", "/p2/", "/dist/", "/downloads")
MAX_NOTIFY_BODY = 1024 * 1024
JSON_TYPE = b"application/json"


def is_composer_path(path: str) -> bool:
    return path == "/packages.json" or path == "/downloads" or path.startswith(("/p2/", "/dist/"))


class ComposerApp:
    def __init__(self, runtime: Runtime, recorder: UsageRecorder) -> None:
        self.runtime = runtime
        self.recorder = recorder
        self.base_url = runtime.settings.base_url
        self.cache = ComposerCache(runtime.changes.current)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        path: str = scope["path"]
        if path == "/downloads":
            if method != "POST":
                await _json(send, 405, {"error": {"code": "METHOD_NOT_ALLOWED", "message": "Use POST"}})
                return
        elif method not in ("GET", "HEAD"):
            await _json(send, 405, {"error": {"code": "METHOD_NOT_ALLOWED", "message": "Use GET"}})
            return
        headers = _headers(scope)
        generation = self.cache.current()
        access = await self._authenticate(generation, headers.get(b"authorization"))
        now = utcnow()
        if access is None:
            await _json(
                send,
                401,
                {"error": {"code": "UNAUTHORIZED", "message": "Invalid or missing authentication token"}},
                extra=[(b"www-authenticate", b'Basic realm="Cargoman"')],
            )
            return
        denial = check_credential(access, now)
        if denial is not None:
            await _json(
                send,
                403,
                {
                    "error": {"code": denial.code, "message": denial.message},
                    "warnings": [{"message": denial.message, "versions": "*"}],
                },
            )
            return
        if isinstance(access, CustomerAccess) and access.credential_kind == "token":
            self.recorder.token_used(access.token_id, _client_ip(scope), now)
        if path == "/packages.json":
            await self._root(scope, send, generation, access, headers)
        elif path.startswith("/p2/"):
            await self._package_file(scope, send, generation, access, headers, path[4:])
        elif path.startswith("/dist/"):
            await self._dist(scope, receive, send, generation, access, path[6:])
        else:
            await self._notify(scope, receive, send, access)

    # -- authentication -------------------------------------------------------------------------

    async def _authenticate(self, generation: Generation, header: bytes | None) -> Access | None:
        if not header:
            return None
        cached = generation.credentials.get(header, _MISS)
        if cached is not _MISS:
            if isinstance(cached, CustomerAccess) and cached.credential_kind == "jwt":
                # A JWT ends at its `exp` even while its access stays cached: then 401, like a bad one.
                expires_at = cached.token_expires_at
                return cached if expires_at is None or expires_at > utcnow() else None
            if (
                isinstance(cached, FullAccess)
                and cached.expires_at is not None
                and cached.expires_at <= utcnow()
            ):
                return None  # an expired management credential, still cached
            return cached  # type: ignore[return-value]
        secret = _credential(header)
        access: Access | None = None
        jwt_secret = self.runtime.settings.jwt_secret
        if secret and self.runtime.admin_tokens.verify(secret):
            access = FullAccess(tenant_id=DEFAULT_TENANT_ID)
        elif secret and secret.startswith(CMA_TOKEN_PREFIX):
            access = await run_in_threadpool(self._load_admin_access, secret)
        elif secret and jwt_secret and looks_like_jwt(secret):
            access = await run_in_threadpool(self._load_jwt_access, jwt_secret, secret)
        elif secret:
            access = await run_in_threadpool(self._load_access, token_digest(secret))
        generation.credentials[header] = access
        return access

    def _load_admin_access(self, secret: str) -> Access | None:
        """Management credentials (any level) read every package, as the root token does."""
        credential = lookup_admin_credential(self.runtime, secret, None)
        if credential is None or credential.tenant_id != DEFAULT_TENANT_ID:
            return None
        return FullAccess(
            tenant_id=DEFAULT_TENANT_ID, principal=credential.id, expires_at=credential.expires_at
        )

    def _load_access(self, digest: str) -> Access | None:
        with self.runtime.session_factory() as session:
            access = load_customer_access(session, digest)
        # A revoked token is answered like an unknown one: 401, no hint that it ever existed.
        if access is None or access.token_revoked or access.tenant_id != DEFAULT_TENANT_ID:
            return None
        return access

    def _load_jwt_access(self, jwt_secret: str, token: str) -> Access | None:
        """A customer JWT with a valid signature and no past `exp`: download access for its customer."""
        claims = verify_customer_jwt(jwt_secret, token)
        if claims is None or claims.tenant_id != DEFAULT_TENANT_ID:
            return None
        with self.runtime.session_factory() as session:
            return load_jwt_access(
                session, claims.tenant_id, claims.customer_id, claims.jti, claims.expires_at
            )

    # -- packages.json --------------------------------------------------------------------------

    async def _root(
        self, scope: Scope, send: Send, generation: Generation, access: Access, headers: dict[bytes, bytes]
    ) -> None:
        key = (access.tenant_id, access.token_id if isinstance(access, CustomerAccess) else "*")
        rendered = generation.roots.get(key)
        if rendered is None:
            names = await run_in_threadpool(self._package_names, access.tenant_id)
            visible = [name for name in names if may_see_package(access, name)]
            document = root_document(base_url=self.base_url, available_packages=visible)
            changed = access.access_changed_at if isinstance(access, CustomerAccess) else utcnow()
            rendered = render(document, changed, conditional=False)
            generation.roots[key] = rendered
        await _send_rendered(scope, send, rendered, headers)

    def _package_names(self, tenant_id: str) -> list[str]:
        with self.runtime.session_factory() as session:
            return packages_repository.all_names(session, tenant_id)

    # -- p2 files -------------------------------------------------------------------------------

    async def _snapshot(self, generation: Generation, tenant_id: str, name: str) -> PackageSnapshot | None:
        key = (tenant_id, name)
        if key in generation.snapshots:
            return generation.snapshots[key]
        snapshot = await run_in_threadpool(self._load_snapshot, tenant_id, name)
        generation.snapshots[key] = snapshot
        return snapshot

    async def _visible_package(
        self, send: Send, generation: Generation, access: Access, name: str
    ) -> tuple[PackageSnapshot, VersionRule] | None:
        """The package and the caller's version rule, or None after answering 404 (unknown) or 403."""
        snapshot = await self._snapshot(generation, access.tenant_id, name)
        if snapshot is None:
            await not_found(send, f"Package {name} not found")
            return None
        rule = version_rule(access, name)
        if rule is None:
            message = f"Access denied to package {name}"
            await _json(send, 403, {"error": {"code": "FORBIDDEN", "message": message}})
            return None
        return snapshot, rule

    def _load_snapshot(self, tenant_id: str, name: str) -> PackageSnapshot | None:
        with self.runtime.session_factory() as session:
            return load_snapshot(session, tenant_id, name)

    async def _package_file(
        self,
        scope: Scope,
        send: Send,
        generation: Generation,
        access: Access,
        headers: dict[bytes, bytes],
        rest: str,
    ) -> None:
        if not rest.endswith(".json"):
            await not_found(send, "Not found")
            return
        name = rest[:-5].lower()
        dev = name.endswith("~dev")
        if dev:
            name = name[:-4]
        resolved = await self._visible_package(send, generation, access, name)
        if resolved is None:
            return
        snapshot, rule = resolved
        last_changed = snapshot.metadata_changed_at
        if isinstance(access, CustomerAccess) and access.access_changed_at > last_changed:
            last_changed = access.access_changed_at
        cache_key = (snapshot.id, rule, dev, last_changed)
        rendered = generation.package_files.get(cache_key)
        if rendered is None:
            versions = [
                v
                for v in snapshot.versions
                if v.is_branch == dev and rule.allows(v.version_normalized, v.yanked)
            ]
            rendered = render(self._document(snapshot, versions), last_changed, conditional=True)
            generation.package_files[cache_key] = rendered
        await _send_rendered(scope, send, rendered, headers)

    def _document(self, snapshot: PackageSnapshot, versions: list[VersionSnapshot]) -> dict[str, Any]:
        by_normalized = {v.version_normalized: v for v in versions}
        ordered = [by_normalized[n] for n in sort_versions(list(by_normalized), reverse=True)]
        entries = [
            version_entry(
                name=snapshot.name,
                version=v.version,
                version_normalized=v.version_normalized,
                manifest=v.manifest,
                dist_url=self.dist_url(snapshot.name, v.version) if v.dist_key else None,
                reference=v.reference,
                dist_sha1=v.dist_sha1,
                released_at=v.released_at,
                default_branch=v.is_branch and v.ref_name == snapshot.default_branch,
                deprecated=v.deprecated,
            )
            for v in ordered
        ]
        return package_document(snapshot.name, entries)

    def dist_url(self, package_name: str, version: str) -> str:
        return f"{self.base_url}/dist/{package_name}/{quote(version, safe='')}.zip"

    # -- dist archives --------------------------------------------------------------------------

    async def _dist(
        self, scope: Scope, receive: Receive, send: Send, generation: Generation, access: Access, rest: str
    ) -> None:
        parts = rest.split("/", 2)
        if len(parts) != 3 or not parts[2].endswith(".zip"):
            await not_found(send, "Not found")
            return
        name = f"{parts[0]}/{parts[1]}".lower()
        version = parts[2][:-4]
        resolved = await self._visible_package(send, generation, access, name)
        if resolved is None:
            return
        snapshot, rule = resolved
        found = snapshot.find(version)
        if found is None or found.dist_key is None or not rule.allows(found.version_normalized, found.yanked):
            await not_found(send, f"Version {version} of {name} not found")
            return
        if isinstance(access, CustomerAccess) and scope["method"] == "GET":
            self.recorder.record(
                UsageEvent(
                    tenant_id=access.tenant_id,
                    kind="download",
                    package_name=name,
                    version=found.version,
                    customer_id=access.customer_id,
                    token_id=access.token_id,
                    ip=_client_ip(scope),
                    at=utcnow(),
                )
            )
        await self._send_archive(scope, receive, send, found, name)

    async def _send_archive(
        self, scope: Scope, receive: Receive, send: Send, version: VersionSnapshot, name: str
    ) -> None:
        assert version.dist_key is not None
        settings = self.runtime.settings
        filename = f"{name.replace('/', '-')}-{version.version}.zip".replace('"', "")
        disposition = f'attachment; filename="{filename}"'.encode("latin-1", "replace")
        if settings.dist_accel_redirect_prefix:
            target = settings.dist_accel_redirect_prefix.rstrip("/") + "/" + quote(version.dist_key)
            await _start(
                send,
                200,
                [
                    (b"content-type", b"application/zip"),
                    (b"content-disposition", disposition),
                    (b"x-accel-redirect", target.encode()),
                ],
            )
            await send({"type": "http.response.body", "body": b""})
            return
        storage = self.runtime.storage
        if settings.storage_presigned_redirect:
            url = storage.presigned_url(version.dist_key, settings.storage_presigned_expiry)
            if url:
                await _start(send, 302, [(b"location", url.encode()), (b"content-length", b"0")])
                await send({"type": "http.response.body", "body": b""})
                return
        local = storage.local_path(version.dist_key)
        if local is not None and version.dist_size is not None and version.dist_size <= SMALL_ARCHIVE:
            # Most package zips are small: one read and one message beat a streamed file response.
            data = await run_in_threadpool(local.read_bytes)
            await _start(send, 200, _archive_headers(len(data), disposition))
            await send({"type": "http.response.body", "body": data if scope["method"] == "GET" else b""})
            return
        if local is not None:
            response = FileResponse(
                local,
                media_type="application/zip",
                headers={"content-disposition": disposition.decode("latin-1")},
            )
            await response(scope, receive, send)
            return
        data = await run_in_threadpool(storage.get_bytes, version.dist_key)
        await _start(send, 200, _archive_headers(len(data), disposition))
        await send({"type": "http.response.body", "body": data if scope["method"] == "GET" else b""})

    # -- notify-batch ---------------------------------------------------------------------------

    async def _notify(self, scope: Scope, receive: Receive, send: Send, access: Access) -> None:
        body = await _read_body(receive, MAX_NOTIFY_BODY)
        try:
            document = orjson.loads(body) if body is not None else None
        except orjson.JSONDecodeError:
            document = None
        downloads = document.get("downloads") if isinstance(document, dict) else None
        if not isinstance(downloads, list):
            await _json(
                send,
                400,
                {
                    "error": {
                        "code": "VALIDATION_ERROR",
                        "message": "downloads: expected a list of {name, version}",
                    }
                },
            )
            return
        customer_id = access.customer_id if isinstance(access, CustomerAccess) else None
        token_id = access.token_id if isinstance(access, CustomerAccess) else None
        recorded = 0
        now = utcnow()
        for item in downloads[:1000]:
            if not isinstance(item, dict):
                continue
            name, version = item.get("name"), item.get("version")
            if not isinstance(name, str) or not isinstance(version, str):
                continue
            name = name.lower()
            if not may_see_package(access, name):
                continue
            self.recorder.record(
                UsageEvent(
                    access.tenant_id, "install", name, version, customer_id, token_id, _client_ip(scope), now
                )
            )
            recorded += 1
        await _json(send, 200, {"status": "success", "recorded": recorded})


_MISS = object()
SMALL_ARCHIVE = 1024 * 1024


def _archive_headers(size: int, disposition: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", b"application/zip"),
        (b"content-length", str(size).encode()),
        (b"content-disposition", disposition),
    ]


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {key: value for key, value in scope["headers"] if key in _WANTED_HEADERS}


_WANTED_HEADERS = frozenset({b"authorization", b"if-modified-since", b"accept-encoding"})


def _credential(header: bytes | None) -> str | None:
    if not header:
        return None
    kind, _, value = header.partition(b" ")
    kind = kind.lower()
    if kind == b"bearer":
        return value.strip().decode("latin-1") or None
    if kind == b"basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, _, password = decoded.partition(":")
        return password or username or None
    return None


def _client_ip(scope: Scope) -> str | None:
    client = scope.get("client")
    return client[0] if client else None


async def _start(send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})


async def _json(
    send: Send, status: int, document: object, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = orjson.dumps(document)
    headers = [(b"content-type", JSON_TYPE), (b"content-length", str(len(body)).encode())]
    if extra:
        headers.extend(extra)
    await _start(send, status, headers)
    await send({"type": "http.response.body", "body": body})


async def not_found(send: Send, message: str) -> None:
    await _json(send, 404, {"error": {"code": "NOT_FOUND", "message": message}})


async def _send_rendered(scope: Scope, send: Send, rendered: Rendered, headers: dict[bytes, bytes]) -> None:
    since_header = headers.get(b"if-modified-since")
    if since_header is not None and rendered.not_modified_headers:
        since = parse_http_date(since_header.decode("latin-1"))
        if since is not None and rendered.last_modified_at <= since:
            await _start(send, 304, rendered.not_modified_headers)
            await send({"type": "http.response.body", "body": b""})
            return
    if b"gzip" in headers.get(b"accept-encoding", b""):
        body, response_headers = rendered.gzipped, rendered.gzip_headers
    else:
        body, response_headers = rendered.body, rendered.headers
    await _start(send, 200, response_headers)
    await send({"type": "http.response.body", "body": body if scope["method"] != "HEAD" else b""})


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
