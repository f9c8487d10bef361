"""Webhook specs as files: one canonical, diff-friendly shape, read back with checks.

A spec is what ``webhooks_create`` would send, written with every field present,
in a fixed key order, labels sorted and webhooks sorted by name, so that two
exports of the same project are identical and a change shows up as a changed line.

Protected header values are never written: the API does not return them, and a
literal secret does not belong in a file. A protected value is written as ``null``
(unknown) unless it is a reference such as ``${HOOK_TOKEN}``, which names an
environment variable instead of holding the secret.
"""

from __future__ import annotations

import enum
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import attrs
import yaml

from ._redact import HIDDEN
from ._wire import SPEC_FIELDS, headers_json, spec_json
from .errors import ValidationError
from .models import WebhookCreate, WebhookDetail, WebhookHeader

__all__ = [
    "HIDDEN",
    "SPEC_FIELDS",
    "STAND_IN",
    "ParsedSpec",
    "SpecFormat",
    "canonical_from_detail",
    "canonical_from_spec",
    "dump_specs",
    "load_specs",
    "parse_spec",
    "parse_specs",
    "references",
    "render_headers",
    "render_value",
    "substitute",
]

SpecFormat = Literal["json", "yaml"]


STAND_IN: Final = "\x00unknown-protected-value"
"""Stands in for a protected value that is not known, so the rest of a spec can be
checked by the model; it is swapped out before anything is sent."""

_REFERENCE: Final = re.compile(r"\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)\}")

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


# --- references to the environment ------------------------------------------------------------


def references(value: str) -> tuple[str, ...]:
    """The variable names a value refers to as ``${NAME}`` (``$${NAME}`` is a literal)."""
    return tuple(m.group(2) for m in _REFERENCE.finditer(value) if m.group(1) is None)


