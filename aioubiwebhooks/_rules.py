"""Every rule the client checks before sending, and where each one comes from.

Checking input before a request is sent gives a clear error naming the field, but a
rule stricter than the service would refuse work the service accepts. So each rule
says what it rests on:

- ``reference``: the API reference (the UbiOps client library's page on webhooks);
- ``ubiops 4.15.0``: the client-side checks in the models of the official client;
- ``assumed``: this library's own reading where neither source says; such a rule
  carries ``enforced`` so it can be relaxed by changing one line here.

The models and the session take each rule's text (and limits) from this table, and
the documentation's table of rules is checked against it by the test suite.
"""

from __future__ import annotations

import enum
from typing import Final

import attrs

__all__ = [
    "DEFAULT_TIMEOUT",
    "DESCRIPTION_MAX_LENGTH",
    "NAME_MAX_LENGTH",
    "RULES",
    "TIMEOUT_MAX",
    "TIMEOUT_MIN",
    "Rule",
    "Source",
    "markdown_table",
    "rule",
]

NAME_MAX_LENGTH: Final = 64
DESCRIPTION_MAX_LENGTH: Final = 400
TIMEOUT_MIN: Final = 1
TIMEOUT_MAX: Final = 30
DEFAULT_TIMEOUT: Final = 10

_OBJECT_TYPES: Final = "'deployment', 'pipeline'"
_EVENTS: Final = ", ".join(
    f"'{kind}_request_{when}'"
    for kind in ("deployment", "pipeline")
    for when in ("started", "completed", "failed", "finished")
)


class Source(str, enum.Enum):
    """What a rule rests on."""

    REFERENCE = "reference"
    """The API reference: the UbiOps client library's page on webhooks."""
    OFFICIAL_CLIENT = "ubiops 4.15.0"
    """The client-side checks in the official client's models (``ubiops==4.15.0``)."""
    ASSUMED = "assumed"
    """This library's own reading; no public source says it."""

    def __str__(self) -> str:
        return self.value


@attrs.frozen
class Rule:
    """One check made before sending: on which fields, what it says, and why it is made.

    ``text`` is what :class:`~aioubiwebhooks.errors.ValidationError` says (its ``rule``),
    with ``{placeholders}`` filled in where the text depends on the input.
    """

    key: str
    fields: str
    text: str
    source: Source
    basis: str
    enforced: bool = True
    """False turns the check off (meant for ``assumed`` rules the service turns out not
    to have)."""

    def says(self, **values: object) -> str:
        """The rule's text with its placeholders filled in."""
        return self.text.format(**values) if values else self.text


_R = Source.REFERENCE
_C = Source.OFFICIAL_CLIENT
_A = Source.ASSUMED

