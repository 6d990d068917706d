"""Zip archives (Composer dist files) of a commit, built by `git archive` so `export-ignore` applies."""

from __future__ import annotations

import hashlib
import os
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from cargoman.gitsync.errors import GitError
from cargoman.gitsync.mirror import Mirror, check_revision

_CHUNK_SIZE = 1 << 20
ArchiveKey = tuple[str, str | None]


@dataclass
class ArchiveResult:
    path: Path  # a temp file in dest_dir; the caller moves it into storage and deletes it
    size: int
    sha1: str
    sha256: str
    md5: str


class _HashingWriter:
    """Write-only file wrapper hashing everything that goes through it.

    Deliberately neither seekable nor tell()-able, so zipfile writes a streaming zip (data descriptors)
    instead of seeking back to patch headers, which would invalidate the running hashes.
    """

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file
        self.size = 0
        self._sha1 = hashlib.sha1()
        self._sha256 = hashlib.sha256()
        self._md5 = hashlib.md5()

    def write(self, data: bytes) -> int:
        self._file.write(data)
        self._sha1.update(data)
        self._sha256.update(data)
        self._md5.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        self._file.flush()

    def result(self, path: Path) -> ArchiveResult:
        return ArchiveResult(
            path=path,
            size=self.size,
            sha1=self._sha1.hexdigest(),
            sha256=self._sha256.hexdigest(),
            md5=self._md5.hexdigest(),
        )


def build_archive(mirror: Mirror, commit: str, dest_dir: Path, subdir: str | None = None) -> ArchiveResult:
    """Zip of ``commit`` (or of its folder ``subdir``, whose files then sit at the zip root).

    Streams ``git archive`` into a temp file in ``dest_dir`` while computing sha1, sha256 and md5 in the same
    pass. Raises GitError if git fails (unknown commit, missing subdir) and leaves no file behind.
    """
    check_revision(commit)
    normalized_subdir = _normalize_subdir(subdir) if subdir is not None else None
    dest_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".archive-", suffix=".zip", dir=dest_dir)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as file:
            writer = _HashingWriter(file)
            if normalized_subdir is None:
                _write_git_zip(mirror, commit, writer)
            else:
                _write_subdir_zip(mirror, commit, normalized_subdir, writer)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return writer.result(path)


def build_archives(
    mirror: Mirror, commits: list[tuple[str, str | None]], dest_dir: Path, workers: int = 2
) -> dict[ArchiveKey, ArchiveResult]:
    """Build many archives with ``workers`` concurrent ``git archive`` processes.

    Returns ``{(commit, subdir): result}``. If one fails, the remaining ones are cancelled, every file built
    so far is deleted and the first error is raised.
    """
    keys = list(dict.fromkeys(commits))
    if not keys:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="git-archive") as executor:
        futures: dict[Future[ArchiveResult], ArchiveKey] = {
            executor.submit(build_archive, mirror, commit, dest_dir, subdir): (commit, subdir)
            for commit, subdir in keys
        }
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((future for future in done if future.exception() is not None), None)
        if failed is None:
            return {futures[future]: future.result() for future in futures}
        for future in pending:
            future.cancel()
        wait(pending)
    _discard(future.result() for future in futures if _succeeded(future))
    error = failed.exception()
    assert error is not None
    raise error


def _succeeded(future: Future[ArchiveResult]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None


def _discard(results: Iterable[ArchiveResult]) -> None:
    for result in results:
        result.path.unlink(missing_ok=True)


def _normalize_subdir(subdir: str) -> str:
    cleaned = subdir.strip("/")
    segments = cleaned.split("/")
    if not cleaned or any(s in ("", ".", "..") for s in segments) or "\\" in cleaned or "\x00" in cleaned:
        raise ValueError(f"invalid archive subdirectory {subdir!r}")
    if cleaned.startswith("-") or cleaned.startswith(":"):  # option / pathspec magic
        raise ValueError(f"invalid archive subdirectory {subdir!r}")
    return cleaned


def _write_git_zip(mirror: Mirror, commit: str, writer: _HashingWriter) -> None:
    with mirror.git_process("archive", "--format=zip", commit) as process:
        while chunk := process.stdout.read(_CHUNK_SIZE):
            writer.write(chunk)
        process.check()


def _write_subdir_zip(mirror: Mirror, commit: str, subdir: str, writer: _HashingWriter) -> None:
    # `git archive <commit>:<subdir>` would put the files at the root but read .gitattributes from that
    # subtree only, losing root rules such as `/packages/foo/tests export-ignore`. Archiving the path from
    # the full commit honours every rule exactly as for the whole repository; the prefix is then stripped
    # while converting git's tar stream to a zip.
    prefix = subdir + "/"
    with mirror.git_process("archive", "--format=tar", commit, "--", f":(literal){subdir}") as process:
        try:
            with (
                zipfile.ZipFile(cast(IO[bytes], writer), "w", compression=zipfile.ZIP_DEFLATED) as zip_file,
                tarfile.open(fileobj=process.stdout, mode="r|") as tar,
            ):
                for member in tar:
                    if member.name.startswith(prefix) and member.name != prefix:
                        _copy_member(tar, member, member.name[len(prefix) :], zip_file)
            # Drain the end-of-archive padding so git never blocks on a full pipe.
            while process.stdout.read(_CHUNK_SIZE):
                pass
        except tarfile.TarError as exc:
            process.check()  # when git failed (unknown commit, no such subdir), its own message says why
            raise GitError(f"unreadable output from git archive: {exc}") from None
        process.check()


def _copy_member(tar: tarfile.TarFile, member: tarfile.TarInfo, name: str, zip_file: zipfile.ZipFile) -> None:
    date_time = time.gmtime(max(member.mtime, 315532800))[:6]  # zip dates start in 1980
    if member.isdir():
        info = zipfile.ZipInfo(name.rstrip("/") + "/", date_time)
        info.external_attr = (0o40000 | 0o755) << 16 | 0x10  # 0x10: MS-DOS directory flag
        zip_file.writestr(info, b"")
    elif member.issym():
        info = zipfile.ZipInfo(name, date_time)
        info.external_attr = (0o120000 | 0o777) << 16
        zip_file.writestr(info, member.linkname.encode("utf-8", "surrogateescape"), zipfile.ZIP_STORED)
    elif member.isfile():
        info = zipfile.ZipInfo(name, date_time)
        # git only tracks the executable bit; its tar output adds a umask of 002 we do not want.
        info.external_attr = (0o100000 | (0o755 if member.mode & 0o111 else 0o644)) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        info.file_size = member.size  # lets zipfile pick zip64 up front for huge files
        source = tar.extractfile(member)
        assert source is not None
        with source, zip_file.open(info, "w") as target:
            while chunk := source.read(_CHUNK_SIZE):
                target.write(chunk)
    # Other member types (git never emits them besides the pax header tarfile already consumed) are skipped.
