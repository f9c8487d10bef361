"""The emulator's rules table against the client's request models: they must agree.

The emulator checks request bodies with its own table (``emulator/_rules.py``), never
with the client's models, so that a wrong rule on one side cannot hide behind the same
wrong rule on the other. This module offers every rule's edge values (at each bound
and just beyond it, each choice and one that is not, wrong types, a missing required
field) to both sides and fails, naming the rule, wherever they answer differently.
``tests/integration/test_emulator_rule_limits.py`` does the same over HTTP from the
client's side.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

import attrs
import pytest

from aioubiwebhooks.emulator import _rules
from aioubiwebhooks.emulator._problems import BadRequest
from aioubiwebhooks.emulator._rules import (
    CREATE,
    EVENTS,
    HEADER_RULES,
    OBJECT_TYPES,
    RULES,
    TEST,
    UPDATE,
    FieldRule,
    Operation,
    check_fields,
)
from aioubiwebhooks.errors import ValidationError
from aioubiwebhooks.models import WebhookCreate, WebhookTestCreate, WebhookUpdate

CLIENT_MODELS: Final[dict[Operation, Callable[[object], object]]] = {
    CREATE: WebhookCreate.from_dict,
    UPDATE: WebhookUpdate.from_dict,
    TEST: WebhookTestCreate.from_dict,
}
_TARGET: Final = {
    "url": "https://example.org/hook",
    "object_type": "deployment",
    "object_name": "dep",
    "event": "deployment_request_completed",
}
BASE: Final[dict[Operation, dict[str, Any]]] = {
    CREATE: {"name": "hook", **_TARGET},
    UPDATE: {},
    TEST: dict(_TARGET),
}
HEADER: Final = {"key": "K", "value": "v", "protected": False}
MISSING: Final = object()
"""A probe that leaves the field out of the body."""


def edge_values(rule: FieldRule) -> list[object]:
    """Values at and just beyond every bound of ``rule``, and of the wrong kind."""
    values: list[object] = []
    if rule.min_length is not None:
        values += ["x" * (rule.min_length - 1), "x" * rule.min_length]
    if rule.max_length is not None:
        values += ["x" * rule.max_length, "x" * (rule.max_length + 1)]
    if rule.minimum is not None:
        values += [rule.minimum - 1, rule.minimum]
    if rule.maximum is not None:
        values += [rule.maximum, rule.maximum + 1]
    if rule.choices:
        values += [*rule.choices, "not_a_choice"]
    wrong_kinds: dict[str, list[object]] = {
        "text": [5, ["x"]],
        "choice": [5],
        "url": [
            "http://example.org/x",
            "https://example.org:8443/x?q=1",
            "ftp://example.org/x",
            "/relative",
            "http:///no-host",
            "http://example.org/a b",
            5,
        ],
        "whole": [10.5, "10", True],
        "flag": [True, False, 1, "true"],
        "labels": [{"a": "b"}, {}, {"": "b"}, {"a": 1}, ["a"]],
        "headers": [[], [HEADER], {"K": "v"}, [7], "K: v"],
    }
    return values + wrong_kinds[rule.kind]


def _body(operation: Operation, field: str, value: object, *, header: bool) -> dict[str, Any]:
    body = dict(BASE[operation])
    if header:
        item = dict(HEADER)
        if value is MISSING:
            del item[field]
        else:
            item[field] = value
        body["headers"] = [item]
        return body
    if value is MISSING:
        body.pop(field, None)
        return body
    body[field] = value
    # Keep the pair consistent so that only the probed field can be refused.
    if field == "object_type" and value in OBJECT_TYPES:
        body["event"] = f"{value}_request_completed"
    if field == "event" and value in EVENTS and "object_type" in body:
        body["object_type"] = _rules.event_object_type(str(value))
    return body


def _emulator_verdict(
    rule: FieldRule, operation: Operation, value: object, where: str
) -> str | None:
    """None if the emulator's rule accepts ``value`` (or its absence), else its message."""
    body = {} if value is MISSING else {rule.field: value}
    try:
        check_fields((rule,), body, operation, prefix=where[: len(where) - len(rule.field)])
    except BadRequest as error:
        return error.message
    return None


