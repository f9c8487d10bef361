"""The documentation site: every page in the navigation, and a strict build that passes.

The build needs MkDocs, Material and mkdocstrings, which the ``dev`` extra installs, so
the strict build runs with every ``make test``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

import aioubiwebhooks

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CONFIG = ROOT / "mkdocs.yml"


def _nav_pages(nav: Any) -> Iterator[str]:
    if isinstance(nav, str):
        yield nav
    elif isinstance(nav, list):
        for entry in nav:
            yield from _nav_pages(entry)
    elif isinstance(nav, dict):
        for value in nav.values():
            yield from _nav_pages(value)


class _ConfigLoader(yaml.SafeLoader):
    """Reads mkdocs.yml safely; a ``!!python/name:`` tag (a Mermaid fence's format) stays text."""


_ConfigLoader.add_multi_constructor(
    "tag:yaml.org,2002:python/name:", lambda loader, suffix, node: suffix
)


def _config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.load(CONFIG.read_text(encoding="utf-8"), Loader=_ConfigLoader)
    return config


def test_every_page_is_in_the_nav_and_every_nav_entry_exists() -> None:
    listed = set(_nav_pages(_config()["nav"]))
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert pages - listed == set(), "pages missing from the nav in mkdocs.yml"
    assert listed - pages == set(), "nav entries without a page"


def reference_directives() -> dict[str, list[str] | None]:
    """``::: identifier`` of every reference page -> its ``members`` option (None: all)."""
    found: dict[str, list[str] | None] = {}
    for page in sorted((DOCS / "reference").glob("*.md")):
        lines = page.read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            if not line.startswith("::: "):
                continue
            options = []
            for following in lines[index + 1 :]:
                if following and not following.startswith(" "):
                    break
                options.append(following[4:] if following.startswith("    ") else following)
            parsed = yaml.safe_load("\n".join(options)) or {}
            members = parsed.get("options", {}).get("members")
            if members is None or members is True:
                found[line[4:].strip()] = None  # every public member
            else:
                found[line[4:].strip()] = list(members or [])
    return found


def test_every_public_name_is_in_the_reference() -> None:
    import importlib

    import aioubiwebhooks

    shown: set[str] = set()
    for identifier, members in reference_directives().items():
        try:
            module = importlib.import_module(identifier)
        except ImportError:  # a single object, e.g. aioubiwebhooks.Outcome
            shown.add(identifier.rsplit(".", 1)[-1])
            continue
        shown.update(members if members is not None else getattr(module, "__all__", []))
    missing = sorted(set(aioubiwebhooks.__all__) - shown - {"__version__"})
    assert not missing, f"public names the API reference does not show: {missing}"


def test_every_public_module_has_a_reference_page() -> None:
    directives = reference_directives()
    modules = ("session", "models", "errors", "bulk", "migrate", "receiver", "events")
    for module in (*modules, "emulator", "testing", "demo"):
        assert f"aioubiwebhooks.{module}" in directives, module


def test_site_builds_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    # The examples were included, and the reference was generated from the code.
    quickstart = (site / "quickstart" / "index.html").read_text(encoding="utf-8")
    assert "bulk_create" in quickstart
    assert "--8&lt;--" not in quickstart
    session = (site / "reference" / "session" / "index.html").read_text(encoding="utf-8")
    assert 'id="aioubiwebhooks.session.WebhooksSession.webhooks_create"' in session
    assert ":class:`" not in session
    changelog = (site / "changelog" / "index.html").read_text(encoding="utf-8")
    assert aioubiwebhooks.__version__ in changelog
