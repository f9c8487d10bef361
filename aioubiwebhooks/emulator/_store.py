"""The emulator's state and the API's rules on it, with no HTTP in sight.

Projects hold deployments and pipelines (each with versions, the first being the
default), webhooks (unique names per project) and webhook tests. Every method is
synchronous, so a handler's read-check-write can never interleave with another's.
Webhooks are kept as :class:`~aioubiwebhooks.models.WebhookDetail` with their real
protected header values; hiding them is the job of the wire shapes the routes answer with.

Identifiers of deployments, pipelines and versions are UUIDs derived from their
names, so they are the same after a restart or a reset.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, Final

import attrs

from ..models import (
    UNSET,
    ObjectType,
    TestStatus,
    WebhookCreate,
    WebhookDetail,
    WebhookHeader,
    WebhookTestCreate,
    WebhookTestDetail,
    WebhookUpdate,
)
from ._problems import BadRequest, Conflict, NotFound, Unavailable
from ._rules import ListFilter
from ._seed import Seed

__all__ = [
    "DeliveryPlan",
    "ObjectRecord",
    "ProjectRecord",
    "Store",
    "StoredTest",
    "stable_id",
]

_NAMESPACE: Final = uuid.UUID("6f1c2a4e-0b7d-4c59-9d8e-5a3b1e0c7f21")
DEFAULT_MAX_TESTS: Final = 10_000
DEFAULT_MAX_PENDING_TESTS: Final = 1_000


def stable_id(*parts: str) -> str:
    """A UUID that depends only on ``parts``: the same object gets the same id every run."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def _now() -> datetime:
    return datetime.now(timezone.utc)


@attrs.frozen
class ObjectRecord:
    """A deployment or pipeline: its id and its versions by name (first = default)."""

    kind: ObjectType
    name: str
    id: str
    versions: Mapping[str, str]

    @property
    def default_version(self) -> str:
        return next(iter(self.versions))


@attrs.define
class ProjectRecord:
    """One project's objects, webhooks (in creation order) and nothing else."""

    name: str
    id: str
    objects: dict[tuple[ObjectType, str], ObjectRecord] = attrs.field(factory=dict)
    webhooks: dict[str, WebhookDetail] = attrs.field(factory=dict)


@attrs.define
class StoredTest:
    """A webhook test: where it stands and the delivery it stands for."""

    id: str
    project: str
    status: TestStatus
    plan: DeliveryPlan
    error_message: str | None = None
    created: datetime = attrs.field(factory=_now)

    def detail(self) -> WebhookTestDetail:
        return WebhookTestDetail(id=self.id, status=self.status, error_message=self.error_message)


@attrs.frozen
class DeliveryPlan:
    """Everything a delivery needs, resolved when the test is created."""

    test_id: str
    project: str
    url: str
    headers: tuple[tuple[str, str], ...]
    timeout: int
    retry: bool
    include_result: bool
    event: str
    object_type: ObjectType
    object_id: str
    object_name: str
    version_id: str
    version_name: str


