"""The change counter is shared by processes through a memory-mapped file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cargoman.changes import ChangeCounter


def test_a_bump_in_another_process_is_seen_at_once(tmp_path: Path) -> None:
    path = tmp_path / "run" / "changes"
    counter = ChangeCounter(path)
    start = counter.current()
    code = (
        "from pathlib import Path; from cargoman.changes import ChangeCounter; "
        f"ChangeCounter(Path({str(path)!r})).bump()"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert counter.current() == start + 1
    assert counter.bump() == start + 2
    assert ChangeCounter(path).current() == start + 2
