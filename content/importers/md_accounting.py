"""The accounting of a Markdown import: every line that became no question, and why.

A person importing a bank must see what was left out, so each run of text outside the
questions (before the first, between questions, after the last, article chrome, a
question in no shape the importer reads) is reported with its lines and a reason.
"""

from __future__ import annotations

import bisect

from content.importers.base import Skipped
from content.importers.md_scan import LOOKS_ASKED, WRAPPER, Doc
from content.importers.md_walk import Open, Walk


def preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 70 else text[:67] + "..."


def skipped_blocks(doc: Doc, walk: Walk) -> list[Skipped]:
    """Every run of text outside the questions, with where it is and why it was left."""
    found: list[Skipped] = []
    if not walk.questions:
        return found
    first = walk.questions[0].cand.start
    last_end = max(q.end for q in walk.questions)
    by_start = sorted(walk.questions, key=lambda q: q.cand.start)
    starts = [q.cand.start for q in by_start]
    run: list[int] = []
    chrome = ""
    opened = {q.cand.start for q in walk.questions}

    def flush() -> None:
        if not run:
            return
        start, end = run[0], run[-1]
        found.append(Skipped(start + 1, end + 1, _reason(doc, walk, run, first, last_end,
                                                       _before(by_start, starts, start), chrome),
                             preview(doc.lines[start])))
        run.clear()

    for n, text in enumerate(doc.lines):
        if n in walk.covered:
            flush()
            if n in doc.headings or n in opened:
                chrome = ""
            continue
        if n in walk.chrome:
            flush()
            chrome = walk.chrome[n]
        if doc.front_matter is not None and n == doc.front_matter[1]:
            flush()
        if WRAPPER.match(text):
            continue  # blank, or only <details>/<summary>/<p> markup: nothing to lose
        if n in walk.rejected or (run and run[-1] in walk.rejected):
            flush()
        run.append(n)
    flush()
    return found


def _before(by_start: list[Open], starts: list[int], line: int) -> Open | None:
    """The last question that starts before `line`."""
    at = bisect.bisect_left(starts, line)
    return by_start[at - 1] if at else None


def _reason(
    doc: Doc,
    walk: Walk,
    run: list[int],
    first: int,
    last_end: int,
    previous: Open | None,
    chrome: str,
) -> str:
    start = run[0]
    if doc.front_matter is not None and doc.front_matter[0] <= start < doc.front_matter[1]:
        return "front matter (document metadata, not questions)"
    if chrome:
        where = "before the first question" if start < first else "after the last question" \
            if start >= last_end else "between questions"
        return f"{where}: the '{chrome}' section is article text, not questions"
    if start in walk.rejected:
        return f"unparseable: looks like a question but is not read as one ({walk.rejected[start]})"
    for n in run:
        text = doc.lines[n]
        if n not in doc.code and LOOKS_ASKED.search(text):
            return (
                f"unparseable: line {n + 1} looks like a question but is in none of the "
                "shapes read (heading, bold line, Qn label, <summary>, numbered line); "
                "mark it like the other questions"
            )
    where = (
        "before the first question"
        if start < first
        else "after the last question"
        if start >= last_end
        else "between questions"
    )
    if previous is not None and previous.closed_at is not None and previous.end <= start:
        where += f", after the <details> block of line {previous.cand.body} (outside its answer)"
    return where
