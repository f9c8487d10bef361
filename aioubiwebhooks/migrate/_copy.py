"""Copying webhooks between projects and hosts: export, rename, rewrite URLs, plan, apply."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeAlias

from .._endpoints import WebhooksAPI
from ..bulk import DEFAULT_CONCURRENCY, BulkStop, ProgressHook
from ..errors import ValidationError
from ._apply import apply
from ._diff import decide
from ._export import export, read_stored
from ._results import CopyResult
from ._spec import parse_specs, resolve_spec
from ._values import ProtectedValues

__all__ = ["Renamer", "copy"]

Renamer: TypeAlias = Mapping[str, str] | Callable[[str], str]
"""Old name -> new name, as a mapping (names not in it stay) or a function."""


def _renamer(rename: Renamer | Sequence[Renamer] | None) -> Callable[[str], str]:
    if rename is None:
        steps: list[Renamer] = []
    elif isinstance(rename, Mapping) or callable(rename):
        steps = [rename]
    elif isinstance(rename, (list, tuple)):
        steps = list(rename)
    else:
        raise ValidationError(
            "rename", "must be a mapping of old to new names, a function, or a list of them", rename
        )
    for index, step in enumerate(steps):
        if not (isinstance(step, Mapping) or callable(step)):
            raise ValidationError(f"rename[{index}]", "must be a mapping or a function", step)

    def renamed(name: str) -> str:
        for step in steps:
            name = step.get(name, name) if isinstance(step, Mapping) else step(name)
        return name

    return renamed


def _rewrites(rewrite_urls: Iterable[tuple[str, str]] | Mapping[str, str]) -> list[tuple[str, str]]:
    pairs = list(rewrite_urls.items()) if isinstance(rewrite_urls, Mapping) else list(rewrite_urls)
    for index, pair in enumerate(pairs):
        if (
            not isinstance(pair, tuple)
            or len(pair) != 2
            or not all(isinstance(p, str) for p in pair)
            or not pair[0]
        ):
            raise ValidationError(
                f"rewrite_urls[{index}]", "must be a pair of URL prefixes (old, new)", pair
            )
    return pairs


def _rewrite(url: str, pairs: Sequence[tuple[str, str]]) -> str:
    for old, new in pairs:
        if url.startswith(old):
            return new + url[len(old) :]
    return url


async def copy(
    source_api: WebhooksAPI,
    source_project: str,
    target_api: WebhooksAPI,
    target_project: str,
    *,
    rename: Renamer | Sequence[Renamer] | None = None,
    rewrite_urls: Iterable[tuple[str, str]] | Mapping[str, str] = (),
    protected_values: Mapping[str, str] | None = None,
    prune: bool = False,
    dry_run: bool = False,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: ProgressHook | None = None,
    environ: Mapping[str, str] | None = None,
    stop: BulkStop | None = None,
) -> CopyResult:
    """Copy webhooks from one project (and host) to another: export, plan, apply.

    ``rename``: a mapping old -> new, a function, or a list of them applied in turn.
    ``rewrite_urls``: ``(old_prefix, new_prefix)`` pairs; the first match rewrites a
    URL. ``protected_values``: the values the source cannot reveal, by header key
    (every webhook) or ``"webhook-name/Header-Key"`` (source or target name; wins over
    the key alone), usually ``${VAR}`` references resolved from ``environ``.
    Without them, webhooks needing them are blocked and PlanBlockedError is raised
    before the target is changed. ``dry_run`` stops after the plan; ``stop`` ends the
    apply early (see :func:`~aioubiwebhooks.migrate.apply`).
    """
    renamed = _renamer(rename)
    pairs = _rewrites(rewrite_urls)
    values = ProtectedValues.parse(protected_values)
    env = os.environ if environ is None else environ
    exported = await export(source_api, source_project)
    moved = [
        {**spec, "name": renamed(spec["name"]), "url": _rewrite(spec["url"], pairs)}
        for spec in exported
    ]
    desired = [
        resolve_spec(spec, env, values, names=(spec.name, source["name"]))
        for spec, source in zip(parse_specs(moved), exported, strict=True)
    ]
    stored = await read_stored(target_api, target_project)
    the_plan = decide(target_project, desired, stored, prune=prune)
    if dry_run:
        return CopyResult(the_plan)
    result = await apply(
        target_api, the_plan, concurrency=concurrency, progress=progress, stop=stop
    )
    return CopyResult(the_plan, result)
