"""The JSON body a webhook delivery POSTs, built from a resolved delivery plan.

Keys follow the documented payload: ``deployment_*`` or ``pipeline_*`` ids and
names, ``event``, ``request_id``, ``status`` and ``text``; ``result`` is present
only when the webhook asks for it.
"""

from __future__ import annotations

from typing import Any, Final

from ..models import EventType, ObjectType
from ._store import DeliveryPlan

__all__ = ["SAMPLE_RESULT", "build_payload", "status_for_event"]

SAMPLE_RESULT: Final = {"message": "Webhook test result"}
"""What a test delivery carries as ``result`` when ``include_result`` is set."""

_STATUS: Final = {
    "started": "processing",
    "completed": "completed",
    "failed": "failed",
    "finished": "completed",
}


def status_for_event(event: str) -> str:
    """The request status an event reports (``finished`` reports a completed request)."""
    return _STATUS[EventType(event).value.rsplit("_", 1)[1]]


def build_payload(plan: DeliveryPlan, request_id: str) -> dict[str, Any]:
    prefix = plan.object_type.value
    label = "Deployment" if plan.object_type is ObjectType.DEPLOYMENT else "Pipeline"
    status = status_for_event(plan.event)
    verb = "started" if status == "processing" else "finished"
    payload: dict[str, Any] = {
        "event": plan.event,
        f"{prefix}_id": plan.object_id,
        f"{prefix}_name": plan.object_name,
        f"{prefix}_version_id": plan.version_id,
        f"{prefix}_version_name": plan.version_name,
        "request_id": request_id,
        "status": status,
        "text": (
            f"{label} request {request_id} {verb} for {prefix} {plan.object_name} "
            f"{plan.version_name} in project {plan.project}"
        ),
    }
    if plan.include_result:
        payload["result"] = dict(SAMPLE_RESULT) if status == "completed" else None
    return payload
