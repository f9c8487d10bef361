"""Events built by hand, for tests of what handles events without a receiver."""

from __future__ import annotations

from datetime import datetime, timezone

from aioubiwebhooks.events import DeploymentEvent, WebhookEvent
from aioubiwebhooks.models import EventType

__all__ = ["WHEN", "completed_event"]

WHEN = datetime(2024, 5, 1, tzinfo=timezone.utc)


def completed_event(
    request_id: str, kind: EventType = EventType.DEPLOYMENT_REQUEST_COMPLETED
) -> WebhookEvent:
    """A finished deployment request's delivery, told apart by its ``request_id``."""
    return DeploymentEvent(
        event=kind,
        object_id="d",
        object_name="dep",
        version_id="v",
        version_name="v1",
        request_id=request_id,
        status="completed",
        text="done",
        received_at=WHEN,
    )
