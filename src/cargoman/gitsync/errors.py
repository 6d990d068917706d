"""Errors raised by the git layer, scrubbed of credentials before anyone can log them."""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "***"

# `scheme://userinfo@` -- git and curl echo the remote URL back in their messages, and a URL pasted by a
# user may carry `user:token@`.
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)[^/@\s'\"]+@")


def scrub_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with URL user info and every non-empty ``secrets`` value replaced by ``***``."""
    # Longest first, so a secret that contains another one is not left half-redacted.
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)


class GitError(Exception):
    """A git command failed. The message and ``stderr`` never contain credentials."""

    def __init__(
        self,
        message: str,
        *,
        secrets: Iterable[str] = (),
        returncode: int | None = None,
        stderr: str = "",
    ) -> None:
        secrets = tuple(secrets)
        self.returncode = returncode
        self.stderr = scrub_secrets(stderr, secrets)
        super().__init__(scrub_secrets(message, secrets))

    @property
    def message(self) -> str:
        return str(self.args[0])
