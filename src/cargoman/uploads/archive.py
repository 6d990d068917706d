"""Checks on an uploaded package zip, and re-packing it so the package sits at the archive root.

No web or database code here: the service hands in a file and gets back the parsed composer.json,
or a ValidationFailed naming the `file` field with what is wrong with the archive.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from cargoman.errors import ValidationFailed

FIELD = "file"
COMPOSER_JSON = "composer.json"
# composer.json is read into memory; real ones are a few kilobytes.
MAX_COMPOSER_JSON_BYTES = 1024 * 1024
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class InspectedArchive:
    composer: dict[str, Any]
    # "" when composer.json is at the archive root, else the single top folder ("pkg-1.0/").
    root: str


@dataclass(frozen=True)
class Digests:
    sha1: str
    sha256: str
    md5: str
    size: int


def _reject(message: str) -> ValidationFailed:
    return ValidationFailed(FIELD, message)


def _check_entry(info: zipfile.ZipInfo) -> None:
    name = info.filename
    if not name or "\x00" in name:
        raise _reject("the archive has an entry with an empty or invalid name")
    if name.startswith(("/", "\\")) or _WINDOWS_DRIVE.match(name):
        raise _reject(f"the archive entry '{name}' has an absolute path")
    if ".." in re.split(r"[/\\]", name):
        raise _reject(f"the archive entry '{name}' points outside the archive ('..')")
    # Unix zips keep the file mode in the high 16 bits of the external attributes.
    if stat.S_ISLNK(info.external_attr >> 16):
        raise _reject(f"the archive entry '{name}' is a symbolic link")
    if info.flag_bits & 0x1:
        raise _reject(f"the archive entry '{name}' is encrypted")


def _package_root(names: set[str]) -> str:
    if COMPOSER_JSON in names:
        return ""
    tops = {name.split("/", 1)[0] for name in names}
    if len(tops) == 1:
        root = tops.pop() + "/"
        if all(name.startswith(root) for name in names) and root + COMPOSER_JSON in names:
            return root
    raise _reject("composer.json must be at the root of the archive or inside its single top folder")


def read_composer_json(raw: bytes, package_name: str) -> dict[str, Any]:
    """The parsed composer.json of an upload for ``package_name``; ValidationFailed otherwise."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _reject(f"composer.json is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise _reject("composer.json is not a JSON object")
    try:
        orjson.dumps(data)
    except TypeError as exc:
        raise _reject("composer.json holds a number outside the 64-bit range") from exc
    declared = data.get("name")
    if not isinstance(declared, str) or declared.strip().lower() != package_name:
        raise _reject(f"composer.json names '{declared}', expected '{package_name}'")
    for key in ("require", "require-dev", "autoload", "extra"):
        if key in data and not isinstance(data[key], dict | list):
            raise _reject(f"composer.json field '{key}' has the wrong type")
    version = data.get("version")
    if version is not None and not isinstance(version, str):
        raise _reject("composer.json field 'version' must be a string")
    return data


def inspect_archive(path: Path, package_name: str, max_uncompressed: int) -> InspectedArchive:
    """Validate the zip at ``path`` and return its composer.json and package root."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names: set[str] = set()
            total = 0
            for info in infos:
                _check_entry(info)
                if info.filename in names:
                    raise _reject(f"the archive holds '{info.filename}' twice")
                names.add(info.filename)
                total += info.file_size
            # Reading an entry never yields more than its declared size, so this bounds the work.
            if total > max_uncompressed:
                raise _reject(f"the archive unpacks to more than {max_uncompressed} bytes")
            root = _package_root(names)
            manifest_info = archive.getinfo(root + COMPOSER_JSON)
            if manifest_info.is_dir() or manifest_info.file_size > MAX_COMPOSER_JSON_BYTES:
                raise _reject("composer.json is not a regular file of at most 1 MiB")
            composer = read_composer_json(archive.read(manifest_info), package_name)
            broken = archive.testzip()
            if broken is not None:
                raise _reject(f"the archive entry '{broken}' is corrupt")
    except zipfile.BadZipFile as exc:
        raise _reject(f"is not a valid zip archive: {exc}") from exc
    except (OSError, EOFError, NotImplementedError, zipfile.LargeZipFile) as exc:
        raise _reject(f"cannot be read as a zip archive: {exc}") from exc
    return InspectedArchive(composer=composer, root=root)


def repack_without_root(source: Path, root: str, target: Path) -> None:
    """Write ``source`` to ``target`` with the top folder ``root`` removed from every entry name."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            name = info.filename[len(root) :]
            if not name:
                continue  # the top folder's own entry
            entry = zipfile.ZipInfo(name, date_time=info.date_time)
            entry.external_attr = info.external_attr
            entry.create_system = info.create_system
            entry.compress_type = zipfile.ZIP_STORED if info.is_dir() else zipfile.ZIP_DEFLATED
            entry.file_size = info.file_size
            if info.is_dir():
                dst.writestr(entry, b"")
                continue
            with src.open(info) as reader, dst.open(entry, "w") as writer:
                shutil.copyfileobj(reader, writer, _CHUNK)


def file_digests(path: Path) -> Digests:
    sha1, sha256, md5 = hashlib.sha1(), hashlib.sha256(), hashlib.md5()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha1.update(chunk)
            sha256.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return Digests(sha1=sha1.hexdigest(), sha256=sha256.hexdigest(), md5=md5.hexdigest(), size=size)
