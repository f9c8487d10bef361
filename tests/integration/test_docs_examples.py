"""Every example in the documentation runs and prints what its page says it prints.

How the pages hold examples (see CONTRIBUTING.md):

- A ```python block whose only line is ``--8<-- "examples/NAME.py"`` shows an example
  script from ``docs/examples/``. Each script is run here as a subprocess; the
  ```text title="Output"``` block that follows its include on the page is what it must
  print (``...`` inside a line stands for any text, a line of only ``...`` for any lines).
- ``docs/examples/test_*.py`` are pytest modules: they are run with pytest here.
- Any other ```python block is run as a script (and checked against an Output block
  if one follows), with ``UBIOPS_API_HOST`` and ``UBIOPS_API_TOKEN`` set to a fresh
  emulator, which stands in for the real API; ```pycon blocks are run as doctests.
- A block that cannot run here is preceded by ``<!-- not executed: REASON -->``.

The command-line guide's ```console blocks are run by ``test_docs_cli.py``.
"""

from __future__ import annotations

import difflib
import doctest
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aioubiwebhooks.emulator import EmulatorThread

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
TIMEOUT = 120.0
PYTHON_LANGS = frozenset({"python", "py", "python3"})
NOT_EXECUTED = "not executed:"

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_COMMENT = re.compile(r"^\s*<!--\s*(?P<text>.*?)\s*-->\s*$")
_TITLE = re.compile(r'title="(?P<title>[^"]*)"')
_INCLUDE = re.compile(r'^-{1,2}8<-{1,2}\s+"(?P<path>[^"]+)"$')


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int  # of the opening fence, 1-based
    lang: str
    title: str | None
    body: str
    marker: str | None  # the HTML comment on the line(s) right before the fence

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(DOCS).as_posix()}:{self.line}"

    @property
    def include(self) -> str | None:
        """The snippet path when the block is one include line, else None."""
        lines = [line.strip() for line in self.body.strip().splitlines()]
        if len(lines) == 1 and (match := _INCLUDE.match(lines[0])):
            return match["path"]
        return None

    @property
    def not_executed(self) -> bool:
        return self.marker is not None and self.marker.startswith(NOT_EXECUTED)

    @property
    def is_output(self) -> bool:
        return self.title == "Output"


@dataclass(frozen=True)
class Comment:
    """An HTML comment on a line of its own (a directive for a test, invisible on the site)."""

    page: Path
    line: int
    text: str


def parse_page(page: Path) -> list[Block | Comment]:
    """The page's fenced blocks and stand-alone comments, in order."""
    items: list[Block | Comment] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    last_comment: tuple[int, str] | None = None  # (line index, text) of the latest comment
    while index < len(lines):
        line = lines[index]
        opening = _FENCE.match(line)
        if opening is None:
            comment = _COMMENT.match(line)
            if comment is not None:
                last_comment = (index, comment["text"])
                items.append(Comment(page, index + 1, comment["text"]))
            elif line.strip():
                last_comment = None
            index += 1
            continue
        indent, fence, info = opening["indent"], opening["fence"], opening["info"].strip()
        body: list[str] = []
        index += 1
        while index < len(lines):
            closing = lines[index]
            if closing.strip().startswith(fence[0] * len(fence)) and not closing.strip().strip(
                fence[0]
            ):
                break
            body.append(closing[len(indent) :] if closing.startswith(indent) else closing)
            index += 1
        else:
            raise AssertionError(f"{page}:{index}: a code block is never closed")
        start = index - len(body)  # 1-based line number of the opening fence
        title = _TITLE.search(info)
        marker = last_comment[1] if last_comment is not None else None
        items.append(
            Block(
                page=page,
                line=start,
                lang=info.split()[0].lower() if info else "",
                title=title["title"] if title else None,
                body="\n".join(body) + "\n",
                marker=marker,
            )
        )
        last_comment = None
        index += 1
    return items


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def all_blocks() -> Iterator[Block]:
    for page in pages():
        yield from (item for item in parse_page(page) if isinstance(item, Block))


def output_after(page: Path, block: Block) -> Block | None:
    """The Output block that follows ``block`` on its page, if the next block is one."""
    blocks = [item for item in parse_page(page) if isinstance(item, Block)]
    position = blocks.index(block)
    if position + 1 < len(blocks) and blocks[position + 1].is_output:
        return blocks[position + 1]
    return None


# --- comparing what was printed with what the page shows --------------------------------------


def _line_matches(pattern: str, line: str) -> bool:
    regex = ".*?".join(re.escape(part) for part in pattern.split("..."))
    return re.fullmatch(regex, line) is not None


def lines_match(expected: list[str], actual: list[str]) -> bool:
    """``expected`` with ``...`` as wildcards (in a line, or a whole line for any lines)."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head.strip() == "...":
        return any(lines_match(rest, actual[start:]) for start in range(len(actual) + 1))
    return bool(actual) and _line_matches(head, actual[0]) and lines_match(rest, actual[1:])


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def check_output(expected: str, actual: str, where: str) -> None:
    want, got = _lines(expected), _lines(actual)
    if not lines_match(want, got):
        diff = "\n".join(difflib.unified_diff(want, got, "page", "printed", lineterm=""))
        raise AssertionError(f"{where}: the output differs from the page\n{diff}")


def clean_env() -> dict[str, str]:
    """The environment for examples: no real API settings can leak into them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UBIOPS_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["COLUMNS"] = "80"
    return env


