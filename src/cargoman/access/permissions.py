"""What each management credential level may do. One place; routes name a permission, never a level."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    READ = "read"  # every GET of the management API
    WRITE = "write"  # every change: packages, customers, tokens, collections, tasks, settings
    MANAGE_TEAM = "manage_team"  # create, rotate, revoke CMA credentials


ADMIN_LEVELS = ("owner", "admin", "viewer")

LEVEL_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "owner": frozenset({Permission.READ, Permission.WRITE, Permission.MANAGE_TEAM}),
    "admin": frozenset({Permission.READ, Permission.WRITE}),
    "viewer": frozenset({Permission.READ}),
}


def level_allows(level: str, permission: Permission) -> bool:
    return permission in LEVEL_PERMISSIONS.get(level, frozenset())
