"""Behaviour every Storage backend must share, plus the filesystem backend's own guarantees."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cargoman.storage import FilesystemStorage, Storage, StorageKeyNotFound, create_storage

BackendFactory = Callable[[pytest.FixtureRequest, Path], Storage]


def filesystem_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    return FilesystemStorage(tmp_path / "storage")


# An S3/R2 backend joins with e.g. `pytest.param(s3_backend, id="s3")`, its factory pulling a server fixture
# through request.getfixturevalue(...).
BACKENDS = [pytest.param(filesystem_backend, id="filesystem")]

INVALID_KEYS = ["", "/abs/key", "a/../b", "..", "../x", "a/./b", "a//b", "a/b/", "a\\b", "a/\nb", "./a"]


@pytest.fixture(params=BACKENDS)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    factory: BackendFactory = request.param
    return factory(request, tmp_path)


def write_source(tmp_path: Path, data: bytes, name: str = "source.bin") -> Path:
    source = tmp_path / "sources" / name
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(data)
    return source


class TestStorageContract:
    def test_implements_the_protocol(self, storage: Storage) -> None:
        assert isinstance(storage, Storage)

    def test_put_and_get_bytes(self, storage: Storage) -> None:
        storage.put_bytes("dist/acme/lib/1.0.0.zip", b"zip bytes")
        storage.put_bytes("empty", b"")
        storage.put_bytes("p2/acme/lib~dev.json", '{"é": 1}'.encode())

        assert storage.get_bytes("dist/acme/lib/1.0.0.zip") == b"zip bytes"
        assert storage.get_bytes("empty") == b""
        assert storage.get_bytes("p2/acme/lib~dev.json") == '{"é": 1}'.encode()

    def test_put_file_copies_and_leaves_the_source(self, storage: Storage, tmp_path: Path) -> None:
        data = os.urandom(300_000)
        source = write_source(tmp_path, data)

        storage.put_file("dist/a.zip", source)

        assert storage.get_bytes("dist/a.zip") == data
        assert source.read_bytes() == data

    def test_new_version_replaces_old_content_entirely(self, storage: Storage, tmp_path: Path) -> None:
        storage.put_file("dist/a.zip", write_source(tmp_path, b"x" * 100_000, "v1"))
        storage.put_file("dist/a.zip", write_source(tmp_path, b"short", "v2"))
        assert storage.get_bytes("dist/a.zip") == b"short"
        assert storage.size("dist/a.zip") == 5

        storage.put_bytes("dist/a.zip", b"third")
        assert storage.get_bytes("dist/a.zip") == b"third"

    def test_put_file_with_missing_source_stores_nothing(self, storage: Storage, tmp_path: Path) -> None:
        storage.put_bytes("kept", b"old")
        with pytest.raises(FileNotFoundError):
            storage.put_file("kept", tmp_path / "nope")
        with pytest.raises(FileNotFoundError):
            storage.put_file("new", tmp_path / "nope")
        assert storage.get_bytes("kept") == b"old"
        assert not storage.exists("new")

    def test_missing_keys(self, storage: Storage) -> None:
        with pytest.raises(StorageKeyNotFound):
            storage.get_bytes("missing/key")
        with pytest.raises(KeyError):  # StorageKeyNotFound is a KeyError
            storage.get_bytes("missing")
        with pytest.raises(StorageKeyNotFound):
            storage.size("missing")
        with pytest.raises(StorageKeyNotFound):
            storage.open_stream("missing")  # raised by the call, before any iteration
        assert not storage.exists("missing")

    def test_a_prefix_is_not_an_object(self, storage: Storage) -> None:
        storage.put_bytes("dir/file", b"x")
        assert not storage.exists("dir")
        with pytest.raises(StorageKeyNotFound):
            storage.get_bytes("dir")
        with pytest.raises(StorageKeyNotFound):
            storage.size("dir")
        storage.delete("dir")
        assert storage.exists("dir/file")

    def test_open_stream_yields_bounded_chunks(self, storage: Storage) -> None:
        data = os.urandom(200_001)
        storage.put_bytes("big", data)

        chunks = list(storage.open_stream("big", chunk_size=65536))
        assert b"".join(chunks) == data
        assert all(0 < len(chunk) <= 65536 for chunk in chunks) and len(chunks) == 4
        assert b"".join(storage.open_stream("big")) == data
        assert list(storage.open_stream("big", chunk_size=1_000_000)) == [data]

    def test_exists_and_size(self, storage: Storage) -> None:
        assert not storage.exists("a/b.zip")
        storage.put_bytes("a/b.zip", b"12345")
        assert storage.exists("a/b.zip")
        assert storage.size("a/b.zip") == 5

    def test_delete_is_idempotent(self, storage: Storage) -> None:
        storage.put_bytes("a/b/c.zip", b"x")
        storage.put_bytes("a/b/d.zip", b"y")
        storage.delete("a/b/c.zip")
        storage.delete("a/b/c.zip")
        storage.delete("never/existed")
        assert not storage.exists("a/b/c.zip")
        assert storage.get_bytes("a/b/d.zip") == b"y"

    def test_delete_prefix_is_a_string_prefix(self, storage: Storage) -> None:
        for key in ("dist/acme/lib/1.zip", "dist/acme/lib/2.zip", "dist/acme/lite/1.zip", "dist/acme/li"):
            storage.put_bytes(key, b"x")
        for key in ("dist/acme/other/1.zip", "dist/acmex/lib/1.zip", "p2/acme/lib.json"):
            storage.put_bytes(key, b"keep")

        assert storage.delete_prefix("dist/acme/li") == 4
        assert storage.delete_prefix("dist/acme/li") == 0
        assert storage.delete_prefix("nothing/here/") == 0
        for key in ("dist/acme/other/1.zip", "dist/acmex/lib/1.zip", "p2/acme/lib.json"):
            assert storage.get_bytes(key) == b"keep"

        assert storage.delete_prefix("dist/acme/") == 1  # a trailing slash selects that folder only
        assert storage.exists("dist/acmex/lib/1.zip")
        assert storage.delete_prefix("dist") == 1
        assert storage.exists("p2/acme/lib.json")

    def test_list_objects_is_a_string_prefix_with_sizes_and_times(self, storage: Storage) -> None:
        before = datetime.now(UTC) - timedelta(seconds=5)
        for key, data in (("dist/acme/lib/1.zip", b"one"), ("dist/acme/lite/1.zip", b"three"), ("p2/x", b"")):
            storage.put_bytes(key, data)
        listed = {obj.key: obj for obj in storage.list_objects("dist/acme/li")}
        assert set(listed) == {"dist/acme/lib/1.zip", "dist/acme/lite/1.zip"}
        assert listed["dist/acme/lite/1.zip"].size == 5
        assert all(obj.modified_at >= before for obj in listed.values())
        assert {obj.key for obj in storage.list_objects("dist/acme/lib/")} == {"dist/acme/lib/1.zip"}
        assert list(storage.list_objects("nothing/")) == []
        with pytest.raises(ValueError):
            list(storage.list_objects(""))

    @pytest.mark.parametrize("prefix", ["", "/", "/abs", "a/../b", "a//", "a\\b"])
    def test_delete_prefix_rejects_invalid_prefixes(self, storage: Storage, prefix: str) -> None:
        storage.put_bytes("a/b", b"x")
        with pytest.raises(ValueError):
            storage.delete_prefix(prefix)
        assert storage.exists("a/b")

    def test_local_path_and_presigned_url(self, storage: Storage) -> None:
        storage.put_bytes("dist/a.zip", b"content")
        local = storage.local_path("dist/a.zip")
        if local is not None:
            assert local.read_bytes() == b"content"
        url = storage.presigned_url("dist/a.zip", expires_in=300)
        assert url is None or url.startswith(("https://", "http://"))

    @pytest.mark.parametrize("key", INVALID_KEYS)
    def test_invalid_keys_are_rejected_everywhere(self, storage: Storage, tmp_path: Path, key: str) -> None:
        source = write_source(tmp_path, b"x")
        calls: list[Callable[[], object]] = [
            lambda: storage.put_file(key, source),
            lambda: storage.put_bytes(key, b"x"),
            lambda: storage.get_bytes(key),
            lambda: storage.open_stream(key),
            lambda: storage.exists(key),
            lambda: storage.size(key),
            lambda: storage.delete(key),
            lambda: storage.local_path(key),
            lambda: storage.presigned_url(key, 60),
        ]
        for call in calls:
            with pytest.raises(ValueError):
                call()

    def test_readers_never_see_a_partial_object(self, storage: Storage) -> None:
        versions = [bytes([n]) * 512_000 for n in (1, 2)]
        storage.put_bytes("hot.zip", versions[0])
        stop = threading.Event()

        def keep_writing() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                storage.put_bytes("hot.zip", versions[n % 2])

        writer = threading.Thread(target=keep_writing)
        writer.start()
        try:
            for _ in range(100):
                assert storage.get_bytes("hot.zip") in versions
        finally:
            stop.set()
            writer.join()


class TestFilesystemStorage:
    def test_layout_permissions_and_cleanup(self, tmp_path: Path) -> None:
        storage = FilesystemStorage(tmp_path / "root")
        previous_umask = os.umask(0o022)
        try:
            storage.put_file("dist/acme/lib/1.0.0.zip", write_source(tmp_path, b"zip"))
            storage.put_bytes("dist/acme/lib/2.0.0.zip", b"zip2")
        finally:
            os.umask(previous_umask)

        path = tmp_path / "root" / "dist/acme/lib/1.0.0.zip"
        assert storage.local_path("dist/acme/lib/1.0.0.zip") == path
        assert path.read_bytes() == b"zip"
        assert stat.S_IMODE(path.stat().st_mode) == 0o644  # a front server may run as another user
        assert sorted(p.name for p in path.parent.iterdir()) == ["1.0.0.zip", "2.0.0.zip"]  # no temp files
        assert storage.presigned_url("dist/acme/lib/1.0.0.zip", 60) is None

        storage.delete("dist/acme/lib/1.0.0.zip")
        storage.delete("dist/acme/lib/2.0.0.zip")
        assert list((tmp_path / "root").iterdir()) == []  # emptied folders are removed

        storage.put_bytes("p2/a/b.json", b"{}")
        assert storage.delete_prefix("p2/") == 1
        assert list((tmp_path / "root").iterdir()) == []

    def test_delete_prefix_ignores_in_progress_writes(self, tmp_path: Path) -> None:
        storage = FilesystemStorage(tmp_path / "root")
        storage.put_bytes("dist/a.zip", b"x")
        in_progress = tmp_path / "root" / "dist" / ".b.zip.0123456789abcdef.cargoman-tmp"
        in_progress.write_bytes(b"partial")

        assert storage.delete_prefix("dist/") == 1
        assert in_progress.exists()
        with pytest.raises(ValueError):
            storage.put_bytes("dist/.b.zip.0123456789abcdef.cargoman-tmp", b"x")

    def test_failed_write_leaves_no_temp_file(self, tmp_path: Path) -> None:
        storage = FilesystemStorage(tmp_path / "root")
        storage.put_bytes("a/b", b"x")
        with pytest.raises(OSError):
            storage.put_bytes("a", b"x")  # "a" is a folder here
        assert sorted(p.name for p in (tmp_path / "root" / "a").iterdir()) == ["b"]


def test_create_storage(tmp_path: Path) -> None:
    storage = create_storage("filesystem", tmp_path / "store")
    assert isinstance(storage, FilesystemStorage) and storage.root == tmp_path / "store"
    with pytest.raises(ValueError, match="unknown storage backend"):
        create_storage("s3", tmp_path / "store", bucket="b")
    with pytest.raises(ValueError, match="no options"):
        create_storage("filesystem", tmp_path / "store", bucket="b")
