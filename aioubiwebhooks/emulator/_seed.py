"""What the emulator starts with: projects holding deployments and pipelines with versions.

The webhooks API refers to deployments and pipelines it does not manage itself, so
the emulator must be told which ones exist. A seed is plain JSON of one fixed shape::

    {"projects": {"proj-a": {"deployments": {"dep-1": ["v1", "v2"]},
                             "pipelines": {"pipe-1": ["v1"]}}}}

The first version listed is the default one. A malformed seed is refused with a
:class:`SeedError` whose message names the offending place, so a typo in a seed
file is found at start-up rather than as a puzzling 404 later.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import attrs

__all__ = ["DEFAULT_SEED", "ProjectSeed", "Seed", "SeedError", "load_seed", "parse_seed"]


class SeedError(ValueError):
    """A seed is not of the documented shape; the message says where and why."""


@attrs.frozen
class ProjectSeed:
    """The deployments and pipelines of one project, each with its versions (default first)."""

    deployments: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    pipelines: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)


@attrs.frozen
class Seed:
    """Projects by name. Build it with :func:`parse_seed` to have it checked."""

    projects: Mapping[str, ProjectSeed] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The seed in its JSON shape (what :func:`parse_seed` reads)."""
        return {
            "projects": {
                name: {
                    "deployments": {k: list(v) for k, v in project.deployments.items()},
                    "pipelines": {k: list(v) for k, v in project.pipelines.items()},
                }
                for name, project in self.projects.items()
            }
        }


DEFAULT_SEED: Final = Seed(
    projects={
        "demo": ProjectSeed(
            deployments={"demo-deployment": ("v1",)},
            pipelines={"demo-pipeline": ("v1",)},
        )
    }
)
"""Used when no seed is given: project ``demo`` with ``demo-deployment`` and ``demo-pipeline``."""


def _name(where: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SeedError(f"{where}: names must be non-empty strings (got {value!r:.60})")
    return value


def _versions(where: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise SeedError(f"{where}: must be a non-empty list of version names (got {value!r:.60})")
    versions = tuple(_name(f"{where}[{i}]", item) for i, item in enumerate(value))
    if len(set(versions)) != len(versions):
        raise SeedError(f"{where}: version names must be unique (got {list(versions)!r:.60})")
    return versions


def _objects(where: str, value: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise SeedError(f"{where}: must be an object of name -> list of versions")
    return {
        _name(where, name): _versions(f"{where}[{name!r}]", versions)
        for name, versions in value.items()
    }


def _project(where: str, value: object) -> ProjectSeed:
    if not isinstance(value, dict):
        raise SeedError(f"{where}: must be an object with 'deployments' and/or 'pipelines'")
    unknown = sorted(set(value) - {"deployments", "pipelines"})
    if unknown:
        raise SeedError(
            f"{where}: unknown key {unknown[0]!r} (expected 'deployments', 'pipelines')"
        )
    return ProjectSeed(
        deployments=_objects(f"{where}.deployments", value.get("deployments", {})),
        pipelines=_objects(f"{where}.pipelines", value.get("pipelines", {})),
    )


def parse_seed(data: object) -> Seed:
    """A checked :class:`Seed` from decoded JSON; raises :class:`SeedError` naming the fault."""
    if isinstance(data, Seed):
        return data
    if not isinstance(data, dict):
        raise SeedError("seed: must be a JSON object with a 'projects' key")
    unknown = sorted(set(data) - {"projects"})
    if unknown:
        raise SeedError(f"seed: unknown key {unknown[0]!r} (expected only 'projects')")
    if "projects" not in data:
        raise SeedError("seed: 'projects' is required")
    projects = data["projects"]
    if not isinstance(projects, dict):
        raise SeedError("projects: must be an object of project name -> project")
    return Seed(
        projects={
            _name("projects", name): _project(f"projects[{name!r}]", project)
            for name, project in projects.items()
        }
    )


def load_seed(path: str | Path) -> Seed:
    """Read and check a seed file; every failure is a :class:`SeedError` naming the file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SeedError(f"{file}: cannot read seed file ({error})") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise SeedError(f"{file}: not valid JSON ({error})") from None
    try:
        return parse_seed(data)
    except SeedError as error:
        raise SeedError(f"{file}: {error}") from None
