"""Composer v2 metadata documents: version entries, minification and the root packages.json."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

MINIFIED_FORMAT = "composer/2.0"
UNSET = "__unset"

# composer.json keys published in repository metadata; anything else stays private.
PUBLISHED_KEYS = (
    "description",
    "keywords",
    "homepage",
    "readme",
    "license",
    "authors",
    "type",
    "support",
    "funding",
    "autoload",
    "autoload-dev",
    "extra",
    "require",
    "require-dev",
    "suggest",
    "provide",
    "replace",
    "conflict",
    "bin",
    "include-path",
    "target-dir",
    "archive",
    "abandoned",
    "minimum-stability",
)


def manifest_from_composer_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """The subset of a composer.json that is published for one version."""
    return {key: data[key] for key in PUBLISHED_KEYS if key in data}


def version_entry(
    *,
    name: str,
    version: str,
    version_normalized: str,
    manifest: Mapping[str, Any],
    dist_url: str | None,
    reference: str,
    dist_sha1: str | None,
    released_at: str | None,
    default_branch: bool = False,
    deprecated: bool = False,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "version": version, "version_normalized": version_normalized}
    entry.update(manifest)
    if dist_url is not None:
        entry["dist"] = {"type": "zip", "url": dist_url, "reference": reference, "shasum": dist_sha1 or ""}
    if released_at is not None:
        entry["time"] = released_at
    if default_branch:
        entry["default-branch"] = True
    if deprecated:
        # Not a Composer key (clients ignore unknown keys); tooling reading the metadata can warn.
        entry["deprecated"] = True
    return entry


def minify(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Composer 2 minification: each entry keeps only keys that differ from the previous one."""
    minified: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    for entry in versions:
        if previous is None:
            minified.append(dict(entry))
        else:
            diff = {
                key: value for key, value in entry.items() if not _same(previous.get(key, _MISSING), value)
            }
            for key in previous:
                if key not in entry:
                    diff[key] = UNSET
            minified.append(diff)
        previous = entry
    return minified


def expand(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Inverse of `minify` (what the Composer client does), used to check our own output."""
    expanded: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for entry in versions:
        current = dict(current)
        for key, value in entry.items():
            if value == UNSET:
                current.pop(key, None)
            else:
                current[key] = value
        expanded.append(current)
    return expanded


def package_document(name: str, versions: list[dict[str, Any]]) -> dict[str, Any]:
    return {"packages": {name: minify(versions)}, "minified": MINIFIED_FORMAT}


def root_document(*, base_url: str, available_packages: Iterable[str]) -> dict[str, Any]:
    return {
        "packages": [],
        "metadata-url": f"{base_url}/p2/%package%.json",
        "available-packages": sorted(available_packages),
        "notify-batch": f"{base_url}/downloads",
    }


_MISSING = object()


def _same(left: Any, right: Any) -> bool:
    """JSON equality: unlike Python's ==, `1` and `true` (or `1.0`) are different values."""
    if left is _MISSING:
        return False
    return left is right or orjson.dumps(left) == orjson.dumps(right)
