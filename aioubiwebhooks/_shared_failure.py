"""Does one item's failure mean every item of a bulk job would fail the same way?

Every item of a job goes to the same project with the same token, so a 401 (the token
is refused) or a 403 (it may not do this) is the answer every item would get. A 404
can mean the project does not exist, or only that one webhook, deployment or test
does not: one list call of the project tells the two apart, once per job.
"""

from __future__ import annotations

import anyio

from ._endpoints import WebhooksAPI
from .errors import AuthenticationError, NotFoundError, PermissionDeniedError, UbiOpsError

__all__ = ["ProjectCheck"]


class ProjectCheck:
    """The ``fails_all`` check of the bulk runner for one project of one API."""

    def __init__(self, api: WebhooksAPI, project: str) -> None:
        self._api = api
        self._project = project
        self._lock = anyio.Lock()
        self._checked = False
        self._missing: NotFoundError | None = None

    async def project_missing(self) -> NotFoundError | None:
        """The 404 of a list call if the project does not exist, else None (one call)."""
        async with self._lock:
            if not self._checked:
                try:  # a label filter keeps the answer small; only the status matters
                    await self._api.webhooks_list(self._project, labels={"_": "_"})
                except NotFoundError as missing:
                    self._missing = missing
                except UbiOpsError:
                    pass  # cannot tell: let each item speak for itself
                self._checked = True
        return self._missing

    async def __call__(self, error: UbiOpsError) -> bool:
        if isinstance(error, (AuthenticationError, PermissionDeniedError)):
            return True
        if isinstance(error, NotFoundError):
            return await self.project_missing() is not None
        return False
