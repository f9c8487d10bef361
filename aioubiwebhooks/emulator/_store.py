"""The emulator's state and the API's rules on it, with no HTTP in sight.

Projects hold deployments and pipelines (each with versions, the first being the
default), webhooks (unique names per project) and webhook tests. Every method is
synchronous, so a handler's read-check-write can never interleave with another's.
Bodies arrive checked by :mod:`._rules` (plain dicts, never the client's request
models). Webhooks are kept as :class:`~aioubiwebhooks.models.WebhookDetail`, a
response model that checks no field rule, with their real protected header values;
hiding them is the job of the wire shapes the routes answer with.

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
    EventType,
    ObjectType,
    TestStatus,
    WebhookDetail,
    WebhookHeader,
    WebhookTestDetail,
)
from ._problems import BadRequest, Conflict, NotFound, Unavailable
from ._rules import HeaderItem, Limits, ListFilter, event_object_type
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
    """A webhook test's outcome. What it delivers (URL, headers) lives only in its
    :class:`DeliveryPlan`, held by the delivery while it runs and then forgotten."""

    id: str
    project: str
    status: TestStatus
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

    Finished tests beyond ``max_tests`` are forgotten oldest first (a finished test keeps
    only its outcome), no more than ``max_pending`` tests may be pending at once, and a
    project holds at most ``limits.max_webhooks_per_project`` webhooks of bounded size,
    so memory stays bounded.
    """

    def __init__(
        self,
        *,
        max_tests: int = DEFAULT_MAX_TESTS,
        max_pending: int = DEFAULT_MAX_PENDING_TESTS,
        limits: Limits | None = None,
        clock: Callable[[], datetime] = _now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._projects: dict[str, ProjectRecord] = {}
        self._tests: OrderedDict[str, StoredTest] = OrderedDict()
        self._pending = 0
        self._max_tests = max_tests
        self._max_pending = max_pending
        self.limits = limits if limits is not None else Limits()
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

    def create_webhook(self, project_name: str, spec: Mapping[str, Any]) -> WebhookDetail:
        """Store a webhook from a create body checked by :func:`._rules.parse_create`."""
        project = self.project(project_name)
        obj = self._object(project, ObjectType(spec["object_type"]), spec["object_name"])
        if spec["version"] is not None:
            self._version(obj, spec["version"])
        if spec["name"] in project.webhooks:
            raise Conflict(f"A webhook with name {spec['name']!r} already exists in this project")
        most = self.limits.max_webhooks_per_project
        if len(project.webhooks) >= most:
            raise BadRequest(
                f"Project {project.name!r} already holds {most} webhooks "
                "(the emulator's limit, max_webhooks_per_project)"
            )
        now = self._clock()
        webhook = WebhookDetail(
            id=self._new_id(),
            name=spec["name"],
            url=spec["url"],
            object_type=obj.kind,
            object_name=obj.name,
            event=EventType(spec["event"]),
            version=spec["version"],
            headers=_stored_headers(spec["headers"]),
            description=spec["description"],
            labels=spec["labels"],
            timeout=spec["timeout"],
            enabled=spec["enabled"],
            retry=spec["retry"],
            include_result=spec["include_result"],
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

    def update_webhook(
        self, project_name: str, name: str, change: Mapping[str, Any]
    ) -> WebhookDetail:
        """Apply an update body checked by :func:`._rules.parse_update` (only its fields)."""
        project = self.project(project_name)
        current = self.get_webhook(project_name, name)
        fields = dict(change)
        new_name = fields.get("name", current.name)
        if new_name != current.name and new_name in project.webhooks:
            raise Conflict(f"A webhook with name {new_name!r} already exists in this project")
        if "event" in fields:
            kind = str(current.object_type)
            if event_object_type(fields["event"]) != kind:
                raise BadRequest(
                    f"event: must start with '{kind}_' to match object_type "
                    f"(got {fields['event']!r})"
                )
            fields["event"] = EventType(fields["event"])
        if "headers" in fields:
            fields["headers"] = _merge_headers(current.headers, fields["headers"])
            self.limits.check({"headers": fields["headers"]})
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

    def create_test(
        self, project_name: str, spec: Mapping[str, Any]
    ) -> tuple[StoredTest, DeliveryPlan]:
        """A pending test from a body checked by :func:`._rules.parse_test_create`, and
        the delivery it stands for."""
        project = self.project(project_name)
        obj = self._object(project, ObjectType(spec["object_type"]), spec["object_name"])
        version = self._version(obj, spec["version"])
        if self._pending >= self._max_pending:
            raise Unavailable(
                f"Too many webhook tests pending ({self._max_pending}); try again later"
            )
        test_id = self._new_id()
        plan = DeliveryPlan(
            test_id=test_id,
            project=project.name,
            url=spec["url"],
            headers=tuple((h.key, h.value or "") for h in spec["headers"]),
            timeout=spec["timeout"],
            retry=spec["retry"],
            include_result=spec["include_result"],
            event=spec["event"],
            object_type=obj.kind,
            object_id=obj.id,
            object_name=obj.name,
            version_id=obj.versions[version],
            version_name=version,
        )
        test = StoredTest(id=test_id, project=project.name, status=TestStatus.PENDING)
        self._tests[test_id] = test
        self._pending += 1
        self._forget_old_tests()
        return test, plan

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
    if where.object_type is not None and str(webhook.object_type) != where.object_type:
        return False
    if where.event is not None and str(webhook.event) != where.event:
        return False
    return all(webhook.labels.get(key) == value for key, value in where.labels)


def _stored_headers(sent: tuple[HeaderItem, ...]) -> tuple[WebhookHeader, ...]:
    return tuple(WebhookHeader(h.key, h.value, h.protected) for h in sent)


def _merge_headers(
    stored: tuple[WebhookHeader, ...], sent: tuple[HeaderItem, ...]
) -> tuple[WebhookHeader, ...]:
    """Headers of an update; one sent without a value keeps the stored header's value."""
    exact = {h.key: h.value for h in stored}
    folded = {h.key.lower(): h.value for h in stored}
    merged = []
    for index, header in enumerate(sent):
        value = header.value
        if value is None:
            value = exact.get(header.key, folded.get(header.key.lower()))
        if value is None:
            raise BadRequest(
                f"headers[{index}].value: is required, no stored value for header "
                f"{header.key!r} (got None)"
            )
        merged.append(WebhookHeader(header.key, value, header.protected))
    return tuple(merged)