def _client_verdict(operation: Operation, body: dict[str, Any]) -> ValidationError | None:
    try:
        CLIENT_MODELS[operation](body)
    except ValidationError as error:
        return error
    return None


def _shown(value: object) -> str:
    if value is MISSING:
        return "no value"
    if isinstance(value, str) and len(value) > 12:
        return f"{len(value)} characters"
    return repr(value)


KNOWN_DIFFERENCES: Final = {
    ("headers[0].protected", "no value"): "the client's model fills in false and always sends it",
}
"""Where the two sides differ on purpose: (field, probe) -> why."""


def disagreements(rules: tuple[FieldRule, ...], *, header: bool) -> Iterator[str]:
    """One line per edge value on which the emulator and the client's models differ."""
    for rule in rules:
        where = f"headers[0].{rule.field}" if header else rule.field
        for operation in sorted(rule.operations):
            for value in [*edge_values(rule), MISSING]:
                shown = _shown(value)
                if (where, shown) in KNOWN_DIFFERENCES:
                    continue
                emulator = _emulator_verdict(rule, operation, value, where)
                body = _body(operation, rule.field, value, header=header)
                client = _client_verdict(operation, body)
                says = f"rule '{rule.describe()}' ({operation}, {shown}):"
                if (emulator is None) != (client is None):
                    yield (
                        f"{says} the emulator {'accepts' if emulator is None else 'refuses'} "
                        f"it, the client's model {'accepts' if client is None else 'refuses'} "
                        f"it ({client if client is not None else emulator})"
                    )
                elif emulator is not None and not emulator.startswith(where):
                    yield f"{says} the emulator's error does not name {where}: {emulator}"
                elif client is not None and not client.field.startswith(where):
                    yield f"{says} the client's error names {client.field}, not {where}"


def test_every_rule_of_the_emulator_matches_the_clients_models() -> None:
    found = list(disagreements(RULES, header=False))
    assert not found, "\n".join(found)


def test_every_header_rule_of_the_emulator_matches_the_clients_models() -> None:
    found = list(disagreements(HEADER_RULES, header=True))
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("field", "changes", "says"),
    [
        (
            "name",
            {"max_length": 65},
            "rule 'name: text; 1 to 65 characters' (create, 65 characters)",
        ),
        ("timeout", {"maximum": 60}, "rule 'timeout: whole; 1 to 60' (create, 60)"),
        ("description", {"max_length": 500}, "rule 'description: text; 0 to 500 characters'"),
        (
            "event",
            {"choices": (*EVENTS, "deployment_request_cancelled")},
            "the emulator accepts it, the client's model refuses it",
        ),
        ("object_name", {"required": frozenset()}, "(create, no value)"),
    ],
)
def test_a_rule_changed_on_one_side_is_named(
    field: str, changes: dict[str, Any], says: str
) -> None:
    changed = tuple(
        attrs.evolve(rule, **changes) if rule.field == field else rule for rule in RULES
    )
    found = list(disagreements(changed, header=False))
    assert found, f"changing {field} went unnoticed"
    assert any(says in line for line in found), "\n".join(found)


EMULATOR = Path(_rules.__file__).parent
REQUEST_MODELS: Final = {"WebhookCreate", "WebhookUpdate", "WebhookTestCreate", "ValidationError"}


@pytest.mark.parametrize("module", sorted(EMULATOR.glob("*.py")), ids=lambda p: p.name)
def test_the_emulator_never_uses_the_clients_request_models(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    used = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert not used & REQUEST_MODELS, f"{module.name} imports {sorted(used & REQUEST_MODELS)}"
    if module.name == "_rules.py":
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {"models", "errors"} & imported, "the rules table imports the client's models"
