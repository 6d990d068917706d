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
from cargoman.db.models import Package, Version
from cargoman.git_credentials import resolve_credential
from cargoman.gitsync.archive import build_archives
from cargoman.gitsync.mirror import GitAuth, Mirror, Ref
from cargoman.packages import monorepo, repository
from cargoman.packages.mirrors import locked, open_mirror
from cargoman.packages.monorepo import manifest_path
from cargoman.packages.service import dist_prefix
from cargoman.runtime import Runtime, ServiceContext
from cargoman.security import new_id
from cargoman.stamps import next_change_stamp
from cargoman.timeutil import isoformat, utcnow

ARCHIVE_WORKERS = 2
STORE_WORKERS = 4


@dataclass(frozen=True)
class Candidate:
    ref: Ref
    version: str
    version_normalized: str
    subdir: str | None = None  # monorepo children: the folder the package lives in at this ref

    @property
    def is_branch(self) -> bool:
        return self.ref.kind == "branch"

    @property
    def manifest_path(self) -> str:
        return manifest_path(self.subdir)


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    warnings: list[dict[str, Any]] = field(default_factory=list)
    # Monorepo roots: one report per child package.
    children: dict[str, SyncReport] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "warnings": len(self.warnings),
        }
        if self.children:
            result["children"] = {name: report.as_dict() for name, report in self.children.items()}
        return result

    def include_child(self, name: str, child: SyncReport) -> None:
        self.children[name] = child
        self.added += [f"{name} {version}" for version in child.added]
        self.updated += [f"{name} {version}" for version in child.updated]
        self.removed += [f"{name} {version}" for version in child.removed]
        self.unchanged += child.unchanged


def _warning(ref: Ref, message: str) -> dict[str, Any]:
    return {"ref": ref.name, "kind": ref.kind, "reference": ref.commit, "message": message}


def _candidates(
    refs: list[Ref], warnings: list[dict[str, Any]], subdirs: dict[Ref, str] | None = None
) -> list[Candidate]:
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
        by_normalized[normalized] = Candidate(ref, pretty, normalized, subdirs.get(ref) if subdirs else None)
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
    """Fetch the package's repository and bring its versions in line with the refs.

    A monorepo root syncs all its children from one fetch; asking for a child syncs its root.
    """
    with runtime.unit_of_work("worker", tenant_id) as ctx:
        package = repository.get(ctx.session, tenant_id, package_id)
        if package is None:
            return SyncReport()
        root_id = package.parent_id
        url = package.repository_url
        if root_id is None and url is not None:
            package.sync_status = "syncing"
        glob = package.monorepo_glob
        root_name = package.name
    if root_id is not None:
        return sync_package(runtime, tenant_id, root_id)
    if url is None:
        return SyncReport()  # published by upload only: nothing to fetch

    try:
        mirror = open_mirror(runtime.settings, tenant_id, url, _resolved_auth(runtime, tenant_id, url))
        with locked(mirror.path):
            mirror.sync()
            refs = mirror.list_refs()
            default_branch = mirror.default_branch()
        if glob is not None:
            return _sync_monorepo(
                runtime, tenant_id, package_id, root_name, glob, mirror, refs, default_branch
            )
    except Exception as exc:
        _record_failure(runtime, tenant_id, package_id, str(exc))
        raise
    return _sync_versions(runtime, tenant_id, package_id, mirror, refs, default_branch)


def _resolved_auth(runtime: Runtime, tenant_id: str, url: str) -> GitAuth | None:
    """The credential this tenant's sources give for ``url`` (GitHub App, OAuth, deploy)."""
    with runtime.unit_of_work("worker", tenant_id) as ctx:
        credential = resolve_credential(ctx, url)
    return credential.git_auth() if credential is not None else None


def _sync_versions(
    runtime: Runtime,
    tenant_id: str,
    package_id: str,
    mirror: Mirror,
    refs: list[Ref],
    default_branch: str | None,
    *,
    subdirs: dict[Ref, str] | None = None,
    blobs: dict[tuple[str, str], bytes | None] | None = None,
    extra_warnings: list[dict[str, Any]] | None = None,
) -> SyncReport:
    """Make the package's git versions match ``refs`` of the already fetched ``mirror``.

    ``subdirs`` (monorepo children) names the folder the package is read and archived from at each ref;
    ``blobs`` are composer.json files already read.
    """
    settings = runtime.settings
    with runtime.unit_of_work("worker", tenant_id) as ctx:
        package = repository.get(ctx.session, tenant_id, package_id)
        if package is None:
            return SyncReport()
        package_name = package.name
        known_warnings = {(w.get("ref"), w.get("reference")): w for w in package.sync_warnings or []}
        current_rows = repository.versions_of(ctx.session, tenant_id, package_id)
        stored = {
            v.version_normalized: (v.ref_name, v.reference, v.dist_key)
            for v in current_rows
            if v.source == "git"
        }
        uploaded = {v.version_normalized for v in current_rows if v.source != "git"}

    report = SyncReport(warnings=list(extra_warnings or []))
    candidates = []
    for candidate in _candidates(refs, report.warnings, subdirs):
        if candidate.version_normalized in uploaded:
            # The uploaded version keeps its archive; the ref naming the same version is not imported.
            message = f"version {candidate.version} was published by upload; this ref is skipped"
            report.warnings.append(_warning(candidate.ref, message))
        else:
            candidates.append(candidate)
    changed = [
        c
        for c in candidates
        # A version whose archive was deleted (dist_key None) is rebuilt even if its ref did not move.
        if stored.get(c.version_normalized, (None, None, None))[:2] != (c.ref.name, c.ref.commit)
        or stored[c.version_normalized][2] is None
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
    already_read = blobs or {}
    missing = [
        (c.ref.commit, c.manifest_path)
        for c in to_read
        if (c.ref.commit, c.manifest_path) not in already_read
    ]
    read = {**already_read, **mirror.read_blobs(missing)} if missing else already_read
    manifests: dict[str, dict[str, Any]] = {}
    valid: list[Candidate] = []
    for candidate in to_read:
        parsed = _read_manifest(
            read.get((candidate.ref.commit, candidate.manifest_path)), package_name, candidate.ref
        )
        if isinstance(parsed, str):
            report.warnings.append(_warning(candidate.ref, parsed))
            continue
        manifests[candidate.version_normalized] = parsed
        valid.append(candidate)

    skipped = {w["ref"] for w in report.warnings}
    keep = {c.version_normalized for c in candidates if c.ref.name not in skipped}
    sources = sorted({(c.ref.commit, c.subdir) for c in valid}, key=lambda s: (s[0], s[1] or ""))
    commits = sorted({commit for commit, _ in sources})
    times = mirror.commit_time(commits) if commits else {}
    prefix = dist_prefix(tenant_id, package_name)
    archive_keys: dict[str, Any] = {}
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.data_dir, prefix="sync-") as scratch:
        built = build_archives(mirror, sources, Path(scratch), ARCHIVE_WORKERS)

        def store(source: tuple[str, str | None]) -> None:
            commit = source[0]
            result = built[source]
            key = f"{prefix}{commit}.zip"
            runtime.storage.put_file(key, result.path)
            archive_keys[commit] = (key, result)

        # Storing is mostly waiting on fsync, so several stores overlap well.
        with ThreadPoolExecutor(max_workers=STORE_WORKERS, thread_name_prefix="store-archive") as pool:
            list(pool.map(store, sources))

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


