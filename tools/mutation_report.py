"""Rewrite docs/mutation.md from the results of the last mutation run.

Reads mutmut's results (``mutants/*.meta``) and the hand-made mutants' results
(``mutants/hand-mutants.json``, written by ``tools/hand_mutants.py``), then rewrites
in ``docs/mutation.md``: the ``killed K of N (P%)`` line at the top, the table by
module, the hand-made mutants and the list of survivors. Everything else on the page
is left as written.

A survivor is known by a key that does not change while its line does not: the module,
the function and a digest of the lines the mutant removes and adds (mutmut's own ids
are numbers that move whenever a function changes). The reason written beside a key
is kept from one run to the next; a survivor nobody has explained yet is listed with
``(unexplained)``.

Exits 1 when the score is below ``--min-score``, a survivor is unexplained, a
hand-made mutant survived or the run was not finished; the page is rewritten anyway.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hand_mutants import HAND_MUTANTS
from mutmut.configuration import config
from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files

__all__ = ["Mutant", "main", "render", "survivor_key"]

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "mutation.md"
HAND_RESULTS = ROOT / "mutants" / "hand-mutants.json"
UNEXPLAINED = "(unexplained)"

KILLED = frozenset({"killed", "timeout", "caught by type check", "segfault"})
"""A timeout is a kill (the mutant made a test hang), so is a crash of the test process."""
NOT_KILLED = frozenset({"survived", "no tests", "suspicious", "skipped"})
"""Anything else (``not checked``, interrupted) means the run did not finish."""

SCORE_LINE = re.compile(r"^killed \d+ of \d+ \([\d.]+%\)$", re.MULTILINE)
TIME_LINE = re.compile(r"^`make mutate` took .*$", re.MULTILINE)
ROW = re.compile(r"^\| `(?P<key>[^`]+)` \| .* \| (?P<reason>[^|]*) \|$")


@dataclass(frozen=True)
class Mutant:
    """One mutant of the tool's run: its id, where it is, what became of it."""

    name: str
    path: str
    status: str

    @property
    def module(self) -> str:
        return self.name.split(".x", 1)[0].removeprefix("aioubiwebhooks.")

    @property
    def function(self) -> str:
        mangled = self.name.rpartition(".")[2].rsplit("__mutmut_", 1)[0]
        if mangled.startswith("x_"):
            return mangled[2:]
        return ".".join(part for part in mangled.split("ǁ")[1:] if part)


def _changed_lines(diff: str) -> tuple[list[str], list[str]]:
    removed, added = [], []
    for line in diff.splitlines():
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("-"):
            removed.append(line[1:].strip())
        elif line.startswith("+"):
            added.append(line[1:].strip())
    return removed, added


def survivor_key(mutant: Mutant, diff: str) -> str:
    """``module.function#digest``: stable while the mutated lines stay as they are."""
    removed, added = _changed_lines(diff)
    digest = hashlib.sha256("\n".join([*removed, "=>", *added]).encode()).hexdigest()[:8]
    return f"{mutant.module}.{mutant.function}#{digest}"


def _code(text: str, limit: int = 90) -> str:
    text = text if len(text) <= limit else text[: limit - 3] + "..."
    fence = "``" if "`" in text else "`"
    return f"{fence}{text.replace('|', '&#124;')}{fence}"


def _change(diff: str) -> str:
    removed, added = _changed_lines(diff)
    before = " ".join(removed) or "(nothing)"
    after = " ".join(added) or "(removed)"
    return f"{_code(before)} → {_code(after)}"


def load_mutants() -> list[Mutant]:
    """Every mutant of every file the configuration mutates, with its status."""
    mutants = []
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for name, exit_code in data.exit_code_by_key.items():
            mutants.append(Mutant(name, str(path), status_by_exit_code[exit_code]))
    return mutants


def _reasons(page: str) -> dict[str, str]:
    reasons = {}
    for line in page.splitlines():
        match = ROW.match(line)
        if match and match["reason"].strip() != UNEXPLAINED:
            reasons[match["key"]] = match["reason"].strip()
    return reasons


def _replace_block(page: str, name: str, body: str) -> str:
    start, end = f"<!-- mutation-report:{name} -->", f"<!-- /mutation-report:{name} -->"
    before, found, rest = page.partition(start)
    if not found:
        raise LookupError(f"{PAGE.name} has no {start} marker")
    _, _, after = rest.partition(end)
    return f"{before}{start}\n{body}\n{end}{after}"


