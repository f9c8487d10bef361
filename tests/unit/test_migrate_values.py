"""Protected values given for migration: how they are parsed, refused and described.

A value given for a protected header is a secret: every refusal names the entry but
shows ``<hidden>`` in place of what was given, and every description of an unknown
value names the header and the variables to set.
"""

from __future__ import annotations

from typing import Any

import pytest

from aioubiwebhooks import ValidationError
from aioubiwebhooks.migrate import UnknownValue
from aioubiwebhooks.migrate._values import ProtectedValues, references, resolve, substitute

RULE = "must map 'Header-Key' or 'webhook-name/Header-Key' to a non-empty string"


def refusal(values: Any) -> str:
    with pytest.raises(ValidationError) as info:
        ProtectedValues.parse(values)
    assert info.value.secret
    assert info.value.value is None
    return str(info.value)


def test_protected_values_that_are_no_mapping_are_refused_without_showing_them() -> None:
    assert refusal(["Authorization=s3cret"]) == (
        "protected_values: must be a mapping (got <hidden>)"
    )


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({1: "s3cret"}, "protected_values[1]"),
        ({"": "s3cret"}, "protected_values['']"),
        ({"hook/": "s3cret"}, "protected_values['hook/']"),
        ({"/Authorization": "s3cret"}, "protected_values['/Authorization']"),
        ({"Authorization": ""}, "protected_values['Authorization']"),
        ({"Authorization": 7}, "protected_values['Authorization']"),
    ],
)
def test_a_malformed_entry_is_named_and_its_value_hidden(values: Any, field: str) -> None:
    assert refusal(values) == f"{field}: {RULE} (got <hidden>)"


def test_values_are_looked_up_by_webhook_first_then_by_key_in_any_case() -> None:
    values = ProtectedValues.parse(
        {"Authorization": "for-all", "hook/AUTHORIZATION": "for-hook", "a/b/X-Key": "nested"}
    )
    assert values.lookup(["hook"], "authorization") == "for-hook"
    assert values.lookup(["other"], "Authorization") == "for-all"
    assert values.lookup(["other", "hook"], "Authorization") == "for-hook"
    assert values.lookup(["a/b"], "x-key") == "nested"  # the last '/' splits
    assert values.lookup(["hook"], "X-Other") is None
    assert values
    assert ProtectedValues.parse({"hook/X": "v"})
    assert ProtectedValues.parse({"X": "v"})
    assert not ProtectedValues.parse(None)
    assert not ProtectedValues.parse({})


def test_the_repr_names_the_entries_and_never_a_value() -> None:
    values = ProtectedValues.parse({"Authorization": "s3cret", "hook/X-Key": "k3y"})
    assert repr(values) == "ProtectedValues(['hook/x-key', 'authorization'], values=<hidden>)"


@pytest.mark.parametrize(
    ("unknown", "described"),
    [
        (UnknownValue("Authorization"), "header 'Authorization': no value given"),
        (
            UnknownValue("Authorization", ("TOKEN",)),
            "header 'Authorization': variable TOKEN not set",
        ),
        (
            UnknownValue("X-Key", ("KEY_A", "KEY_B")),
            "header 'X-Key': variables KEY_A, KEY_B not set",
        ),
    ],
)
def test_an_unknown_value_says_what_to_set(unknown: UnknownValue, described: str) -> None:
    assert unknown.describe() == described


def test_references_and_their_substitution() -> None:
    assert references("Token ${A} ${B_2} $${C} ${A}") == ("A", "B_2", "A")
    assert substitute("Token ${A}-${A} $${B}", {"A": "x"}) == ("Token x-x ${B}", ())
    assert substitute("${A}${B}${A}", {"B": ""}) == (None, ("A", "B"))
    assert resolve(None, "Authorization", {}) == UnknownValue("Authorization")
    assert resolve("${T}", "Authorization", {}) == UnknownValue("Authorization", ("T",))
    assert resolve("Token ${T}", "Authorization", {"T": "s"}) == "Token s"