RULES: Final[tuple[Rule, ...]] = (
    # --- what must be there -------------------------------------------------------------
    Rule(
        "required",
        "create: name, url, object_type, object_name, event; test: url, object_type, "
        "object_name, event; header: key",
        "is required",
        _R,
        "the reference lists them as required parameters; the official client refuses None",
    ),
    Rule(
        "known_fields",
        "every key of a model given as a dict",
        "is not a field of {model}",
        _A,
        "a misspelt key would otherwise be dropped without a word; the API's handling of "
        "unknown keys is not documented",
    ),
    Rule(
        "update.not_none",
        "update: name, url, event, labels, headers, timeout",
        "must not be None (leave it out to keep it)",
        _A,
        "the official client drops None fields, and no source says what null does to these",
    ),
    Rule(
        "header.value.required",
        "create, test: headers[].value",
        "is required here (only an update may leave a protected value unchanged)",
        _A,
        "the sources describe a missing or null value only in an update, where it keeps the "
        "stored protected value",
    ),
    # --- types ----------------------------------------------------------------------------
    Rule(
        "type.string",
        "name, url, object_name, description, version, headers[].key",
        "must be a string",
        _C,
        "the official client's models refuse any other type",
    ),
    Rule(
        "type.header_value",
        "headers[].value",
        "must be a string or None",
        _C,
        "the official client's models refuse any other type; None is allowed",
    ),
    Rule(
        "type.flag",
        "enabled, retry, include_result, headers[].protected",
        "must be true or false",
        _C,
        "the official client's models refuse any other type; the reference calls them booleans",
    ),
    Rule(
        "type.timeout",
        "timeout",
        "must be a whole number of seconds",
        _C,
        "the official client's models take an integer; the reference counts it in seconds",
    ),
    Rule(
        "type.headers",
        "headers",
        "must be a list of headers",
        _C,
        "the official client's models take a list",
    ),
    Rule(
        "type.labels",
        "labels",
        "must be a mapping of strings to strings",
        _C,
        "the official client's models take a dictionary; the reference: key/value pairs",
    ),
    Rule(
        "type.label_key",
        "labels (keys)",
        "keys must be strings",
        _R,
        "labels are a JSON object, whose keys are strings",
    ),
    Rule(
        "type.label_value",
        "labels[key]",
        "must be a string",
        _R,
        "the reference describes labels as key/value pairs of text",
    ),
    # --- values ---------------------------------------------------------------------------
    Rule(
        "name.not_empty",
        "name",
        "must not be empty",
        _C,
        "the official client's models require a length of at least 1",
    ),
    Rule(
        "name.max_length",
        "name",
        f"must have at most {NAME_MAX_LENGTH} characters",
        _C,
        f"the official client's models allow at most {NAME_MAX_LENGTH} characters",
    ),
    Rule(
        "url.http",
        "url",
        "must be an absolute http(s) URL",
        _A,
        "the reference says only that it is the callback URL; the official client checks "
        "only that it is a string",
    ),
    Rule(
        "url.no_white_space",
        "url",
        "must not contain white space",
        _A,
        "a URL has no white space (RFC 3986); no source says how the API treats one",
    ),
    Rule(
        "object_type.choice",
        "object_type (and the webhooks_list filter)",
        f"must be one of {_OBJECT_TYPES}",
        _R,
        "the reference names these two; answers may hold others (read as strings)",
    ),
    Rule(
        "object_name.not_empty",
        "object_name",
        "must not be empty",
        _C,
        "the official client's models require a length of at least 1",
    ),
    Rule(
        "event.choice",
        "event (and the webhooks_list filter)",
        f"must be one of {_EVENTS}",
        _R,
        "the eight events listed for 'event'; answers may hold others (read as strings)",
    ),
    Rule(
        "event.prefix",
        "event",
        "must start with '{object_type}_' to match object_type",
        _R,
        "the reference lists the events per object type, each starting with its name",
    ),
    Rule(
        "description.max_length",
        "description",
        f"must have at most {DESCRIPTION_MAX_LENGTH} characters",
        _C,
        f"the official client's models allow at most {DESCRIPTION_MAX_LENGTH} characters",
    ),
    Rule(
        "version.not_empty",
        "version",
        "must not be empty",
        _C,
        "the official client's models require a length of at least 1; leave it out for the "
        "default version",
    ),
    Rule(
        "timeout.max",
        "timeout",
        f"must be at most {TIMEOUT_MAX} seconds",
        _R,
        f"the reference: {DEFAULT_TIMEOUT} seconds by default, {TIMEOUT_MAX} at most",
    ),
    Rule(
        "timeout.min",
        "timeout",
        f"must be at least {TIMEOUT_MIN} second",
        _A,
        "no source gives a minimum; a timeout of 0 seconds or less could never be met",
    ),
    Rule(
        "header.key.not_empty",
        "headers[].key",
        "must not be empty",
        _C,
        "the official client's models require a length of at least 1",
    ),
    Rule(
        "header.value.not_empty",
        "headers[].value",
        "must not be empty (None keeps a protected value)",
        _C,
        "the official client's models require a length of at least 1 (None is allowed)",
    ),
    Rule(
        "label.key.not_empty",
        "labels (keys)",
        "keys must not be empty",
        _A,
        "no source says whether an empty label key is accepted",
    ),
    # --- request arguments ----------------------------------------------------------------
    Rule(
        "path.segment",
        "project_name, webhook_name, test_id",
        "must be a non-empty string",
        _R,
        "each fills a segment of an endpoint's path in the reference; an "
        "empty one would name another route",
    ),
    Rule(
        "labels_filter.format",
        "webhooks_list labels (keys and values)",
        "keys and values must be non-empty strings without ',' or ':'",
        _A,
        "the filter is written key:value,key2:value2; a ',' or ':' inside would change "
        "its meaning, and no source says how to escape one",
    ),
)
"""Every rule, in the order the documentation lists them."""

_BY_KEY: Final = {r.key: r for r in RULES}


def rule(key: str) -> Rule:
    """The rule called ``key`` (a KeyError names a rule missing from the table)."""
    return _BY_KEY[key]


def markdown_table() -> str:
    """The rules as the Markdown table that ``docs/reference/models.md`` shows."""
    lines = [
        "| field | rule | source | why |",
        "| --- | --- | --- | --- |",
    ]
    for r in RULES:
        cells = [r.fields, r.text, str(r.source), r.basis]
        if not r.enforced:
            cells[1] += " (not enforced)"
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)
