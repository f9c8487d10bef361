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
from typing import Any, Final, Literal

import yaml

from .._brief import brief
from .._wire import spec_json
from ..errors import ValidationError
from ..models import WebhookCreate
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

_CHUNK: Final = 64 * 1024

MAX_NESTING: Final = 16
"""Levels of lists and mappings a spec file may nest; a spec needs five."""

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


# --- reading: bounded, whatever the file holds ------------------------------------------


class _FileProblem(Exception):
    """What is wrong with a file as a document; becomes a ValidationError naming it."""


def _looks_like_text(source: str) -> bool:
    stripped = source.strip()
    return not stripped or "\n" in source or stripped[0] in "[{-"


def _read_file(path: Path) -> str:
    try:
        if not path.is_file():
            raise _FileProblem(
                "cannot read the file: no such file"
                if not path.exists()
                else "cannot read the file: not a regular file"
            )
        chunks: list[bytes] = []
        size = 0
        with path.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > MAX_SPEC_FILE_SIZE:
                    raise _FileProblem(f"is larger than {MAX_SPEC_FILE_SIZE // 2**20} MiB")
                chunks.append(chunk)
        data = b"".join(chunks)
    except OSError as error:
        raise _FileProblem(f"cannot read the file: {error.strerror or error}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _FileProblem(f"is not UTF-8 text (byte {error.start})") from None


def _read(source: str | os.PathLike[str]) -> tuple[str, str, str | None]:
    """``(text, label, suffix)``: the spec text, what errors call it, a file's suffix."""
    if isinstance(source, str) and _looks_like_text(source):
        if len(source) > MAX_SPEC_FILE_SIZE:
            raise ValidationError("specs", f"are longer than {MAX_SPEC_FILE_SIZE} characters")
        return source, "specs", None
    path = Path(source)
    try:
        return _read_file(path), path.name, path.suffix.lower()
    except _FileProblem as problem:
        raise ValidationError(str(path), str(problem), None) from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key given twice (JSON would keep the last silently)."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _FileProblem(f"has the key {brief(key)} twice in one object")
        found[key] = value
    return found


def _check_nesting(data: object) -> None:
    """Refuse a document nested deeper than MAX_NESTING, without recursion."""
    level: list[tuple[object, int]] = [(data, 1)]
    while level:
        item, depth = level.pop()
        children: Iterable[object]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_NESTING:
            raise _FileProblem(_too_deep())
        level.extend((child, depth + 1) for child in children)


def _decode_json(text: str) -> object:
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise _FileProblem(_too_deep()) from None
    except ValueError as error:
        if isinstance(error, json.JSONDecodeError):  # no excerpt: the text may hold a secret
            raise _FileProblem(
                f"is not valid JSON ({error.msg}: line {error.lineno} column {error.colno})"
            ) from None
        raise _FileProblem(f"is not valid JSON ({error})") from None
    _check_nesting(data)
    return data


def _too_deep(mark: Any = None) -> str:
    where = f" at {_where(mark)}" if mark is not None else ""
    return f"nests lists and mappings deeper than {MAX_NESTING} levels{where}"


def _cut(name: str | None) -> str:
    name = name or ""
    return name if len(name) <= 40 else f"{name[:40]}..."


def _where(mark: Any) -> str:
    return f"line {mark.line + 1} column {mark.column + 1}" if mark is not None else "?"


def _yaml_problem(error: yaml.YAMLError) -> str:
    """What a YAML error says, without the excerpt of the file it would show (a secret)."""
    if isinstance(error, yaml.MarkedYAMLError):
        what = error.problem or error.context or "cannot be read"
        if len(what) > 120:  # a problem may quote a tag or key of any length
            what = f"{what[:120]}..."
        return f"{what}: {_where(error.problem_mark or error.context_mark)}"
    return type(error).__name__


def _scan_yaml(text: str) -> None:
    """Refuse anchors and aliases (an alias bomb expands a few hundred bytes into
    billions of items) and deep nesting, from the parser's events, before anything is
    built."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            raise _FileProblem(
                f"uses an alias (*{_cut(event.anchor)}) at {_where(event.start_mark)}: "
                "anchors and aliases are not allowed in spec files"
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _FileProblem(
                f"defines an anchor (&{_cut(anchor)}) at {_where(event.start_mark)}: "
                "anchors and aliases are not allowed in spec files"
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                raise _FileProblem(_too_deep(event.start_mark))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


class _UniqueKeyLoader(_Loader):  # type: ignore[misc]  # the loader's class is chosen at import
    """The safe loader, refusing a key given twice in one mapping (YAML keeps the last)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                repeated = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: the base class says so
                continue
            if repeated:
                where = _where(key_node.start_mark)
                raise _FileProblem(f"has the key {brief(key)} twice in one mapping at {where}")
        return super().construct_mapping(node, deep=deep)


def _decode_yaml(text: str, kind: str) -> object:
    try:
        _scan_yaml(text)
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        if "nesting depth" in str(getattr(error, "problem", "")):  # libyaml's own bound
            raise _FileProblem(_too_deep(getattr(error, "problem_mark", None))) from None
        raise _FileProblem(f"is not valid {kind} ({_yaml_problem(error)})") from None
    except RecursionError:  # the scan bounds nesting; this is a second line of defence
        raise _FileProblem(_too_deep()) from None


def _decode(text: str, label: str, suffix: str | None) -> object:
    try:
        if suffix == ".json":
            return _decode_json(text)
        if suffix is None and text.lstrip()[:1] in ("[", "{"):
            try:
                return _decode_json(text)
            except _FileProblem as problem:
                if "not valid JSON" not in str(problem):
                    raise
                # YAML flow style starts this way too
        return _decode_yaml(text, "YAML" if suffix in (".yaml", ".yml") else "JSON or YAML")
    except _FileProblem as problem:
        raise ValidationError(label, str(problem), None) from None


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
    one spec. Raises one ValidationError whose ``problems`` name every broken rule (the
    spec, its webhook name, the field).
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
