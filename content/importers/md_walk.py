"""Where each question of a Markdown document starts and ends, and what its sections are.

The habit used most is the document's; a question in another habit counts too, unless
it is a bold or numbered line inside an answer (a list of follow-up questions is part of
the answer it sits in). Headings that are not questions are sections, article chrome,
or, inside the run of questions and followed by text, part of the answer they interrupt.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from content.importers.md_prompt import is_chrome, topic_name
from content.importers.md_scan import (
    DETAILS_CLOSE,
    DETAILS_OPEN,
    LOOKS_ASKED,
    STYLES,
    WRAPPER,
    Candidate,
    Doc,
    style_candidates,
)
from content.topics import topic_key


@dataclass
class Open:
    """The question being read: where it is, its topic and where its answer ends."""

    cand: Candidate
    topic: str
    end: int = -1  # exclusive; set when the question closes
    closed_at: int | None = None  # the line that closes its <details> block


@dataclass
class Walk:
    """The document cut into questions, sections and what is left over."""

    questions: list[Open] = field(default_factory=list)
    covered: set[int] = field(default_factory=set)
    chrome: dict[int, str] = field(default_factory=dict)  # line -> chrome section title
    rejected: dict[int, str] = field(default_factory=dict)  # line -> why not a question
    absorbed: list[tuple[int, Candidate]] = field(default_factory=list)  # kept in an answer


def walk(doc: Doc, primary: str) -> Walk:
    """Cut the document into questions and sections, by the habit `primary` and the rest."""
    cut = Walk()
    chosen = {c.start: c for c in style_candidates(doc, primary)}
    others: dict[int, Candidate] = {}
    for style in STYLES:
        if style != primary:
            for c in style_candidates(doc, style):
                others.setdefault(c.start, c)
    for c in doc.candidates["heading"]:
        if c.start not in chosen and c.start not in others:
            cut.rejected[c.start] = (
                "a question-like heading without the 'Qn.' label the other questions carry; "
                "read as a section"
            )
    starts = set(chosen) | set(others)
    last = max(starts)
    single_title = _title_line(doc)
    topics: list[tuple[int, str]] = []
    spelling: dict[str, str] = {}
    chrome_title, chrome_level = "", 0
    current: Open | None = None
    events = sorted(starts | set(doc.headings))

    def close(at: int) -> None:
        nonlocal current
        if current is not None:
            current.end = at
            cut.questions.append(current)
            current = None

    for line in events:
        if line in doc.code:
            continue
        cand = chosen.get(line) or others.get(line)
        if (
            cand is not None
            and cand.style == "details"
            and current is not None
            and current.cand.details
            and _answer_open(doc, current, line)
        ):
            cand = None  # a toggle nested inside the answer's own <details> block
        if cand is not None and line not in chosen:
            # A heading, a Qn label or a <summary> always asks; a bold or numbered line
            # in another habit may be part of the answer it sits in, unless the question
            # that answer belongs to was asked the same way (`**1) ...**` then `**2) ...**`:
            # the author's next question, not a follow-up in the answer)
            explicit = cand.style in {"heading", "label", "details"}
            same = current is not None and current.cand.style == cand.style
            inside = (not explicit and not same and current is not None
                      and _answer_open(doc, current, line))
            if inside and current is not None and cand.style == "bold":
                cut.absorbed.append((line, current.cand))
            if inside or chrome_title:
                cand = None  # part of an answer, or of the article around the bank
        if cand is not None:
            close(line)
            current = Open(cand, _topic(topics, cand.level))
            chrome_title = ""
            continue
        if line not in doc.headings:
            continue
        end, level, title, _atx = doc.headings[line]
        if current is not None and _heading_inside(doc, current, line, level, title, starts, last):
            continue
        close(line)
        while topics and topics[-1][0] >= level:
            topics.pop()
        if is_chrome(title) or (line > last and not topic_name(title)):
            chrome_title, chrome_level = " ".join(title.split())[:60], level
            cut.chrome[line] = chrome_title
        elif chrome_title and level > chrome_level:
            cut.chrome[line] = chrome_title  # a sub-section of the chrome is chrome
        elif level <= chrome_level:
            chrome_title = ""  # a sibling of the chrome section: the bank again
        name = "" if line == single_title else topic_name(title)
        if name:
            name = spelling.setdefault(topic_key(name), name)
        topics.append((level, name))
        if line not in cut.chrome and line not in cut.rejected:
            cut.covered.update(range(line, end))
    close(len(doc.lines))
    for q in cut.questions:
        _cover(doc, cut, q)
    return cut


def _title_line(doc: Doc) -> int | None:
    """The document's title: its only level-1 heading, when it is the first heading."""
    tops = [start for start, h in doc.headings.items() if h[1] == 1]
    if len(tops) == 1 and tops[0] == min(doc.headings):
        return tops[0]
    return None


def _topic(topics: list[tuple[int, str]], level: int) -> str:
    for heading_level, title in reversed(topics):
        if (level == 0 or heading_level < level) and title:
            return title
    return ""


def details_end(doc: Doc, cand: Candidate, limit: int) -> int | None:
    """The line that closes the question's <details> block, if it closes before `limit`."""
    depth = 0
    for n in range(cand.start, min(limit, len(doc.lines))):
        if n in doc.code:
            continue
        text = doc.lines[n]
        depth += len(DETAILS_OPEN.findall(text)) - len(DETAILS_CLOSE.findall(text))
        if depth <= 0 and n >= cand.body - 1 and DETAILS_CLOSE.search(text):
            return n
    return None


def _answer_open(doc: Doc, current: Open, line: int) -> bool:
    """Whether the answer of `current` still runs at `line` (its <details> not closed)."""
    if current.cand.details:
        return details_end(doc, current.cand, line) is None
    return True


def _heading_inside(
    doc: Doc, current: Open, line: int, level: int, title: str, starts: set[int], last: int
) -> bool:
    """Whether the non-question heading at `line` is part of the answer being read."""
    if not _answer_open(doc, current, line) or is_chrome(title):
        return False
    if current.cand.level and level > current.cand.level:
        return True  # a sub-heading under a question heading
    if line > last:
        return False
    end = doc.headings[line][0]
    for n in range(end, len(doc.lines)):
        if n in starts or (n in doc.headings and n not in doc.code):
            return False  # straight into a question or another heading: a section
        text = doc.lines[n]
        if text.strip() and not WRAPPER.match(text):
            # Text follows, and a later question exists: the answer goes on, unless that
            # text itself asks (a question this importer cannot read opens the section).
            return n in doc.code or not LOOKS_ASKED.search(text)
    return False


def _cover(doc: Doc, walk: Walk, q: Open) -> None:
    end = q.end
    if q.cand.details:
        closing = details_end(doc, q.cand, q.end)
        if closing is not None:
            q.closed_at = closing
            end = closing + 1
    q.end = end
    walk.covered.update(range(q.cand.start, end))
