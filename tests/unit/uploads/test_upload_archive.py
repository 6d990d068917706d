"""Upload archive checks and version resolution, on zips built in the test."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from cargoman.errors import ValidationFailed
from cargoman.uploads.archive import inspect_archive, repack_without_root
from cargoman.uploads.service import resolve_version

MANIFEST = json.dumps({"name": "acme/widget"})


def _zip(path: Path, entries: list[tuple[str | zipfile.ZipInfo, str]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return path


def _refused(path: Path, fragment: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        inspect_archive(path, "acme/widget", 10_000_000)
    assert caught.value.field == "file"
    assert fragment in caught.value.message


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("..\\evil.php", "outside"),
        ("src\\..\\..\\evil.php", "outside"),
        ("C:/Windows/evil.dll", "absolute"),
        ("\\\\server\\share", "absolute"),
    ],
)
def test_windows_style_escapes_are_refused(tmp_path: Path, name: str, fragment: str) -> None:
    _refused(_zip(tmp_path / "a.zip", [("composer.json", MANIFEST), (name, "x")]), fragment)


def test_duplicate_entries_are_refused(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = _zip(tmp_path / "a.zip", [("composer.json", MANIFEST), ("composer.json", MANIFEST)])
    _refused(path, "twice")


def test_encrypted_entries_are_refused(tmp_path: Path) -> None:
    # zipfile cannot write encrypted entries: set the "encrypted" flag bit in every header instead.
    raw = bytearray(_zip(tmp_path / "plain.zip", [("composer.json", MANIFEST)]).read_bytes())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = raw.find(signature)
        assert start >= 0
        raw[start + flag_offset] |= 0x1
    path = tmp_path / "encrypted.zip"
    path.write_bytes(bytes(raw))
    _refused(path, "encrypted")


def test_declared_uncompressed_size_is_bounded(tmp_path: Path) -> None:
    path = _zip(tmp_path / "a.zip", [("composer.json", MANIFEST), ("zeros.bin", "\0" * 100_000)])
    with pytest.raises(ValidationFailed, match="unpacks to more than"):
        inspect_archive(path, "acme/widget", 50_000)


def test_a_single_top_folder_is_found_and_removed_by_repacking(tmp_path: Path) -> None:
    source = _zip(
        tmp_path / "a.zip",
        [("widget-1.0/", ""), ("widget-1.0/composer.json", MANIFEST), ("widget-1.0/src/A.php", "<?php")],
    )
    inspected = inspect_archive(source, "acme/widget", 10_000_000)
    assert inspected.root == "widget-1.0/"
    assert inspected.composer == {"name": "acme/widget"}
    target = tmp_path / "b.zip"
    repack_without_root(source, inspected.root, target)
    with zipfile.ZipFile(target) as repacked:
        assert sorted(repacked.namelist()) == ["composer.json", "src/A.php"]
        assert repacked.read("src/A.php") == b"<?php"
    assert inspect_archive(target, "acme/widget", 10_000_000).root == ""


def test_composer_json_name_is_compared_case_insensitively(tmp_path: Path) -> None:
    path = _zip(tmp_path / "a.zip", [("composer.json", json.dumps({"name": "Acme/Widget"}))])
    assert inspect_archive(path, "acme/widget", 10_000_000).root == ""


@pytest.mark.parametrize(
    ("form", "declared", "expected"),
    [
        ("1.2.3", None, ("1.2.3", "1.2.3.0")),
        ("v2.0", None, ("2.0", "2.0.0.0")),
        (None, "3.0.0-beta.1", ("3.0.0-beta.1", "3.0.0.0-beta1")),
        ("  1.0.0 ", "v1.0.0", ("1.0.0", "1.0.0.0")),
        ("dev-feature", None, ("dev-feature", "dev-feature")),
    ],
)
def test_resolve_version(form: str | None, declared: str | None, expected: tuple[str, str]) -> None:
    assert resolve_version(form, declared) == expected


@pytest.mark.parametrize(
    ("form", "declared"), [(None, None), ("", "  "), ("nope nope", None), ("1.0", "1.1")]
)
def test_resolve_version_refusals_name_the_version_field(form: str | None, declared: str | None) -> None:
    with pytest.raises(ValidationFailed) as caught:
        resolve_version(form, declared)
    assert caught.value.field == "version"
