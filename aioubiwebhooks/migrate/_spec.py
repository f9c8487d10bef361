"""Webhook specs: checked as written, then with their protected values resolved.

A :class:`WebhookSpec` is a spec as a file (or a caller) writes it: every field obeys
the rules of :class:`~aioubiwebhooks.WebhookCreate`, and a protected header's value may
be unknown (``None``, as an export writes it) or hold ``${VAR}`` references. Resolving
it gives a :class:`DesiredWebhook`, whose every protected value is either a string or
an explicit :class:`~aioubiwebhooks.migrate.UnknownValue`: nothing stands in for a
secret, so nothing can be sent by mistake.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

from .._checks import check_each
from ..errors import ValidationError
from ..models import WebhookCreate, WebhookHeader
from ._values import ProtectedValues, UnknownValue, resolve

__all__ = [
    "DesiredHeader",
    "DesiredWebhook",
    "WebhookSpec",
    "desired_webhooks",
    "parse_spec",
    "parse_specs",
    "resolve_spec",
]


@attrs.frozen
class WebhookSpec:
    """A checked spec as written: ``fields`` holds every field but the headers (checked
    by WebhookCreate), ``headers`` the headers, a protected one possibly without a value
    (unknown) or with ``${VAR}`` references still in it."""

    fields: WebhookCreate
    headers: tuple[WebhookHeader, ...] = ()

    @property
    def name(self) -> str:
        return self.fields.name


def _headers(raw: object) -> tuple[WebhookHeader, ...]:
    """A spec's headers; only a protected one may lack its value. Every bad header is
    reported."""
    if isinstance(raw, (str, bytes, Mapping)) or not isinstance(raw, Iterable):
        raise ValidationError("headers", "must be a list of headers", raw)
    headers = []
    problems = []
    for index, item in enumerate(raw):
        try:
            header = item if isinstance(item, WebhookHeader) else WebhookHeader.from_dict(item)
        except ValidationError as error:
            problems.append(error.nested(f"headers[{index}]"))
            continue
        if header.value is None and not header.protected:
            problems.append(
                ValidationError(
                    f"headers[{index}].value",
                    "is required (only a protected header's value may be left unknown, as null)",
                )
            )
        headers.append(header)
    if problems:
        raise ValidationError.combined(problems, f"{len(problems)} headers are invalid")
    return tuple(headers)


def parse_spec(data: object) -> WebhookSpec:
    """One spec (a mapping, a WebhookCreate or a WebhookSpec) checked; a ValidationError
    names the field within the spec, or has an empty field when ``data`` is no mapping.
    A bad field and bad headers are reported together."""
    if isinstance(data, WebhookSpec):
        return data
    if isinstance(data, WebhookCreate):
        return WebhookSpec(attrs.evolve(data, headers=()), data.headers)
    if not isinstance(data, Mapping):
        raise ValidationError("", "must be a mapping of field names to values", data)
    fields = dict(data)
    problems: list[ValidationError] = []
    try:
        headers = _headers(fields.pop("headers", ()))
    except ValidationError as error:
        problems.extend(error.problems)
    try:
        checked = WebhookCreate.from_dict(fields)
    except ValidationError as error:
        problems.insert(0, error)
    if problems:
        raise ValidationError.combined(problems, f"{len(problems)} fields are invalid")
    return WebhookSpec(checked, headers)


def parse_specs(items: Iterable[object], *, source: str = "specs") -> list[WebhookSpec]:
    """Every spec checked, and names unique, before anything else happens.

    Every problem is reported, not only the first: one ValidationError whose
    ``problems`` name each spec as ``source[index]`` with its webhook name and the field
    (``hooks.yaml[3].timeout``).
    """
    what = "specs" if source == "specs" else f"specs in {source}"
    return check_each(
        items, parse_spec, field=source, what=what, unique_name=lambda spec: spec.name
    )


@attrs.frozen(repr=False)
class DesiredHeader:
    """A header with its value resolved: a string, or (protected only) an UnknownValue."""

    key: str
    value: str | UnknownValue
    protected: bool = False

    def __repr__(self) -> str:
        shown = "<hidden>" if self.protected and isinstance(self.value, str) else repr(self.value)
        return f"DesiredHeader(key={self.key!r}, value={shown}, protected={self.protected!r})"


@attrs.frozen
class DesiredWebhook:
    """A spec with every protected value resolved, known or explicitly unknown."""

    fields: WebhookCreate
    headers: tuple[DesiredHeader, ...] = ()

    @property
    def name(self) -> str:
        return self.fields.name

    @property
    def unknown(self) -> tuple[UnknownValue, ...]:
        """The protected values nobody supplied, in header order."""
        return tuple(h.value for h in self.headers if isinstance(h.value, UnknownValue))

    @property
    def secrets(self) -> tuple[str, ...]:
        """The keys of protected headers whose values are known."""
        return tuple(h.key for h in self.headers if h.protected and isinstance(h.value, str))

    def outbound_headers(self) -> tuple[WebhookHeader, ...]:
        """The headers as an update sends them: an unknown value as None (keep the stored one)."""
        return tuple(
            WebhookHeader(h.key, h.value if isinstance(h.value, str) else None, h.protected)
            for h in self.headers
        )

    def to_create(self) -> WebhookCreate:
        """The create request; ValidationError naming the first unknown value if any."""
        for index, header in enumerate(self.headers):
            if isinstance(header.value, UnknownValue):
                raise ValidationError(f"headers[{index}].value", header.value.describe(), None)
        return attrs.evolve(self.fields, headers=self.outbound_headers())


def resolve_spec(
    spec: WebhookSpec,
    environ: Mapping[str, str],
    values: ProtectedValues | None = None,
    names: Sequence[str] = (),
) -> DesiredWebhook:
    """``spec`` with its protected values resolved: ``${VAR}`` from ``environ``; a value
    the spec leaves unknown from ``values`` (looked up by ``names``, default the spec's
    own name), itself possibly a reference. Plain header values are taken as written."""
    headers = []
    for header in spec.headers:
        if not header.protected:
            assert header.value is not None  # parse_spec lets only protected values be None
            headers.append(DesiredHeader(header.key, header.value))
            continue
        given = header.value
        if given is None and values:
            given = values.lookup(names or (spec.name,), header.key)
        headers.append(DesiredHeader(header.key, resolve(given, header.key, environ), True))
    return DesiredWebhook(spec.fields, tuple(headers))


def desired_webhooks(
    items: Iterable[object],
    environ: Mapping[str, str],
    protected_values: Mapping[str, str] | None = None,
) -> list[DesiredWebhook]:
    """Specs (dicts, WebhookCreate or WebhookSpec) checked and resolved, before any request."""
    values = ProtectedValues.parse(protected_values)
    return [resolve_spec(spec, environ, values) for spec in parse_specs(items)]
