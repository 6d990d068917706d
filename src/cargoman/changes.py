"""A change counter shared by every server process on this host.

Any write that can change what a Composer client sees (tokens, customers, grants, packages,
versions) bumps the counter after its commit. The Composer hot path keeps its caches only while
the counter is unchanged, so revocations and suspensions take effect at once in every process,
while an unchanged registry costs one memory read per request.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
from pathlib import Path

_FORMAT = "<Q"
_SIZE = struct.calcsize(_FORMAT)


class ChangeCounter:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < _SIZE:
                os.write(fd, b"\0" * _SIZE)
            self._map = mmap.mmap(fd, _SIZE)
        finally:
            os.close(fd)
        self._lock_path = path.with_suffix(".lock")

    def current(self) -> int:
        value: int = struct.unpack_from(_FORMAT, self._map, 0)[0]
        return value

    def bump(self) -> int:
        with open(self._lock_path, "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            value = self.current() + 1
            struct.pack_into(_FORMAT, self._map, 0, value)
            self._map.flush()
        return value
