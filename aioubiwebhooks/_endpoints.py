"""The seven endpoints as a Protocol: what the layers above a session need of it.

Bulk calls, waiting for tests and migration are typed against :class:`WebhooksAPI`
rather than :class:`~aioubiwebhooks.WebhooksSession`, so none of them imports the
session back, and anything with these seven coroutines (a session, a wrapper that
logs or caches, a stand-in in a user's tests) can drive them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from .models import (
    EventType,
    ObjectType,
    WebhookCreate,
    WebhookDetail,
    WebhookTestCreate,
    WebhookTestDetail,
    WebhookUpdate,
)

__all__ = ["WebhooksAPI"]


class WebhooksAPI(Protocol):
    """The seven endpoint coroutines of the UbiOps webhooks API, as a session offers them."""

    async def webhooks_create(
        self, project_name: str, data: WebhookCreate | Mapping[str, Any]
    ) -> WebhookDetail: ...

    async def webhooks_get(self, project_name: str, webhook_name: str) -> WebhookDetail: ...

    async def webhooks_list(
        self,
        project_name: str,
        labels: Mapping[str, str] | str | None = None,
        object_type: ObjectType | str | None = None,
        event: EventType | str | None = None,
    ) -> list[WebhookDetail]: ...

    async def webhooks_update(
        self, project_name: str, webhook_name: str, data: WebhookUpdate | Mapping[str, Any]
    ) -> WebhookDetail: ...

    async def webhooks_delete(self, project_name: str, webhook_name: str) -> None: ...

    async def webhook_tests_create(
        self, project_name: str, data: WebhookTestCreate | Mapping[str, Any]
    ) -> WebhookTestDetail: ...

    async def webhook_tests_get(self, project_name: str, test_id: str) -> WebhookTestDetail: ...
