"""Reading documents people give the command line: bounded, whatever a file holds.

Spec files and protected-value files come from people and from other programs, so
each is read as possibly hostile: at most a given size, from a regular file only (a
FIFO would block), as UTF-8; JSON or YAML without anchors or aliases (an alias bomb
expands a few hundred bytes into billions of items), nested at most
:data:`MAX_NESTING` levels, with no key given twice. A problem is a
:class:`DocumentProblem` whose message never quotes the document (it may hold a secret);
the caller names the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import yaml

from .._brief import brief

__all__ = [
    "MAX_NESTING",
    "DocumentProblem",
    "decode_document",
    "decode_json",
    "read_text_file",
]

MAX_NESTING: Final = 16
"""Levels of lists and mappings a document may nest; a spec file needs five."""

_CHUNK: Final = 64 * 1024

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DocumentProblem(Exception):
    """What is wrong with a file or text as a document."""


def _size(limit: int) -> str:
    return f"{limit // 2**20} MiB" if limit >= 2**20 else f"{limit} bytes"


def read_text_file(path: Path, limit: int) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes, read in pieces."""
    try:
        if not path.is_file():
            raise DocumentProblem(
                "cannot read the file: no such file"
                if not path.exists()
                else "cannot read the file: not a regular file"
            )
        chunks: list[bytes] = []
        size = 0
        with path.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise DocumentProblem(f"is larger than {_size(limit)}")
                chunks.append(chunk)
        data = b"".join(chunks)
    except OSError as error:
        raise DocumentProblem(f"cannot read the file: {error.strerror or error}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DocumentProblem(f"is not UTF-8 text (byte {error.start})") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key given twice (JSON would keep the last silently)."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DocumentProblem(f"has the key {brief(key)} twice in one object")
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
            raise DocumentProblem(_too_deep())
        level.extend((child, depth + 1) for child in children)


def decode_json(text: str) -> object:
    """JSON text as data: no key twice in an object, nested at most MAX_NESTING levels."""
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise DocumentProblem(_too_deep()) from None
    except ValueError as error:
        if isinstance(error, json.JSONDecodeError):  # no excerpt: the text may hold a secret
            raise DocumentProblem(
                f"is not valid JSON ({error.msg}: line {error.lineno} column {error.colno})"
            ) from None
        raise DocumentProblem(f"is not valid JSON ({error})") from None
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
            raise DocumentProblem(
                f"uses an alias (*{_cut(event.anchor)}) at {_where(event.start_mark)}: "
                "anchors and aliases are not allowed here"
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise DocumentProblem(
                f"defines an anchor (&{_cut(anchor)}) at {_where(event.start_mark)}: "
                "anchors and aliases are not allowed here"
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                raise DocumentProblem(_too_deep(event.start_mark))
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
                raise DocumentProblem(f"has the key {brief(key)} twice in one mapping at {where}")
        return super().construct_mapping(node, deep=deep)


def _decode_yaml(text: str, kind: str) -> object:
    try:
        _scan_yaml(text)
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        if "nesting depth" in str(getattr(error, "problem", "")):  # libyaml's own bound
            raise DocumentProblem(_too_deep(getattr(error, "problem_mark", None))) from None
        raise DocumentProblem(f"is not valid {kind} ({_yaml_problem(error)})") from None
    except RecursionError:  # the scan bounds nesting; this is a second line of defence
        raise DocumentProblem(_too_deep()) from None


def decode_document(text: str, suffix: str | None) -> object:
    """JSON or YAML text as data: JSON for a ``.json`` file, YAML for ``.yaml``/``.yml``,
    otherwise JSON when it parses as JSON and YAML else."""
    if suffix == ".json":
        return decode_json(text)
    if suffix is None and text.lstrip()[:1] in ("[", "{"):
        try:
            return decode_json(text)
        except DocumentProblem as problem:
            if "not valid JSON" not in str(problem):
                raise
            # YAML flow style starts this way too
    return _decode_yaml(text, "YAML" if suffix in (".yaml", ".yml") else "JSON or YAML")
