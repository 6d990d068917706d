"""Storage backend on a local directory."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from cargoman.storage.base import (
    DEFAULT_CHUNK_SIZE,
    StorageKeyNotFound,
    StoredObject,
    validate_key,
    validate_prefix,
)

# In-progress writes are named `.<name>.<random>.cargoman-tmp` next to their target: same directory, so
# os.replace is atomic, and recognisable, so listing and delete_prefix never touch another writer's file.
_TEMP_SUFFIX = ".cargoman-tmp"
_COPY_BUFFER = 1 << 20
_MISSING = (FileNotFoundError, NotADirectoryError, IsADirectoryError)


class FilesystemStorage:
    """Objects are files below ``root``; a key is their relative path.

    Writes go to a temp file in the target directory, are fsynced, then renamed over the target with
    os.replace, so readers (including a front server sending the file) see the old or the new content,
    never a partial file. Directories are created on demand and removed again once empty.

    Unlike object stores, a key cannot be both an object and a "folder" of others (``a`` and ``a/b``).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"FilesystemStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        validate_key(key)
        if key.endswith(_TEMP_SUFFIX):
            raise ValueError(f"storage keys must not end with {_TEMP_SUFFIX!r}")
        return self.root / key

    # -- writing ----------------------------------------------------------------------------------------

    def put_file(self, key: str, source: Path) -> None:
        target = self._path(key)
        with open(source, "rb") as source_file:
            self._write_atomically(target, lambda out: shutil.copyfileobj(source_file, out, _COPY_BUFFER))

    def put_bytes(self, key: str, data: bytes) -> None:
        target = self._path(key)
        self._write_atomically(target, lambda out: out.write(data))

    def _write_atomically(self, target: Path, fill: Callable[[IO[bytes]], object]) -> None:
        temp, fd = self._create_temp_file(target)
        try:
            with os.fdopen(fd, "wb") as out:
                fill(out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_directory(target.parent)  # make the rename itself survive a crash

    def _create_temp_file(self, target: Path) -> tuple[Path, int]:
        for attempt in range(3):
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(f".{target.name}.{secrets.token_hex(8)}{_TEMP_SUFFIX}")
            try:
                # 0o644 minus the process umask: the front server usually runs as another user.
                return temp, os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
            except FileNotFoundError:
                # A concurrent delete removed the directory we just created because it was empty.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # -- reading ----------------------------------------------------------------------------------------

    def get_bytes(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except _MISSING:
            raise StorageKeyNotFound(key) from None

    def open_stream(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        path = self._path(key)
        try:
            file = open(path, "rb")  # noqa: SIM115 -- closed by the generator below
        except _MISSING:
            raise StorageKeyNotFound(key) from None
        return _read_chunks(file, chunk_size)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        path = self._path(key)
        try:
            stat = path.stat()
        except _MISSING:
            raise StorageKeyNotFound(key) from None
        if not path.is_file():
            raise StorageKeyNotFound(key)
        return stat.st_size

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def presigned_url(self, key: str, expires_in: int) -> str | None:
        self._path(key)
        return None

    # -- deleting ---------------------------------------------------------------------------------------

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except _MISSING:
            return
        self._prune_empty_directories(path.parent)

    def delete_prefix(self, prefix: str) -> int:
        validate_prefix(prefix)
        # Only the deepest directory named in full by the prefix needs scanning: "dist/acme/li" can only
        # match entries of dist/acme/ whose names start with "li".
        directory, _, name_start = prefix.rpartition("/")
        base = self.root / directory if directory else self.root
        try:
            entries = [entry for entry in os.scandir(base) if entry.name.startswith(name_start)]
        except _MISSING:
            return 0
        deleted = 0
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                deleted += self._delete_tree(Path(entry.path))
            elif not _is_temp_file(entry.name) and _unlink(Path(entry.path)):
                deleted += 1
        self._prune_empty_directories(base)
        return deleted

    def list_objects(self, prefix: str) -> Iterator[StoredObject]:
        validate_prefix(prefix)
        directory, _, name_start = prefix.rpartition("/")
        base = self.root / directory if directory else self.root
        try:
            entries = [entry for entry in os.scandir(base) if entry.name.startswith(name_start)]
        except _MISSING:
            return
        for entry in entries:
            paths = (
                (Path(d, name) for d, _, names in os.walk(entry.path) for name in names)
                if entry.is_dir(follow_symlinks=False)
                else iter([Path(entry.path)])
            )
            for path in paths:
                if _is_temp_file(path.name):
                    continue
                try:
                    stat = path.stat()
                except _MISSING:
                    continue  # deleted meanwhile
                yield StoredObject(
                    key=path.relative_to(self.root).as_posix(),
                    size=stat.st_size,
                    modified_at=datetime.fromtimestamp(stat.st_mtime, UTC),
                )

    def _delete_tree(self, top: Path) -> int:
        deleted = 0
        for directory, _, files in os.walk(top, topdown=False):
            for name in files:
                if not _is_temp_file(name) and _unlink(Path(directory, name)):
                    deleted += 1
            # Left alone if not empty: a concurrent writer's temp file or new object.
            with contextlib.suppress(OSError):
                os.rmdir(directory)
        return deleted

    def _prune_empty_directories(self, directory: Path) -> None:
        while directory != self.root and directory.is_relative_to(self.root):
            try:
                directory.rmdir()
            except OSError:
                return
            directory = directory.parent


def _read_chunks(file: IO[bytes], chunk_size: int) -> Iterator[bytes]:
    with file:
        while chunk := file.read(chunk_size):
            yield chunk


def _is_temp_file(name: str) -> bool:
    return name.startswith(".") and name.endswith(_TEMP_SUFFIX)


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except _MISSING:
        return False
    return True


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
