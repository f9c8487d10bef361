"""Spec files: one reader and one writer for every command and call that takes specs.

A spec file holds a list of specs, ``{"webhooks": [...]}``, or a single spec, in JSON
or YAML. It is written in one canonical, diff-friendly shape: every field present, in
a fixed order, labels sorted, webhooks sorted by name, so two exports of the same
project are identical and a change shows up as a changed line.

Protected header values are never written: the API does not return them, and a
literal secret does not belong in a file. A protected value is written as ``null``
(unknown) unless it is a reference such as ``${HOOK_TOKEN}``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml

from .._wire import spec_json
from ..errors import ValidationError
from ..models import WebhookCreate
from ._spec import WebhookSpec, parse_specs
from ._values import references

__all__ = ["SpecFormat", "canonical_spec", "dump_specs", "load_specs", "read_specs"]

SpecFormat = Literal["json", "yaml"]
"""The two formats of spec files."""

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


# --- reading ------------------------------------------------------------------------------


def _looks_like_text(source: str) -> bool:
    stripped = source.strip()
    return not stripped or "\n" in source or stripped[0] in "[{-"


def _read(source: str | os.PathLike[str]) -> tuple[str, str, str | None]:
    """``(text, label, suffix)``: the spec text, what errors call it, a file's suffix."""
    if isinstance(source, str) and _looks_like_text(source):
        return source, "specs", None
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise ValidationError(str(path), f"cannot read the file: {reason}", None) from None
    return text, path.name, path.suffix.lower()


def _decode(text: str, label: str, suffix: str | None) -> object:
    if suffix == ".json" or (suffix is None and text.lstrip()[:1] in ("[", "{")):
        try:
            return json.loads(text)
        except ValueError as error:
            if suffix == ".json":
                raise ValidationError(label, f"is not valid JSON ({error})", None) from None
            # YAML flow style starts this way too
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        raise ValidationError(label, f"is not valid JSON or YAML ({error})", None) from None


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
    text, label, suffix = _read(text_or_path)
    return parse_specs(_items(_decode(text, label, suffix), label), source=label)


def load_specs(text_or_path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Specs from JSON or YAML text, or from the file at a path, checked, as plain dicts.

    The top level is a list of specs, an object whose ``webhooks`` is that list, or
    one spec. Raises ValidationError naming the spec and field of a broken rule.
    """
    text, label, suffix = _read(text_or_path)
    items = _items(_decode(text, label, suffix), label)
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

    Raises ValidationError naming the spec and field when one breaks a rule.
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
