"""Mutation permissions. Every Mutation field declares one (a test walks the schema to check).

Usage: ``@strawberry.mutation(permission_classes=[CanWrite])``. The check runs before the
resolver, so a refused mutation never opens a write.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from cargoman.access.permissions import Permission, level_allows
from cargoman.errors import Forbidden


class _RequiresPermission(BasePermission):
    permission: Permission = Permission.WRITE
    message = "Your credential may not run this mutation"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        if not level_allows(principal.level, self.permission):
            # Raised (not returned False) so the error carries extensions.code FORBIDDEN.
            raise Forbidden(
                f"Your credential ({principal.level}) may not {self.permission.value.replace('_', ' ')}"
            )
        return True


class CanWrite(_RequiresPermission):
    permission = Permission.WRITE


class CanManageTeam(_RequiresPermission):
    permission = Permission.MANAGE_TEAM


MUTATION_PERMISSIONS: tuple[type[BasePermission], ...] = (CanWrite, CanManageTeam)
