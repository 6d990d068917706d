"""Sync one package from its Git mirror: new or moved refs become versions with stored archives.

Archives are stored (atomically) before the version rows that point at them are committed, and all
row changes of one sync commit together, so no reader ever sees half a version.
"""

from __future__ import annotations

import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from cargoman.composer.metadata import manifest_from_composer_json
from cargoman.composer.versions import branch_version, sort_versions, tag_version
from cargoman.db.models import Version
from cargoman.gitsync.archive import build_archives
from cargoman.gitsync.mirror import Ref
from cargoman.packages import repository
from cargoman.packages.mirrors import locked, open_mirror
from cargoman.packages.service import dist_prefix
from cargoman.runtime import Runtime
from cargoman.stamps import next_change_stamp
from cargoman.timeutil import isoformat, utcnow

ARCHIVE_WORKERS = 2
STORE_WORKERS = 4


@dataclass(frozen=True)
class Candidate:
    ref: Ref
    version: str
    version_normalized: str

    @property
    def is_branch(self) -> bool:
        return self.ref.kind == "branch"


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "warnings": len(self.warnings),
        }


def _warning(ref: Ref, message: str) -> dict[str, Any]:
    return {"ref": ref.name, "kind": ref.kind, "reference": ref.commit, "message": message}


def _candidates(refs: list[Ref], warnings: list[dict[str, Any]]) -> list[Candidate]:
    by_normalized: dict[str, Candidate] = {}
    # Exact tag names (1.0.0) win over prefixed ones (v1.0.0) when both name one version.
    for ref in sorted(refs, key=lambda r: (r.kind, r.name.lower().startswith(("v", "release-")), r.name)):
        if ref.kind == "tag":
            parsed = tag_version(ref.name)
            if parsed is None:
                warnings.append(_warning(ref, f"tag '{ref.name}' is not a version Composer accepts; skipped"))
                continue
            pretty, normalized = parsed
        else:
            try:
                pretty, normalized = branch_version(ref.name)
            except ValueError:
                warnings.append(_warning(ref, f"branch '{ref.name}' cannot be a Composer version; skipped"))
                continue
        if normalized in by_normalized:
            other = by_normalized[normalized].ref.name
            warnings.append(
                _warning(ref, f"{ref.kind} '{ref.name}' names the same version as '{other}'; skipped")
            )
            continue
        by_normalized[normalized] = Candidate(ref, pretty, normalized)
    return list(by_normalized.values())


def _read_manifest(raw: bytes | None, package_name: str, ref: Ref) -> dict[str, Any] | str:
    """The parsed composer.json, or a warning message explaining why this ref is skipped."""
    if raw is None:
        return "composer.json is missing"
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return f"composer.json is not valid JSON: {exc}"
    if not isinstance(data, dict):
        return "composer.json is not a JSON object"
    try:
        orjson.dumps(data)
    except TypeError:
        return "composer.json holds a number outside the 64-bit range"
    declared = data.get("name")
    if not isinstance(declared, str) or declared.lower() != package_name:
        return f"composer.json names '{declared}', expected '{package_name}'"
    for key in ("require", "require-dev", "autoload", "extra"):
        if key in data and not isinstance(data[key], dict | list):
            return f"composer.json field '{key}' has the wrong type"
    return data


