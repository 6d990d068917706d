"""Validate a package's repository without syncing it: what would each ref give, and what is wrong.

Only the mirror is fetched; no version, archive or package row changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cargoman import validation
from cargoman.composer.constraints import InvalidConstraint, parse_constraint
from cargoman.composer.versions import branch_version, tag_version
from cargoman.config import Settings
from cargoman.errors import ValidationFailed
from cargoman.git_credentials import resolve_credential
from cargoman.gitsync.errors import GitError
from cargoman.gitsync.mirror import GitAuth, Ref
from cargoman.packages.mirrors import locked, open_mirror
from cargoman.packages.monorepo import manifest_path
from cargoman.packages.service import get_package
from cargoman.runtime import ServiceContext

CONSTRAINT_FIELDS = ("require", "require-dev")


@dataclass(frozen=True)
class Problem:
    ref: str
    kind: str  # invalid_version, missing_composer_json, invalid_json, name_mismatch, invalid_field, ...
    message: str


@dataclass
class CheckReport:
    refs_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class CheckTarget:
    """What to check, read from the database before any slow git work."""

    tenant_id: str
    name: str
    repository_url: str
    subdir: str | None
    monorepo_glob: str | None
    # Resolved like a sync's (GitHub App, OAuth, deploy credentials); never shown.
    auth: GitAuth | None = field(default=None, repr=False)


def check_target(ctx: ServiceContext, name: str) -> CheckTarget:
    package = get_package(ctx, name)
    if package.repository_url is None:
        raise ValidationFailed("name", f"{package.name} has no repository to validate (published by upload)")
    credential = resolve_credential(ctx, package.repository_url)
    return CheckTarget(
        ctx.tenant_id,
        package.name,
        package.repository_url,
        package.subdir,
        package.monorepo_glob,
        credential.git_auth() if credential is not None else None,
    )


def check_repository(settings: Settings, target: CheckTarget) -> CheckReport:
    mirror = open_mirror(settings, target.tenant_id, target.repository_url, target.auth)
    try:
        with locked(mirror.path):
            mirror.sync()
            refs = mirror.list_refs()
        paths = {
            ref: (
                mirror.list_paths(ref.commit, target.monorepo_glob)
                if target.monorepo_glob
                else [manifest_path(target.subdir)]
            )
            for ref in refs
        }
        blobs = mirror.read_blobs(
            [(ref.commit, path) for ref, ref_paths in paths.items() for path in ref_paths]
        )
    except GitError as exc:
        raise ValidationFailed("repository_url", f"cannot read the repository: {exc}") from exc
    report = CheckReport(refs_checked=len(refs))
    for ref in refs:
        problem = _version_problem(ref)
        if problem is not None:
            report.problems.append(Problem(ref.name, "invalid_version", problem))
            continue
        if target.monorepo_glob and not paths[ref]:
            report.problems.append(
                Problem(ref.name, "missing_composer_json", f"no file matches {target.monorepo_glob}")
            )
        for path in paths[ref]:
            # A monorepo root's children may have any name; anything else must name the package itself.
            expected = None if target.monorepo_glob else target.name
            for kind, message in manifest_problems(blobs.get((ref.commit, path)), expected):
                report.problems.append(Problem(ref.name, kind, f"{path}: {message}"))
    return report


def _version_problem(ref: Ref) -> str | None:
    if ref.kind == "tag":
        if tag_version(ref.name) is None:
            return f"tag '{ref.name}' is not a version Composer accepts"
        return None
    try:
        branch_version(ref.name)
    except ValueError:
        return f"branch '{ref.name}' cannot be a Composer version"
    return None


def manifest_problems(raw: bytes | None, expected_name: str | None) -> list[tuple[str, str]]:
    """(kind, message) for everything wrong with one composer.json; empty when it is fine."""
    if raw is None:
        return [("missing_composer_json", "composer.json is missing")]
    try:
        data: Any = json.loads(raw)
    except ValueError as exc:
        return [("invalid_json", f"not valid JSON: {exc}")]
    if not isinstance(data, dict):
        return [("invalid_json", "not a JSON object")]
    problems: list[tuple[str, str]] = []
    declared = data.get("name")
    if not isinstance(declared, str) or not validation.PACKAGE_NAME.match(declared.lower()):
        problems.append(("invalid_name", f"'name' is not a valid package name: {declared!r}"))
    elif expected_name is not None and declared.lower() != expected_name:
        problems.append(("name_mismatch", f"names '{declared}', expected '{expected_name}'"))
    for key in CONSTRAINT_FIELDS:
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, dict):
            problems.append(("invalid_field", f"'{key}' must be an object of package: constraint"))
            continue
        for package, constraint in value.items():
            if not isinstance(constraint, str):
                problems.append(("invalid_constraint", f"{key}.{package}: constraint must be a string"))
                continue
            try:
                parse_constraint(constraint)
            except InvalidConstraint as exc:
                problems.append(("invalid_constraint", f"{key}.{package}: '{constraint}' is invalid: {exc}"))
    for key in ("autoload", "autoload-dev", "extra"):
        if key in data and not isinstance(data[key], dict | list):
            problems.append(("invalid_field", f"'{key}' has the wrong type"))
    return problems
