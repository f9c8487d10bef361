"""Hiding secrets in texts that come from elsewhere: echoed, escaped, cut off."""

from __future__ import annotations

import json

import pytest

from aioubiwebhooks._redact import HIDDEN, redact, secret_forms

TOKEN = "Token tok-8c1f2e9d"
VALUE = 'pa"ss\\wörd-42'
FORMS = secret_forms([TOKEN, TOKEN[6:], VALUE])


@pytest.mark.parametrize("depth", [0, 1, 2, 3])
def test_a_secret_echoed_inside_json_any_number_of_times_is_hidden(depth: int) -> None:
    text = VALUE
    for _ in range(depth):
        text = json.dumps({"you sent": text})
    shown = redact(f"error: {text}", FORMS)
    assert "wörd" not in shown
    assert "w\\u00f6rd" not in shown
    assert HIDDEN in shown


def test_a_secret_cut_off_at_the_end_or_inside_a_quoted_excerpt_is_hidden() -> None:
    assert redact("invalid: Token tok-8c", FORMS) == f"invalid: {HIDDEN}"
    assert redact("preview 'xx tok-8c1f2' more", FORMS) == f"preview 'xx {HIDDEN}' more"


def test_other_text_is_left_alone() -> None:
    text = "Token is required; tokens expire"
    assert redact(text, FORMS) == text
    assert redact("", FORMS) == ""
    assert secret_forms(["", ""]) == ()