class Store:
    """Projects, webhooks and tests. Raises :mod:`._problems` errors the API answers with.

    Finished tests beyond ``max_tests`` are forgotten oldest first, and no more than
    ``max_pending`` tests may be pending at once, so memory stays bounded.
    """

    def __init__(
        self,
        *,
        max_tests: int = DEFAULT_MAX_TESTS,
        max_pending: int = DEFAULT_MAX_PENDING_TESTS,
        clock: Callable[[], datetime] = _now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._projects: dict[str, ProjectRecord] = {}
        self._tests: OrderedDict[str, StoredTest] = OrderedDict()
        self._pending = 0
        self._max_tests = max_tests
        self._max_pending = max_pending
        self._clock = clock
        self._new_id = new_id

    # --- projects and their objects ---------------------------------------------------------

    def add_project(
        self,
        name: str,
        *,
        deployments: Mapping[str, Iterable[str]] | None = None,
        pipelines: Mapping[str, Iterable[str]] | None = None,
    ) -> ProjectRecord:
        """Create the project if needed and add (or replace) the given objects."""
        project = self._projects.get(name)
        if project is None:
            project = ProjectRecord(name=name, id=stable_id("project", name))
            self._projects[name] = project
        for kind, objects in (
            (ObjectType.DEPLOYMENT, deployments or {}),
            (ObjectType.PIPELINE, pipelines or {}),
        ):
            for object_name, version_names in objects.items():
                versions = {
                    v: stable_id(name, kind.value, object_name, v) for v in list(version_names)
                }
                if not versions:
                    raise ValueError(f"{kind.value} {object_name!r} needs at least one version")
                project.objects[(kind, object_name)] = ObjectRecord(
                    kind=kind,
                    name=object_name,
                    id=stable_id(name, kind.value, object_name),
                    versions=versions,
                )
        return project

    def apply_seed(self, seed: Seed) -> None:
        """Add every project and object of ``seed`` (existing webhooks are kept)."""
        for name, project in seed.projects.items():
            self.add_project(name, deployments=project.deployments, pipelines=project.pipelines)

    def project(self, name: str) -> ProjectRecord:
        try:
            return self._projects[name]
        except KeyError:
            raise NotFound(f"Project {name!r} not found") from None

    def projects(self) -> list[ProjectRecord]:
        return list(self._projects.values())

    def _object(self, project: ProjectRecord, kind: ObjectType, name: str) -> ObjectRecord:
        try:
            return project.objects[(kind, name)]
        except KeyError:
            label = "Deployment" if kind is ObjectType.DEPLOYMENT else "Pipeline"
            raise NotFound(f"{label} {name!r} not found in project {project.name!r}") from None

    def _version(self, obj: ObjectRecord, version: str | None) -> str:
        name = obj.default_version if version is None else version
        if name not in obj.versions:
            raise NotFound(f"Version {name!r} of {obj.kind.value} {obj.name!r} not found")
        return name

    # --- webhooks ---------------------------------------------------------------------------

    def create_webhook(self, project_name: str, spec: WebhookCreate) -> WebhookDetail:
        project = self.project(project_name)
        obj = self._object(project, spec.object_type, spec.object_name)
        if spec.version is not None:
            self._version(obj, spec.version)
        if spec.name in project.webhooks:
            raise Conflict(f"A webhook with name {spec.name!r} already exists in this project")
        now = self._clock()
        webhook = WebhookDetail(
            id=self._new_id(),
            name=spec.name,
            url=spec.url,
            object_type=spec.object_type,
            object_name=spec.object_name,
            event=spec.event,
            version=spec.version,
            headers=spec.headers,
            description=spec.description or "",
            labels=dict(spec.labels),
            timeout=spec.timeout,
            enabled=spec.enabled,
            retry=spec.retry,
            include_result=spec.include_result,
            creation_date=now,
            last_updated=now,
        )
        project.webhooks[webhook.name] = webhook
        return webhook

    def get_webhook(self, project_name: str, name: str) -> WebhookDetail:
        project = self.project(project_name)
        try:
            return project.webhooks[name]
        except KeyError:
            raise NotFound(f"Webhook {name!r} not found in project {project_name!r}") from None

    def list_webhooks(
        self, project_name: str, where: ListFilter | None = None
    ) -> list[WebhookDetail]:
        webhooks = list(self.project(project_name).webhooks.values())
        if where is None:
            return webhooks
        return [w for w in webhooks if _matches(w, where)]

    def update_webhook(self, project_name: str, name: str, change: WebhookUpdate) -> WebhookDetail:
        project = self.project(project_name)
        current = self.get_webhook(project_name, name)
        fields: dict[str, Any] = {}
        if change.name is not UNSET and change.name != current.name:
            if change.name in project.webhooks:
                raise Conflict(
                    f"A webhook with name {change.name!r} already exists in this project"
                )
            fields["name"] = change.name
        if change.event is not UNSET:
            if change.event.object_type is not current.object_type:
                raise BadRequest(
                    f"event: must start with '{current.object_type.value}_' to match "
                    f"object_type (got {change.event.value!r})"
                )
            fields["event"] = change.event
        if change.headers is not UNSET:
            fields["headers"] = _merge_headers(current.headers, change.headers)
        if change.description is not UNSET:
            fields["description"] = change.description or ""
        if change.labels is not UNSET:
            fields["labels"] = dict(change.labels)
        for simple in ("url", "timeout", "enabled", "retry", "include_result"):
            value = getattr(change, simple)
            if value is not UNSET:
                fields[simple] = value
        updated = attrs.evolve(current, **fields, last_updated=self._clock())
        # Keep the creation order: replace in place when the name is unchanged.
        if updated.name == current.name:
            project.webhooks[current.name] = updated
        else:
            project.webhooks = {
                (updated.name if key == current.name else key): (
                    updated if key == current.name else value
                )
                for key, value in project.webhooks.items()
            }
        return updated

    def delete_webhook(self, project_name: str, name: str) -> None:
        self.get_webhook(project_name, name)
        del self.project(project_name).webhooks[name]

    # --- webhook tests ----------------------------------------------------------------------

    def create_test(self, project_name: str, spec: WebhookTestCreate) -> StoredTest:
        project = self.project(project_name)
        obj = self._object(project, spec.object_type, spec.object_name)
        version = self._version(obj, spec.version)
        if self._pending >= self._max_pending:
            raise Unavailable(
                f"Too many webhook tests pending ({self._max_pending}); try again later"
            )
        test_id = self._new_id()
        plan = DeliveryPlan(
            test_id=test_id,
            project=project.name,
            url=spec.url,
            headers=tuple((h.key, h.value or "") for h in spec.headers),
            timeout=spec.timeout,
            retry=spec.retry,
            include_result=spec.include_result,
            event=spec.event.value,
            object_type=obj.kind,
            object_id=obj.id,
            object_name=obj.name,
            version_id=obj.versions[version],
            version_name=version,
        )
        test = StoredTest(id=test_id, project=project.name, status=TestStatus.PENDING, plan=plan)
        self._tests[test_id] = test
        self._pending += 1
        self._forget_old_tests()
        return test

    def get_test(self, project_name: str, test_id: str) -> StoredTest:
        self.project(project_name)
        test = self._tests.get(test_id)
        if test is None or test.project != project_name:
            raise NotFound(f"Webhook test {test_id!r} not found in project {project_name!r}")
        return test

    def finish_test(self, test_id: str, error_message: str | None) -> None:
        """Mark a pending test completed (no error) or failed; unknown ids are ignored."""
        test = self._tests.get(test_id)
        if test is None or test.status is not TestStatus.PENDING:
            return
        test.status = TestStatus.FAILED if error_message else TestStatus.COMPLETED
        test.error_message = error_message
        self._pending -= 1

    def tests(self, project_name: str | None = None) -> list[StoredTest]:
        return [t for t in self._tests.values() if project_name in (None, t.project)]

    @property
    def pending_tests(self) -> int:
        return self._pending

    def _forget_old_tests(self) -> None:
        if len(self._tests) <= self._max_tests:
            return
        for test_id in [t.id for t in self._tests.values() if t.status is not TestStatus.PENDING]:
            if len(self._tests) <= self._max_tests:
                break
            del self._tests[test_id]

    # --- resets -----------------------------------------------------------------------------

    def clear(self, *, projects: bool = False) -> None:
        """Forget webhooks and tests; with ``projects``, forget the projects too."""
        self._tests.clear()
        self._pending = 0
        if projects:
            self._projects.clear()
        for project in self._projects.values():
            project.webhooks.clear()


def _matches(webhook: WebhookDetail, where: ListFilter) -> bool:
    if where.object_type is not None and webhook.object_type is not where.object_type:
        return False
    if where.event is not None and webhook.event is not where.event:
        return False
    return all(webhook.labels.get(key) == value for key, value in where.labels)


def _merge_headers(
    stored: tuple[WebhookHeader, ...], sent: tuple[WebhookHeader, ...]
) -> tuple[WebhookHeader, ...]:
    """Headers of an update; one sent without a value keeps the stored header's value."""
    exact = {h.key: h.value for h in stored}
    folded = {h.key.lower(): h.value for h in stored}
    merged = []
    for index, header in enumerate(sent):
        if header.value is not None:
            merged.append(header)
            continue
        kept = exact.get(header.key, folded.get(header.key.lower()))
        if kept is None:
            raise BadRequest(
                f"headers[{index}].value: is required, no stored value for header "
                f"{header.key!r} (got None)"
            )
        merged.append(attrs.evolve(header, value=kept))
    return tuple(merged)
