"""The process-wide parts every entry point (server, worker, CLI) shares."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from cargoman.changes import ChangeCounter
from cargoman.config import Settings
from cargoman.db.models import DEFAULT_TENANT_ID, AuditEntry
from cargoman.db.session import create_db_engine, create_session_factory
from cargoman.events import Event, EventBus, InProcessEventBus, Topic
from cargoman.security import AdminTokenVerifier
from cargoman.storage import Storage, create_storage


@dataclass
class ServiceContext:
    """What a service call needs: the session, whose data it is, and who is acting."""

    session: Session
    tenant_id: str
    actor: str
    settings: Settings
    actor_kind: str = "system"  # root | cma | customer | cli | system
    ip: str | None = None
    on_change: Callable[[], None] = lambda: None
    on_task_queued: Callable[[], None] = lambda: None
    on_event: Callable[[Event], None] = lambda event: None
    _after_commit: list[Callable[[], None]] = field(default_factory=list)

    def changed(self) -> None:
        """Mark that Composer-visible data changes with this unit of work."""
        self.after_commit(self.on_change)

    def publish(self, topic: Topic, payload: dict[str, Any]) -> None:
        """Publish an event once this unit of work commits (never for a rolled-back change)."""
        event = Event(topic=topic, tenant_id=self.tenant_id, payload=payload)
        self.after_commit(lambda: self.on_event(event))

    def task_queued(self) -> None:
        self.after_commit(self.on_task_queued)

    def audit(
        self,
        action: str,
        resource_type: str,
        resource_id: str | None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        """Record who changed what, in the same transaction as the change itself."""
        self.session.add(
            AuditEntry(
                tenant_id=self.tenant_id,
                actor=self.actor,
                actor_kind=self.actor_kind,
                action=action,
                resource_type=resource_type,
                resource_id=resource_id,
                before=before,
                after=after,
                ip=self.ip,
            )
        )

    def after_commit_mark(self) -> int:
        """A bookmark for ``discard_after_commit``: how much after-commit work is queued now."""
        return len(self._after_commit)

    def discard_after_commit(self, mark: int) -> None:
        """Drop the after-commit work queued since ``mark`` (its savepoint was rolled back)."""
        del self._after_commit[mark:]

    def after_commit(self, callback: Callable[[], None]) -> None:
        if callback not in self._after_commit:
            self._after_commit.append(callback)


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = create_db_engine(settings.database_url, settings.database_max_connections)
        self.session_factory = create_session_factory(self.engine)
        self.storage: Storage = create_storage(settings.storage_backend, settings.storage_path)
        self.changes = ChangeCounter(settings.runtime_path / "changes")
        self.admin_tokens = AdminTokenVerifier(settings.admin_token, settings.admin_token_hash)
        # Set when a task is queued in this process, so in-process workers start at once.
        self.task_wakeup = threading.Event()
        self.events: EventBus = InProcessEventBus()

    def notify_changed(self) -> None:
        self.changes.bump()

    def notify_task_queued(self) -> None:
        self.task_wakeup.set()

    @contextmanager
    def unit_of_work(
        self,
        actor: str,
        tenant_id: str = DEFAULT_TENANT_ID,
        *,
        actor_kind: str = "system",
        ip: str | None = None,
    ) -> Iterator[ServiceContext]:
        """Commit on success, roll back on error, then run the after-commit callbacks."""
        session = self.session_factory()
        ctx = ServiceContext(
            session=session,
            tenant_id=tenant_id,
            actor=actor,
            settings=self.settings,
            on_change=self.notify_changed,
            on_task_queued=self.notify_task_queued,
            on_event=self.events.publish,
            actor_kind=actor_kind,
            ip=ip,
        )
        try:
            yield ctx
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        for callback in ctx._after_commit:
            callback()

    def dispose(self) -> None:
        self.engine.dispose()