def _module_table(mutants: Sequence[Mutant]) -> str:
    total: Counter[str] = Counter(m.module for m in mutants)
    killed: Counter[str] = Counter(m.module for m in mutants if m.status in KILLED)
    rows = [
        "| module | mutants | killed | not killed | score |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for module in sorted(total):
        n, k = total[module], killed[module]
        rows.append(f"| `{module}` | {n} | {k} | {n - k} | {100 * k / n:.1f}% |")
    return "\n".join(rows)


def _hand_table(results: Sequence[dict[str, object]]) -> str:
    by_key: dict[str, list[dict[str, object]]] = {}
    for result in results:
        by_key.setdefault(str(result["key"]), []).append(result)
    rows = [
        "| mutant | the promise | tests, each run alone | killed |",
        "| --- | --- | --- | --- |",
    ]
    for mutant in HAND_MUTANTS:
        runs = by_key.get(mutant.key, [])
        tests = "<br>".join(_code(str(r["test"]).rpartition("::")[2], 200) for r in runs)
        killed = sum(1 for r in runs if r["killed"])
        where = f"`{mutant.path.removeprefix('aioubiwebhooks/')}`"
        score = f"{killed} of {len(runs)}"
        rows.append(f"| {mutant.key} ({where}) | {mutant.promise} | {tests} | {score} |")
    return "\n".join(rows)


def render(
    page: str,
    mutants: Sequence[Mutant],
    diffs: dict[str, str],
    hand: Sequence[dict[str, object]],
    elapsed: float | None,
) -> tuple[str, list[str]]:
    """The page rewritten, and the keys of survivors without a reason."""
    killed = sum(1 for m in mutants if m.status in KILLED)
    score = 100 * killed / len(mutants) if mutants else 0.0
    page = SCORE_LINE.sub(f"killed {killed} of {len(mutants)} ({score:.1f}%)", page, count=1)
    if elapsed is not None:
        minutes, seconds = divmod(round(elapsed), 60)
        workers = config_workers()
        line = f"`make mutate` took {minutes} min {seconds:02d} s with {workers} workers."
        page = TIME_LINE.sub(line, page, count=1)
    reasons = _reasons(page)
    rows = ["| key | change | status | reason |", "| --- | --- | --- | --- |"]
    unexplained = []
    survivors = sorted(
        ((survivor_key(m, diffs[m.name]), m) for m in mutants if m.status in NOT_KILLED),
        key=lambda pair: pair[0],
    )
    for key, mutant in survivors:
        reason = reasons.get(key, UNEXPLAINED)
        if reason == UNEXPLAINED:
            unexplained.append(key)
        rows.append(f"| `{key}` | {_change(diffs[mutant.name])} | {mutant.status} | {reason} |")
    page = _replace_block(page, "modules", _module_table(mutants))
    page = _replace_block(page, "hand", _hand_table(hand))
    page = _replace_block(page, "survivors", "\n".join(rows))
    return page, unexplained


def config_workers() -> str:
    """The workers ``make mutate`` runs mutmut with (its MUTATE_WORKERS)."""
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r"^MUTATE_WORKERS \?= (\d+)$", makefile, re.MULTILINE)
    return match[1] if match else "?"


def _unfinished(mutants: Iterable[Mutant]) -> list[str]:
    return [m.name for m in mutants if m.status not in KILLED | NOT_KILLED]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-score", type=float, default=90.0)
    parser.add_argument("--elapsed", type=float, help="seconds the run took, for the page")
    args = parser.parse_args(argv)
    os.chdir(ROOT)  # mutmut finds its configuration and results from the current directory
    config()  # reads [tool.mutmut] from pyproject.toml in the current directory
    mutants = load_mutants()
    if not mutants:
        print("no mutation results: run `make mutate`", file=sys.stderr)
        return 1
    diffs = {
        m.name: get_diff_for_mutant(m.name, path=m.path) for m in mutants if m.status in NOT_KILLED
    }
    hand = json.loads(HAND_RESULTS.read_text()) if HAND_RESULTS.exists() else []
    page, unexplained = render(PAGE.read_text(), mutants, diffs, hand, args.elapsed)
    PAGE.write_text(page)
    killed = sum(1 for m in mutants if m.status in KILLED)
    score = 100 * killed / len(mutants)
    print(f"killed {killed} of {len(mutants)} ({score:.1f}%); {PAGE.relative_to(ROOT)} rewritten")
    problems = []
    if score < args.min_score:
        problems.append(f"the score is below {args.min_score}%")
    if unfinished := _unfinished(mutants):
        problems.append(f"{len(unfinished)} mutants were not checked (the run did not finish)")
    if unexplained:
        problems.append(f"{len(unexplained)} survivors have no reason in the page:")
        problems.extend(f"  {key}" for key in unexplained)
    if not hand:
        problems.append("no results of tools/hand_mutants.py")
    elif survived := [r for r in hand if not r["killed"]]:
        problems.append(f"{len(survived)} hand-made mutants survived a test")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