def run_python(
    args: list[str], cwd: Path, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env={**clean_env(), **(extra_env or {})},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


# --- what the pages hold ----------------------------------------------------------------------

SCRIPTS = sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("test_"))
PYTEST_MODULES = sorted(EXAMPLES.glob("test_*.py"))
INLINE = [
    b
    for b in all_blocks()
    if b.lang in PYTHON_LANGS and b.include is None and not b.not_executed and not b.is_output
]
PYCON_PAGES = sorted({b.page for b in all_blocks() if b.lang == "pycon" and not b.not_executed})


def includes_of(path: Path) -> list[Block]:
    target = path.relative_to(DOCS).as_posix()
    return [b for b in all_blocks() if b.include in (target, f"docs/{target}")]


def test_the_docs_have_examples() -> None:
    assert len(SCRIPTS) >= 10
    assert PYTEST_MODULES


def test_every_python_block_is_executed_or_marked() -> None:
    problems = []
    for block in all_blocks():
        if block.lang not in PYTHON_LANGS and block.lang != "pycon":
            continue
        if block.not_executed:
            reason = (block.marker or "")[len(NOT_EXECUTED) :].strip()
            if not reason:
                problems.append(f"{block.where}: '{NOT_EXECUTED}' needs a reason")
        elif block.include is not None:
            target = DOCS / block.include.removeprefix("docs/")
            if target.parent != EXAMPLES or not target.is_file():
                problems.append(
                    f"{block.where}: includes {block.include}, not a docs/examples file"
                )
        elif "--8<--" in block.body:
            problems.append(f"{block.where}: an include must be the block's only line")
    assert not problems, "\n".join(problems)


def test_every_example_file_is_shown_on_a_page() -> None:
    missing = [p.name for p in [*SCRIPTS, *PYTEST_MODULES] if not includes_of(p)]
    assert not missing, f"examples no page includes: {missing}"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_example_prints_what_its_page_shows(script: Path, tmp_path: Path) -> None:
    shown = [(block, output_after(block.page, block)) for block in includes_of(script)]
    outputs = [(block, output) for block, output in shown if output is not None]
    assert outputs, f"no page shows the output of {script.name} (a text block titled Output)"
    result = run_python([str(script)], tmp_path)
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout}\n{result.stderr}"
    for block, output in outputs:
        check_output(output.body, result.stdout, block.where)


@pytest.mark.parametrize("module", PYTEST_MODULES, ids=lambda p: p.stem)
def test_pytest_example_passes(module: Path) -> None:
    tests = len(re.findall(r"^(?:async )?def test_", module.read_text(), flags=re.MULTILINE))
    result = run_python(["-m", "pytest", str(module), "-q", "-p", "no:cacheprovider"], ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{tests} passed" in result.stdout, result.stdout


@pytest.mark.parametrize("block", INLINE, ids=lambda b: b.where)
def test_inline_python_block_runs(block: Block, tmp_path: Path) -> None:
    script = tmp_path / "block.py"
    script.write_text(block.body, encoding="utf-8")
    with EmulatorThread() as api:  # stands in for the real API the block talks to
        result = run_python(
            [str(script)], tmp_path, {"UBIOPS_API_HOST": api.url, "UBIOPS_API_TOKEN": api.token}
        )
    assert result.returncode == 0, f"{block.where} failed:\n{result.stdout}\n{result.stderr}"
    output = output_after(block.page, block)
    if output is not None:
        check_output(output.body, result.stdout, block.where)


@pytest.mark.parametrize("page", PYCON_PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_pycon_blocks_hold(page: Path) -> None:
    """A page's pycon blocks are one interpreter session, run in order."""
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    names: dict[str, object] = {}
    report: list[str] = []
    for block in parse_page(page):
        if isinstance(block, Block) and block.lang == "pycon" and not block.not_executed:
            test = parser.get_doctest(block.body, names, block.where, str(page), block.line)
            runner.run(test, out=report.append, clear_globs=False)
            names = test.globs  # the next block goes on where this one stopped
    assert runner.tries > 0
    assert runner.failures == 0, "".join(report)


# --- the checker itself -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        (["a", "b"], ["a", "b"], True),
        (["a", "b"], ["a", "c"], False),
        (["a"], ["a", "b"], False),
        (["id: ..."], ["id: 6fd2f710"], True),
        (["x ... y"], ["x 1 2 y"], True),
        (["x ... y"], ["x 1 2 z"], False),
        (["a", "...", "z"], ["a", "b", "c", "z"], True),
        (["a", "...", "z"], ["a", "z"], True),
        (["a", "...", "z"], ["a", "b"], False),
    ],
)
def test_wildcards(expected: list[str], actual: list[str], ok: bool) -> None:
    assert lines_match(expected, actual) is ok


def test_parser_finds_blocks_markers_and_includes(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n"
        '```python title="examples/x.py"\n--8<-- "examples/x.py"\n```\n\n'
        '```text title="Output"\nhello\n```\n\n'
        "<!-- not executed: needs the real API -->\n"
        "```python\nimport x\n```\n\n"
        "!!! note\n\n    ```pycon\n    >>> 1 + 1\n    2\n    ```\n",
        encoding="utf-8",
    )
    blocks = [item for item in parse_page(page) if isinstance(item, Block)]
    assert [(b.lang, b.line) for b in blocks] == [
        ("python", 3),
        ("text", 7),
        ("python", 12),
        ("pycon", 18),
    ]
    assert blocks[0].include == "examples/x.py"
    assert output_after(page, blocks[0]) == blocks[1]
    assert blocks[2].not_executed
    assert not blocks[0].not_executed
    assert blocks[3].body == ">>> 1 + 1\n2\n"
