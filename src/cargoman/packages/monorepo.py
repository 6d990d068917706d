"""Monorepos: one Git repository, one root package holding a glob, one child package per matching folder.

The scan reads every matching composer.json of every ref in one `git cat-file` run; which folder a
child lives in is decided per ref by the `name` its composer.json declares, so a package that moves
between folders keeps its versions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cargoman import validation
from cargoman.errors import ValidationFailed
from cargoman.gitsync.mirror import Mirror, Ref

MANIFEST = "composer.json"
MAX_GLOB_LENGTH = 255


def validate_glob(value: str, field: str = "monorepo") -> str:
    """A relative glob naming composer.json files below the repository root, e.g. packages/*/composer.json."""
    glob = value.strip()
    if not glob:
        raise ValidationFailed(field, "must not be empty")
    if len(glob) > MAX_GLOB_LENGTH:
        raise ValidationFailed(field, f"must be at most {MAX_GLOB_LENGTH} characters")
    if glob.startswith("/") or "\\" in glob or any(ord(c) < 0x20 for c in glob):
        raise ValidationFailed(field, f"'{value}' must be a relative path such as packages/*/composer.json")
    segments = glob.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise ValidationFailed(field, f"'{value}' has an empty, '.' or '..' path segment")
    if any(segment.startswith(("-", ":")) for segment in segments):
        # git would read them as options or pathspec magic
        raise ValidationFailed(field, f"'{value}' has a path segment starting with '-' or ':'")
    if segments[-1] != MANIFEST or len(segments) < 2:
        raise ValidationFailed(
            field, f"'{value}' must name composer.json files in sub-folders, such as packages/*/composer.json"
        )
    return glob


def manifest_path(subdir: str | None) -> str:
    return f"{subdir}/{MANIFEST}" if subdir else MANIFEST


def glob_escape(path: str) -> str:
    """``path`` as a glob that matches only itself (folder names may contain * ? or [)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in path)


@dataclass
class MonorepoScan:
    """What the glob finds at every ref."""

    # child name -> {ref: folder holding its composer.json at that ref}
    found: dict[str, dict[Ref, str]] = field(default_factory=dict)
    # (ref, folder) -> why the composer.json there names no package
    broken: dict[tuple[Ref, str], str] = field(default_factory=dict)
    # problems of the repository as a whole (two folders naming one package, ...)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    # every composer.json read, so the child syncs need not read them again
    blobs: dict[tuple[str, str], bytes | None] = field(default_factory=dict)
    # child name -> the folder it lives in now (default branch, else the newest commit naming it)
    current_folder: dict[str, str] = field(default_factory=dict)


def scan(
    mirror: Mirror, refs: list[Ref], glob: str, root_name: str, default_branch: str | None
) -> MonorepoScan:
    result = MonorepoScan()
    commits = list(dict.fromkeys(ref.commit for ref in refs))
    paths = {commit: mirror.list_paths(commit, glob) for commit in commits}
    result.blobs = mirror.read_blobs([(commit, path) for commit in commits for path in paths[commit]])
    for ref in refs:
        for path in sorted(paths[ref.commit]):
            folder = path[: -len(MANIFEST)].rstrip("/")
            if not folder:
                continue  # the repository's own composer.json (a `**` glob) is the root, not a child
            if any(segment.startswith(("-", ":")) for segment in folder.split("/")):
                # git archive cannot be given such a folder safely; skip it rather than fail the sync
                result.broken[(ref, folder)] = "folder names starting with '-' or ':' are not supported"
                continue
            name, problem = declared_name(result.blobs.get((ref.commit, path)))
            if name == root_name:
                name, problem = None, "composer.json names the monorepo root itself"
            if name is None:
                result.broken[(ref, folder)] = problem or "composer.json names no package"
                continue
            where = result.found.setdefault(name, {})
            if ref in where:
                result.warnings.append(
                    {
                        "ref": ref.name,
                        "kind": ref.kind,
                        "reference": ref.commit,
                        "message": f"{folder} and {where[ref]} both declare {name}; using {where[ref]}",
                    }
                )
                continue
            where[ref] = folder
    times = mirror.commit_time(commits) if result.found else {}
    for name, where in result.found.items():
        on_default = [f for ref, f in where.items() if ref.kind == "branch" and ref.name == default_branch]
        if on_default:
            result.current_folder[name] = on_default[0]
        else:
            newest = max(where, key=lambda ref: (ref.commit in times, times.get(ref.commit), ref.name))
            result.current_folder[name] = where[newest]
    return result


def declared_name(raw: bytes | None) -> tuple[str | None, str | None]:
    """(lower-cased package name, None) or (None, why this composer.json names no package)."""
    if raw is None:
        return None, "composer.json is missing"
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return None, f"composer.json is not valid JSON: {exc}"
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or not validation.PACKAGE_NAME.match(name.lower()):
        return None, f"composer.json declares no valid package name ({name!r})"
    return name.lower(), None