def sync_package(runtime: Runtime, tenant_id: str, package_id: str) -> SyncReport:
    settings = runtime.settings
    with runtime.unit_of_work("worker", tenant_id) as ctx:
        package = repository.get(ctx.session, tenant_id, package_id)
        if package is None:
            return SyncReport()
        url = package.repository_url
        if url is None:
            return SyncReport()  # published by upload only: nothing to fetch
        package.sync_status = "syncing"
        package_name = package.name
        known_warnings = {(w.get("ref"), w.get("reference")): w for w in package.sync_warnings or []}
        stored = {
            v.version_normalized: (v.ref_name, v.reference, v.dist_key)
            for v in repository.versions_of(ctx.session, tenant_id, package_id)
            if v.source == "git"
        }

    report = SyncReport()
    mirror = open_mirror(settings, tenant_id, url)
    try:
        with locked(mirror.path):
            mirror.sync()
            refs = mirror.list_refs()
            default_branch = mirror.default_branch()
    except Exception as exc:
        _record_failure(runtime, tenant_id, package_id, str(exc))
        raise

    candidates = _candidates(refs, report.warnings)
    changed = [
        c
        for c in candidates
        if stored.get(c.version_normalized, (None, None, None))[:2] != (c.ref.name, c.ref.commit)
    ]
    report.unchanged = len(candidates) - len(changed)
    # Refs already known to be broken at the same commit keep their warning without a re-read.
    to_read = []
    for candidate in changed:
        known = known_warnings.get((candidate.ref.name, candidate.ref.commit))
        if known is not None and candidate.version_normalized not in stored:
            report.warnings.append(known)
        else:
            to_read.append(candidate)
    blobs = mirror.read_blobs([(c.ref.commit, "composer.json") for c in to_read])
    manifests: dict[str, dict[str, Any]] = {}
    valid: list[Candidate] = []
    for candidate in to_read:
        parsed = _read_manifest(
            blobs.get((candidate.ref.commit, "composer.json")), package_name, candidate.ref
        )
        if isinstance(parsed, str):
            report.warnings.append(_warning(candidate.ref, parsed))
            continue
        manifests[candidate.version_normalized] = parsed
        valid.append(candidate)

    skipped = {w["ref"] for w in report.warnings}
    keep = {c.version_normalized for c in candidates if c.ref.name not in skipped}
    commits = sorted({c.ref.commit for c in valid})
    times = mirror.commit_time(commits) if commits else {}
    prefix = dist_prefix(tenant_id, package_name)
    archive_keys: dict[str, Any] = {}
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.data_dir, prefix="sync-") as scratch:
        built = build_archives(mirror, [(commit, None) for commit in commits], Path(scratch), ARCHIVE_WORKERS)

        def store(commit: str) -> None:
            result = built[(commit, None)]
            key = f"{prefix}{commit}.zip"
            runtime.storage.put_file(key, result.path)
            archive_keys[commit] = (key, result)

        # Storing is mostly waiting on fsync, so several stores overlap well.
        with ThreadPoolExecutor(max_workers=STORE_WORKERS, thread_name_prefix="store-archive") as pool:
            list(pool.map(store, commits))

    obsolete_keys: set[str] = set()
    with runtime.unit_of_work("worker", tenant_id) as ctx:
        package = repository.get(ctx.session, tenant_id, package_id)
        if package is None:
            return report
        # Uploaded versions belong to their uploader, not to the repository: a sync leaves them alone.
        rows = {
            v.version_normalized: v
            for v in repository.versions_of(ctx.session, tenant_id, package_id)
            if v.source == "git"
        }
        for normalized, row in rows.items():
            if normalized not in keep:
                report.removed.append(row.version)
                if row.dist_key:
                    obsolete_keys.add(row.dist_key)
                ctx.session.delete(row)
        for candidate in valid:
            key, archive = archive_keys[candidate.ref.commit]
            existing = rows.get(candidate.version_normalized)
            if existing is None:
                row = Version(tenant_id=tenant_id, package_id=package_id)
                ctx.session.add(row)
                report.added.append(candidate.version)
            else:
                row = existing
                report.updated.append(candidate.version)
                if row.dist_key and row.dist_key != key:
                    obsolete_keys.add(row.dist_key)
            row.version = candidate.version
            row.version_normalized = candidate.version_normalized
            row.is_branch = candidate.is_branch
            row.ref_name = candidate.ref.name
            row.reference = candidate.ref.commit
            row.manifest = manifest_from_composer_json(manifests[candidate.version_normalized])
            row.dist_key = key
            row.dist_sha1 = archive.sha1
            row.dist_sha256 = archive.sha256
            row.dist_md5 = archive.md5
            row.dist_size = archive.size
            row.released_at = times.get(candidate.ref.commit)
        ctx.session.flush()
        still_used = {v.dist_key for v in repository.versions_of(ctx.session, tenant_id, package_id)}
        obsolete_keys -= still_used
        package.sync_status = "ready"
        package.sync_error = None
        package.sync_warnings = sorted(report.warnings, key=lambda w: (w["kind"], w["ref"]))
        package.last_synced_at = utcnow()
        package.default_branch = default_branch
        package.description = _description(
            repository.versions_of(ctx.session, tenant_id, package_id), default_branch
        )
        if report.added or report.updated or report.removed:
            package.metadata_changed_at = next_change_stamp(ctx)
            ctx.changed()
    for key in obsolete_keys:
        runtime.storage.delete(key)
    return report


def _description(versions: list[Version], default_branch: str | None) -> str | None:
    source: Version | None = next((v for v in versions if v.is_branch and v.ref_name == default_branch), None)
    if source is None:
        tags = {v.version_normalized: v for v in versions if not v.is_branch}
        if tags:
            source = tags[sort_versions(list(tags), reverse=True)[0]]
    if source is None:
        return None
    description = source.manifest.get("description")
    return description if isinstance(description, str) else None


def _record_failure(runtime: Runtime, tenant_id: str, package_id: str, message: str) -> None:
    with runtime.unit_of_work("worker", tenant_id) as ctx:
        package = repository.get(ctx.session, tenant_id, package_id)
        if package is not None:
            package.sync_status = "error"
            package.sync_error = message


def released_at_iso(value: datetime | None) -> str | None:
    return isoformat(value)
