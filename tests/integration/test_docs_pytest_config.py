"""The pytest configuration the testing guide gives runs its example free of warnings."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from test_docs_examples import DOCS, EXAMPLES, Block, parse_page, run_python

PAGE = DOCS / "guides" / "testing.md"


def documented_configuration() -> str:
    blocks = [b for b in parse_page(PAGE) if isinstance(b, Block) and b.title == "pyproject.toml"]
    assert len(blocks) == 1, "the testing guide shows one pyproject.toml"
    return blocks[0].body


def test_the_documented_configuration_runs_with_warnings_as_errors(tmp_path: Path) -> None:
    project = tmp_path
    configuration = documented_configuration()
    assert "asyncio_default_fixture_loop_scope" in configuration
    (project / "pyproject.toml").write_text(configuration, encoding="utf-8")
    example = EXAMPLES / "test_my_app.py"
    shutil.copy(example, project / example.name)
    result = run_python(["-m", "pytest", "-W", "error", "-p", "no:cacheprovider", "-q"], project)
    tests = len(re.findall(r"^(?:async )?def test_", example.read_text(), flags=re.MULTILINE))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"{tests} passed" in result.stdout
    assert "warning" not in result.stdout.lower()
