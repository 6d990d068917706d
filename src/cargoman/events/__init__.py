"""Publish/subscribe for domain events (a sync finished, a customer downloaded, a status changed).

Services publish through ``ServiceContext.publish`` -- delivered only after their transaction
commits, so a subscriber never sees an event whose data was rolled back. The bus is an interface:
in-process now; a Redis implementation lets several server processes share events later.
"""

from cargoman.events.bus import Event, EventBus, EventHandler, InProcessEventBus, Topic

__all__ = ["Event", "EventBus", "EventHandler", "InProcessEventBus", "Topic"]
