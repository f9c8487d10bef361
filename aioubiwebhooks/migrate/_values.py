"""Protected header values in specs: ``${VAR}`` references, values given by key, and
the explicit "unknown".

The API never shows a protected value, so a spec either gives one (literally, or as a
reference to an environment variable, which keeps the secret out of the file) or does
not know it. Resolving turns every protected value into a string or an
:class:`UnknownValue`; there is one set of rules for it, used by every caller.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

import attrs

from ..errors import ValidationError

__all__ = ["ProtectedValues", "UnknownValue", "references", "resolve", "substitute"]

_REFERENCE: Final = re.compile(r"\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)\}")


def references(value: str) -> tuple[str, ...]:
    """The variable names a value refers to as ``${NAME}`` (``$${NAME}`` is a literal)."""
    return tuple(m.group(2) for m in _REFERENCE.finditer(value) if m.group(1) is None)


def substitute(value: str, environ: Mapping[str, str]) -> tuple[str | None, tuple[str, ...]]:
    """``value`` with its references filled in, or None and the variables that are unset.

    An empty variable counts as unset: the API refuses an empty header value.
    """
    missing = tuple(dict.fromkeys(name for name in references(value) if not environ.get(name)))
    if missing:
        return None, missing

    def fill(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return "${" + match.group(2) + "}"
        return environ[match.group(2)]

    return _REFERENCE.sub(fill, value), ()


@attrs.frozen
class UnknownValue:
    """A protected header value nobody supplied: none was given, or ``variables`` are unset.

    It is never sent as a value. An update sends null in its place, which keeps the
    stored value; a create cannot, so a webhook that needs one is blocked.
    """

    header: str
    variables: tuple[str, ...] = ()

    def describe(self) -> str:
        """``header 'Authorization': variable HOOK_TOKEN not set``, for messages."""
        if self.variables:
            names = ", ".join(self.variables)
            plural = "s" if len(self.variables) > 1 else ""
            return f"header {self.header!r}: variable{plural} {names} not set"
        return f"header {self.header!r}: no value given"


def resolve(given: str | None, header: str, environ: Mapping[str, str]) -> str | UnknownValue:
    """A protected value as given (None: unknown) with its references filled in."""
    if given is None:
        return UnknownValue(header)
    value, missing = substitute(given, environ)
    return UnknownValue(header, missing) if value is None else value


@attrs.frozen(repr=False)
class ProtectedValues:
    """Values for protected headers a spec leaves unknown, by header key (any webhook) or
    by ``"webhook-name/Header-Key"`` (that webhook only, which wins). Keys match without
    regard to case, as HTTP header names do."""

    by_webhook: Mapping[tuple[str, str], str] = attrs.field(factory=dict)
    by_key: Mapping[str, str] = attrs.field(factory=dict)

    @classmethod
    def parse(cls, values: Mapping[str, str] | None) -> ProtectedValues:
        """Checked ``protected_values``; ValidationError (never showing a value) if malformed."""
        if values is None:
            return cls()
        if not isinstance(values, Mapping):
            raise ValidationError("protected_values", "must be a mapping", None, secret=True)
        by_webhook: dict[tuple[str, str], str] = {}
        by_key: dict[str, str] = {}
        for ref, value in values.items():
            name, sep, key = ref.rpartition("/") if isinstance(ref, str) else ("", "", "")
            if not key or (sep and not name) or not isinstance(value, str) or not value:
                raise ValidationError(
                    f"protected_values[{ref!r:.80}]",
                    "must map 'Header-Key' or 'webhook-name/Header-Key' to a non-empty string",
                    None,
                    secret=True,
                )
            if sep:
                by_webhook[(name, key.lower())] = value
            else:
                by_key[key.lower()] = value
        return cls(by_webhook, by_key)

    def __repr__(self) -> str:
        refs = [f"{name}/{key}" for name, key in self.by_webhook] + list(self.by_key)
        return f"ProtectedValues({refs!r}, values=<hidden>)"

    def __bool__(self) -> bool:
        return bool(self.by_webhook or self.by_key)

    def lookup(self, names: Sequence[str], key: str) -> str | None:
        """The value for header ``key`` of the webhook known by ``names`` (first match wins)."""
        folded = key.lower()
        for name in names:
            found = self.by_webhook.get((name, folded))
            if found is not None:
                return found
        return self.by_key.get(folded)