def substitute(value: str, environ: Mapping[str, str]) -> tuple[str | None, tuple[str, ...]]:
    """``value`` with its references filled in, or None and the variables that are unset.

    An empty variable counts as unset: the API refuses an empty header value.
    """
    missing = tuple(name for name in references(value) if not environ.get(name))
    if missing:
        return None, tuple(dict.fromkeys(missing))

    def fill(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return "${" + match.group(2) + "}"
        return environ[match.group(2)]

    return _REFERENCE.sub(fill, value), ()


# --- reading specs ------------------------------------------------------------------------------


@attrs.frozen
class ParsedSpec:
    """A checked spec; ``unknown`` holds the indexes of protected headers given without a value.

    Those headers carry :data:`STAND_IN` as their value inside ``spec``, so the rest of
    the spec can be checked; :meth:`header_value` reads them as None.
    """

    spec: WebhookCreate
    unknown: frozenset[int] = frozenset()

    def header_value(self, index: int) -> str | None:
        """The header's value as given, None when it is an unknown protected value."""
        return None if index in self.unknown else self.spec.headers[index].value


def parse_spec(data: object, index: int) -> ParsedSpec:
    """One spec (a mapping or a WebhookCreate) checked; errors are nested under ``specs[i]``.

    A protected header may be given with a null or missing value (unknown, as an
    export writes it); every other rule of WebhookCreate applies.
    """
    if isinstance(data, WebhookCreate):
        return ParsedSpec(data)
    if not isinstance(data, Mapping):
        raise ValidationError(f"specs[{index}]", "must be a mapping of field names to values", data)
    fields = dict(data)
    unknown: set[int] = set()
    headers = fields.get("headers")
    if isinstance(headers, list):
        items: list[object] = []
        for position, item in enumerate(headers):
            if (
                isinstance(item, Mapping)
                and item.get("protected") is True
                and item.get("value") is None
            ):
                unknown.add(position)
                item = {**item, "value": STAND_IN}
            items.append(item)
        fields["headers"] = items
    try:
        spec = WebhookCreate.from_dict(fields)
    except ValidationError as error:
        raise error.nested(f"specs[{index}]") from None
    return ParsedSpec(spec, frozenset(unknown))


def parse_specs(items: Iterable[object]) -> list[ParsedSpec]:
    """Every spec checked, and names unique, before anything else happens."""
    parsed = [parse_spec(item, index) for index, item in enumerate(items)]
    seen: dict[str, int] = {}
    for index, item in enumerate(parsed):
        name = item.spec.name
        if name in seen:
            raise ValidationError(
                f"specs[{index}].name", f"repeats the name of specs[{seen[name]}]", name
            )
        seen[name] = index
    return parsed


# --- the canonical shape --------------------------------------------------------------------


def canonical_from_detail(detail: WebhookDetail) -> dict[str, Any]:
    """A stored webhook as a spec: protected values are unknown (null), never invented."""
    return spec_json(detail)


def canonical_from_spec(parsed: ParsedSpec) -> dict[str, Any]:
    """A spec in the canonical shape; a protected value survives only as a ``${VAR}`` reference."""
    headers = []
    for index, header in enumerate(parsed.spec.headers):
        value = parsed.header_value(index)
        if header.protected and (value is None or not references(value)):
            value = None
        headers.append({"key": header.key, "value": value, "protected": header.protected})
    return spec_json(parsed.spec, headers=headers)


def dump_specs(
    specs: Iterable[Mapping[str, Any] | WebhookCreate], format: SpecFormat = "json"
) -> str:
    """Specs as JSON or YAML text: canonical, sorted by name, without secrets.

    Raises ValidationError naming the spec and field when one breaks a rule.
    """
    if format not in ("json", "yaml"):
        raise ValidationError("format", "must be 'json' or 'yaml'", format)
    canonical = sorted(
        (canonical_from_spec(item) for item in parse_specs(specs)), key=lambda s: str(s["name"])
    )
    if format == "json":
        return json.dumps(canonical, indent=2, ensure_ascii=False) + "\n"
    text: str = yaml.dump(
        canonical, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True
    )
    return text


def _read_source(source: str | os.PathLike[str]) -> str:
    if isinstance(source, str):
        stripped = source.strip()
        looks_like_text = not stripped or "\n" in source or stripped[0] in "[{-"
        if looks_like_text:
            return source
    path = Path(source)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise ValidationError("specs", f"cannot read the file: {reason}", str(path)) from None


def _decode(text: str) -> object:
    if text.lstrip()[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except ValueError:
            pass  # YAML flow style also starts this way
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        raise ValidationError("specs", f"is not valid JSON or YAML ({error})", None) from None


def load_specs(text_or_path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Specs from JSON or YAML text, or from the file at a path, checked as specs.

    The top level is a list of specs (or an object whose ``webhooks`` is that list).
    Raises ValidationError naming the spec and field on the first broken rule.
    """
    data = _decode(_read_source(text_or_path))
    if isinstance(data, Mapping) and "webhooks" in data:
        data = data["webhooks"]
    if data is None:
        data = []
    if not isinstance(data, list):
        raise ValidationError("specs", "must be a list of webhook specs", data)
    specs: list[dict[str, Any]] = []
    for index, item in enumerate(data):
        if not isinstance(item, Mapping):
            raise ValidationError(
                f"specs[{index}]", "must be a mapping of field names to values", item
            )
        specs.append(dict(item))
    parse_specs(specs)
    return specs


# --- showing values without secrets -----------------------------------------------------------


def render_headers(headers: Sequence[WebhookHeader]) -> list[dict[str, Any]]:
    """Headers as JSON-ready dicts; a known protected value is shown as ``<hidden>``."""
    return headers_json(headers, mask=HIDDEN)


def render_value(value: Any) -> Any:
    """A field value as JSON-ready data, with protected header values hidden."""
    if isinstance(value, tuple) and all(isinstance(v, WebhookHeader) for v in value):
        return render_headers(value)
    if isinstance(value, Mapping):
        return {key: value[key] for key in sorted(value)}
    if isinstance(value, enum.Enum):
        return value.value
    return value
