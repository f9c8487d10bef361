"""Checking many items at once, every problem reported before any request is sent.

Stopping at the first bad item makes a user fix and re-run once per mistake; a file
with three bad specs among a hundred should say so once, naming each: the position,
the webhook's name when it has one, the field and the rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from .errors import ValidationError

__all__ = ["check_each", "name_of"]

_T = TypeVar("_T")


def name_of(item: object) -> str | None:
    """The webhook name an item (a model or a mapping) gives, if any."""
    name = item.get("name") if isinstance(item, Mapping) else getattr(item, "name", None)
    return name if isinstance(name, str) else None


def check_each(
    items: Iterable[object],
    build: Callable[[object], _T],
    *,
    field: str,
    what: str,
    unique_name: Callable[[_T], str] | None = None,
) -> list[_T]:
    """``build`` applied to every item; a ValidationError whose ``problems`` hold every
    problem, each under ``field[index]`` with the item's webhook name, when any fails.

    With ``unique_name``, two items giving the same name are a problem too. ``what``
    names the items in the summary (``3 of 100 specs in hooks.yaml are invalid``).
    """
    built: list[_T] = []
    problems: list[ValidationError] = []
    invalid: set[int] = set()
    seen: dict[str, int] = {}
    total = 0
    for index, item in enumerate(items):
        total += 1
        where = f"{field}[{index}]"
        try:
            value = build(item)
        except ValidationError as error:
            name = name_of(item)
            problems.extend(problem.nested(where, webhook=name) for problem in error.problems)
            invalid.add(index)
            continue
        if unique_name is not None:
            name = unique_name(value)
            if name in seen:
                repeated = f"repeats the name of {field}[{seen[name]}]"
                problems.append(ValidationError(f"{where}.name", repeated, name))
                invalid.add(index)
            seen.setdefault(name, index)
        built.append(value)
    if problems:
        raise ValidationError.combined(problems, f"{len(invalid)} of {total} {what} are invalid")
    return built