def _sync_monorepo(
    runtime: Runtime,
    tenant_id: str,
    root_id: str,
    root_name: str,
    glob: str,
    mirror: Mirror,
    refs: list[Ref],
    default_branch: str | None,
) -> SyncReport:
    """Find the children at every ref, create the new ones, sync each; children gone lose their versions."""
    found = monorepo.scan(mirror, refs, glob, root_name, default_branch)
    report = SyncReport(warnings=list(found.warnings))
    targets: dict[str, str] = {}  # child id -> name
    with runtime.unit_of_work("worker", tenant_id) as ctx:
        root = repository.get(ctx.session, tenant_id, root_id)
        if root is None:
            return report
        children = {child.name: child for child in repository.children_of(ctx.session, tenant_id, root_id)}
        for name in sorted(found.found):
            folder = found.current_folder[name]
            child = children.get(name) or repository.get_by_name(ctx.session, tenant_id, name)
            if child is None:
                child = _create_child(ctx, root, name, folder)
            elif child.parent_id != root_id:
                report.warnings.append(
                    {
                        "ref": "*",
                        "kind": "monorepo",
                        "reference": None,
                        "message": f"{folder} declares {name}, which is already a separate package; skipped",
                    }
                )
                continue
            elif child.subdir != folder:
                ctx.audit("package.update", "package", name, {"subdir": child.subdir}, {"subdir": folder})
                child.subdir = folder
            targets[child.id] = name
        gone = {child.id: name for name, child in children.items() if child.id not in targets}
    attributed: set[tuple[Ref, str]] = set()
    for child_id, name in targets.items():
        folder = found.current_folder[name]
        subdirs = found.found[name]
        # A ref where the child's folder holds an unreadable composer.json is that child's broken version.
        broken = [
            _warning(ref, message)
            for (ref, broken_folder), message in found.broken.items()
            if broken_folder == folder and ref not in subdirs
        ]
        attributed |= {(ref, folder) for ref in refs if (ref, folder) in found.broken}
        child_report = _sync_versions(
            runtime,
            tenant_id,
            child_id,
            mirror,
            list(subdirs),
            default_branch,
            subdirs=subdirs,
            blobs=found.blobs,
            extra_warnings=broken,
        )
        report.include_child(name, child_report)
    for child_id, name in gone.items():
        missing = {
            "ref": "*",
            "kind": "monorepo",
            "reference": None,
            "message": f"no composer.json matching {glob} declares {name} any more",
        }
        report.include_child(
            name,
            _sync_versions(
                runtime, tenant_id, child_id, mirror, [], default_branch, extra_warnings=[missing]
            ),
        )
    report.warnings += [
        {**_warning(ref, message), "message": f"{folder}: {message}"}
        for (ref, folder), message in found.broken.items()
        if (ref, folder) not in attributed
    ]
    with runtime.unit_of_work("worker", tenant_id) as ctx:
        root = repository.get(ctx.session, tenant_id, root_id)
        if root is not None:
            root.sync_status = "ready"
            root.sync_error = None
            root.sync_warnings = sorted(report.warnings, key=lambda w: (w["kind"], w["ref"]))
            root.last_synced_at = utcnow()
            root.default_branch = default_branch
    return report


def _create_child(ctx: ServiceContext, root: Package, name: str, folder: str) -> Package:
    child = Package(
        id=new_id("pkg"),
        tenant_id=root.tenant_id,
        name=name,
        repository_url=root.repository_url,
        repository_type=root.repository_type,
        parent_id=root.id,
        subdir=folder,
        sync_warnings=[],
    )
    ctx.session.add(child)
    ctx.session.flush()
    ctx.audit("package.create", "package", name, None, {"parent": root.name, "subdir": folder})
    ctx.changed()  # a new name in packages.json
    return child


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
