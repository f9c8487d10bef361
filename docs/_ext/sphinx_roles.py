"""A griffe extension for the API reference: reST habits of the docstrings, made Markdown.

The package's docstrings are written for people reading the source, with two reST
habits that Markdown would show literally:

- roles such as ``:class:`~x.Y``` become optional cross-references: a link when the
  target is documented on some page, plain code otherwise (so an undocumented private
  target never breaks ``mkdocs build --strict``);
- a paragraph ending in ``::`` introduces a literal block: the marker is dropped (a
  lone ``::`` line) or reduced to ``:``, and the indented block then renders as code.

Two more things make classes read better:

- attrs classes get the ``__init__`` signature attrs generates at run time (from their
  fields, with defaults, without converters), and the fields leave the member list;
- instance attributes set in a method and without a docstring of their own are left
  out: their class docstring describes them, and ``field = field`` adds nothing.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import griffe

_ROLE = re.compile(
    r":(?:py:)?(?:class|func|meth|attr|data|mod|exc|obj):`(?P<tilde>~?)(?P<target>[^`]+)`"
)
_LITERAL_MARKER = re.compile(r"(?m)^(?P<indent>[ \t]*)::[ \t]*$|(?<=\S)::[ \t]*$")


def _absolute(obj: griffe.Object, target: str) -> str:
    """The full dotted path of ``target`` as seen from ``obj``, or ``target`` unchanged."""
    if target.startswith("."):
        dots = len(target) - len(target.lstrip("."))
        package = obj.module.path.split(".")
        base = package[: len(package) - dots + (1 if obj.module.is_init_module else 0)]
        return ".".join([*base, target.lstrip(".")])
    if target.startswith("aioubiwebhooks."):
        return target
    first, _, rest = target.partition(".")
    scope = obj if isinstance(obj, (griffe.Class, griffe.Module)) else obj.parent
    if scope is None:
        return target
    try:
        found = scope.resolve(first)
    except griffe.NameResolutionError:
        return target
    return f"{found}.{rest}" if rest else found


def _roles(obj: griffe.Object, text: str) -> str:
    def link(match: re.Match[str]) -> str:
        target = match["target"]
        title = target.rsplit(".", 1)[-1] if match["tilde"] else target.lstrip(".")
        identifier = _absolute(obj, target)
        return f'<autoref identifier="{identifier}" optional><code>{title}</code></autoref>'

    return _ROLE.sub(link, text)


def _literal_blocks(text: str) -> str:
    def marker(match: re.Match[str]) -> str:
        return "" if match["indent"] is not None else ":"

    return _LITERAL_MARKER.sub(marker, text)


_ATTRS_DECORATORS = ("attrs.frozen", "attrs.define", "attrs.mutable", "attr.s", "attr.attrs")


def _attrs_decorator(cls: griffe.Class) -> str | None:
    for decorator in cls.decorators:
        text = str(decorator.value)
        if text.split("(", 1)[0] in _ATTRS_DECORATORS:
            return text
    return None


def _in_method(cls: griffe.Class, member: griffe.Object | griffe.Alias) -> bool:
    """Whether ``member`` was assigned inside one of the class's functions (``self.x = ...``)."""
    if member.lineno is None:
        return False
    return any(
        function.is_function
        and function.lineno is not None
        and function.endlineno is not None
        and function.lineno <= member.lineno <= function.endlineno
        for function in cls.members.values()
        if not function.is_alias
    )


_FIELDS: dict[str, list[griffe.Attribute]] = {}
"""Fields by class path, kept because a class's own field members are removed later."""


def _fields(cls: griffe.Class) -> list[griffe.Attribute]:
    """The attrs fields of ``cls``, inherited ones first, in definition order."""
    if cls.path in _FIELDS:
        return _FIELDS[cls.path]
    fields: dict[str, griffe.Attribute] = {}
    root = cls.package
    for base in cls.bases:
        path = str(getattr(base, "canonical_path", base))
        try:
            parent = root[path.removeprefix(root.path + ".")]
        except (KeyError, ValueError):
            continue
        if isinstance(parent, griffe.Class) and _attrs_decorator(parent):
            fields.update((f.name, f) for f in _fields(parent))
    for member in cls.members.values():
        if (
            isinstance(member, griffe.Attribute)
            and member.annotation is not None
            and "instance-attribute" in member.labels  # not a ClassVar, not a property
            and not member.name.startswith("_")
            and not _in_method(cls, member)
        ):
            fields[member.name] = member
    _FIELDS[cls.path] = list(fields.values())
    return _FIELDS[cls.path]


def _default(value: object) -> tuple[bool, str | None]:
    """(has a default, the default as source text) of a field's assigned value."""
    if value is None:
        return False, None
    text = str(value)
    if not text.startswith(("attrs.field(", "attr.ib(")):
        return True, text
    call = ast.parse(text, mode="eval").body
    assert isinstance(call, ast.Call)
    for keyword in call.keywords:
        if keyword.arg == "default":
            return True, ast.unparse(keyword.value)
        if keyword.arg == "factory":
            return True, f"{ast.unparse(keyword.value)}()"
    return False, None


def _attrs_init(cls: griffe.Class, decorator: str) -> None:
    """Give an attrs class the ``__init__`` attrs generates, and drop its field members."""
    keyword_only = "kw_only=True" in decorator.replace(" ", "")
    kind = griffe.ParameterKind("keyword-only" if keyword_only else "positional or keyword")
    parameters = griffe.Parameters(griffe.Parameter("self", kind=kind))
    for field in _fields(cls):
        has_default, default = _default(field.value)
        parameters.add(
            griffe.Parameter(
                field.name,
                annotation=field.annotation,
                kind=kind,
                default=default if has_default else None,
            )
        )
        if field.parent is cls and field.docstring is None:
            del cls.members[field.name]
    init = griffe.Function("__init__", parameters=parameters, returns="None", lineno=cls.lineno)
    cls.set_member("__init__", init)


def _undocumented_instance_attribute(
    cls: griffe.Class, member: griffe.Object | griffe.Alias
) -> bool:
    return (
        not member.is_alias
        and member.is_attribute
        and "instance-attribute" in member.labels
        and member.docstring is None
        and _in_method(cls, member)
    )


def _walk(obj: griffe.Object) -> None:
    if obj.docstring is not None:
        text = obj.docstring.value
        if ":`" in text:
            text = _roles(obj, text)
        if "::" in text:
            text = _literal_blocks(text)
        obj.docstring.value = text
    if isinstance(obj, griffe.Class):
        for name, member in list(obj.members.items()):
            if _undocumented_instance_attribute(obj, member):
                del obj.members[name]
        decorator = _attrs_decorator(obj)
        if decorator is not None and "__init__" not in obj.members:
            _attrs_init(obj, decorator)
    for member in list(obj.members.values()):
        if not member.is_alias:
            _walk(member)  # type: ignore[arg-type]


class SphinxRoles(griffe.Extension):
    """Rewrite reST roles and literal-block markers in every docstring of the package."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        _FIELDS.clear()  # a fresh load (``mkdocs serve`` reloads) starts from scratch
        _walk(pkg)
