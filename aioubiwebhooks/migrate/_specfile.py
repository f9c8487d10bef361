"""Spec files: one reader and one writer for every command and call that takes specs.

A spec file holds a list of specs, ``{"webhooks": [...]}``, or a single spec, in JSON
or YAML, read with the bounds of :mod:`._documents`. It is written in one canonical,
diff-friendly shape: every field present, in a fixed order, labels sorted, webhooks
sorted by name, so two exports of the same project are identical and a change shows up
as a changed line.

Protected header values are never written: the API does not return them, and a
literal secret does not belong in a file. A protected value is written as ``null``
(unknown) unless it is a reference such as ``${HOOK_TOKEN}``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final, Literal

import yaml

from .._wire import spec_json
from ..errors import ValidationError
from ..models import WebhookCreate
from ._documents import MAX_NESTING, DocumentProblem, decode_document, read_text_file
from ._spec import WebhookSpec, parse_specs
from ._values import references

__all__ = [
    "MAX_NESTING",
    "MAX_SPEC_FILE_SIZE",
    "SpecFormat",
    "canonical_spec",
    "dump_specs",
    "load_specs",
    "read_specs",
]

SpecFormat = Literal["json", "yaml"]
"""The two formats of spec files."""

MAX_SPEC_FILE_SIZE: Final = 32 * 1024 * 1024
"""Bytes a spec file may hold: about fifty thousand specs, far more than a project has."""

_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _looks_like_text(source: str) -> bool:
    stripped = source.strip()
    return not stripped or "\n" in source or stripped[0] in "[{-"


def _document(source: str | os.PathLike[str]) -> tuple[object, str]:
    """``(data, label)``: what the text or file holds, and what errors call it."""
    if isinstance(source, str) and _looks_like_text(source):
        if len(source) > MAX_SPEC_FILE_SIZE:
            raise ValidationError("specs", f"are longer than {MAX_SPEC_FILE_SIZE} characters")
        text, label, suffix = source, "specs", None
    else:
        path = Path(source)
        label, suffix = path.name, path.suffix.lower()
        try:
            text = read_text_file(path, MAX_SPEC_FILE_SIZE)
        except DocumentProblem as problem:
            raise ValidationError(str(path), str(problem)) from None
    try:
        return decode_document(text, suffix), label
    except DocumentProblem as problem:
        raise ValidationError(label, str(problem)) from None


def _items(data: object, label: str) -> list[object]:
    """The specs of a document: a list, ``{"webhooks": [...]}``, or one spec."""
    if data is None:
        return []
    if isinstance(data, Mapping) and "webhooks" in data:
        data = data["webhooks"]
        if not isinstance(data, list):
            raise ValidationError(f"{label}.webhooks", "must be a list of webhook specs", data)
    if isinstance(data, Mapping):
        return [data]
    if not isinstance(data, list):
        raise ValidationError(label, "must be a list of webhook specs, or one spec", data)
    return data


def read_specs(text_or_path: str | os.PathLike[str]) -> list[WebhookSpec]:
    """Checked specs from JSON or YAML text, or from the file at a path.

    The one reader of specs: ``load_specs``, ``plan`` and the command line use it.
    Errors name the file (or ``specs`` for text), the spec and the field
    (``hooks.yaml[3].timeout``).
    """
    data, label = _document(text_or_path)
    return parse_specs(_items(data, label), source=label)


def load_specs(text_or_path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Specs from JSON or YAML text, or from the file at a path, checked, as plain dicts.

    The top level is a list of specs, an object whose ``webhooks`` is that list, or
    one spec. Raises one ValidationError whose ``problems`` name every broken rule (the
    spec, its webhook name, the field).
    """
    data, label = _document(text_or_path)
    items = _items(data, label)
    parse_specs(items, source=label)
    return [dict(item) for item in items if isinstance(item, Mapping)]


# --- writing ------------------------------------------------------------------------------


def canonical_spec(spec: WebhookSpec) -> dict[str, Any]:
    """A spec in the canonical shape; a protected value survives only as a ``${VAR}``
    reference (anything else is written as null, unknown)."""
    headers = []
    for header in spec.headers:
        value = header.value
        if header.protected and (value is None or not references(value)):
            value = None
        headers.append({"key": header.key, "value": value, "protected": header.protected})
    return spec_json(spec.fields, headers=headers)


def dump_specs(
    specs: Iterable[Mapping[str, Any] | WebhookCreate | WebhookSpec], format: SpecFormat = "json"
) -> str:
    """Specs as JSON or YAML text: canonical, sorted by name, without secrets.

    Raises ValidationError naming every spec and field that breaks a rule.
    """
    if format not in ("json", "yaml"):
        raise ValidationError("format", "must be 'json' or 'yaml'", format)
    canonical = sorted((canonical_spec(s) for s in parse_specs(specs)), key=lambda s: s["name"])
    if format == "json":
        return json.dumps(canonical, indent=2, ensure_ascii=False) + "\n"
    text: str = yaml.dump(
        canonical, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True
    )
    return text
