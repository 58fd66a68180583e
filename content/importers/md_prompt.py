"""What a question looks like in a hand-written Markdown bank, and what a section looks like.

Authors mark a question with a heading, a bold line, a numbered line or a <summary>; this
module only judges the text of that line: whether it asks something, and what is left
once its decorations (labels such as `Q12.`, `**1)**`, difficulty markers, a trailing
source link, a "(Big Tech)" tag) are taken off. Pure functions of strings, so the
document walker in `markdown.py` decides only *where* questions are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from content.importers.md_html import inline_text
from content.importers.textutil import normalize_invisible
from content.model import Difficulty, Note, normalize_difficulty

LEVEL_WORDS = (
    r"junior|mid(?:-level)?|senior|easy|medium|hard|beginner|intermediate|advanced|expert|basic"
)
_MARKERS = (
    re.compile(r"\[([EMH])\]", re.IGNORECASE),
    re.compile(r"\((" + LEVEL_WORDS + r")\)", re.IGNORECASE),
    re.compile(r"\[(" + LEVEL_WORDS + r")\]", re.IGNORECASE),
    re.compile(r"\bdifficulty\s*[:=]\s*(" + LEVEL_WORDS + r")\b", re.IGNORECASE),
    re.compile(r"(👶|⭐|🚀)"),
)
# A level word written after the question mark: "What is X? - Hard", "What is X? Easy".
_TRAILING_LEVEL = re.compile(r"(?<=[?.:])[\s\-–—|:]*\b(" + LEVEL_WORDS + r")\b[\s.]*$", re.I)
_LABEL = re.compile(
    r"^(?:Q(?:uestion)?\s*#?\s*\d+\s*[.:)\-–—]|\d{1,4}\s*[.)]|Q\s*[:.])\s*", re.IGNORECASE
)
_Q_LABEL = re.compile(r"^Q(?:uestion)?\s*#?\s*\d+\s*(?:[.:)\-–—]|$)", re.IGNORECASE)
_EMPHASIS_LABEL = re.compile(
    r"^(\*\*|__)\s*((?:Q(?:uestion)?\s*#?\s*)?\d{1,4}\s*[.:)\-–—]?)\s*\1\s*", re.IGNORECASE
)
_LINK_SUFFIX = re.compile(r"\[?\[([^\[\]]{0,80})\]\(([^()\s]{1,500})\)\]?\s*$")
_PAREN_SUFFIX = re.compile(r"(?<=\?)\s*[(\[]([^()\[\]]{1,40})[)\]]\s*$")
_TRAILING_SYMBOLS = re.compile(r"(?<=[?.!:])[\s\U0001F000-\U0001FAFF\u2600-\u27BF\u2B50]+$")
_IMPERATIVES = frozenset(
    ["define", "describe", "explain", "list", "compare", "name", "write", "mention", "discuss", "outline", "give", "state", "differentiate", "distinguish", "contrast", "implement", "design", "illustrate", "elaborate", "enumerate", "identify", "summarize", "summarise", "walk", "tell", "justify", "calculate", "derive", "sketch"]
)
_NOT_IMPERATIVE = re.compile(r"^(?:list|name|state|show|design)\s+(?:of|and|for)\b", re.I)
_TRUE_FALSE = re.compile(r"^(?:true\s+or\s+false|t\s*/\s*f)\b", re.IGNORECASE)
_ANCHOR_ONLY = re.compile(r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?\[[^\]]*\]\(#[^)]*\)\s*$")

CHROME = re.compile(
    r"^(?:conclusions?|in conclusion|summary|in summary|final thoughts|references|"
    r"further reading|resources|wrapping up|next steps|about the author|related\b.*|"
    r"table of contents|contents|toc|index|introduction|intro|overview|preface|foreword|"
    r"license|licence|contributing|contributors|credits|acknowledg(?:e)?ments|changelog|"
    r"how to use(?: this)?.*|why (?:(?:should you|you should|to) )?learn\b.*)[\s:.!?]*$"
    r"|takeaways",
    re.IGNORECASE,
)
_GENERIC_TOPIC = re.compile(r"^(?:questions?(?: and answers)?|q\s*&\s*a|faqs?|answers?)$", re.I)
_QUESTIONS_SUFFIX = re.compile(
    r"\s*[-–—:]?\s*\b(?:interview\s+)?questions?(?:\s*(?:and|&)\s*answers?)?\s*$", re.I
)
_COUNTED = re.compile(r"^(?:top\s+)?\d+\+?\b", re.IGNORECASE)
_SECTION_NUMBER = re.compile(
    r"^(?:(?:part|section|chapter)\s+\w+\s*[:.\-–—]\s*|\d+(?:\.\d+)*[.)]?\s+)", re.I
)


@dataclass(frozen=True)
class Prompt:
    """A question line read: the prompt as it will be shown, and what its decorations said."""

    text: str
    difficulty: Difficulty | None = None
    labelled: bool = False  # carries a Q12 / Question 12 label
    tags: tuple[str, ...] = ()
    notes: tuple[Note, ...] = field(default=())


def strip_emphasis(text: str) -> str:
    """`**text**` / `__text__` (nested too) without the markers around the whole."""
    text = text.strip()
    while len(text) > 4 and text[:2] in {"**", "__"} and text.endswith(text[:2]):
        text = text[2:-2].strip()
    return text


def take_difficulty(text: str) -> tuple[str, Difficulty | None]:
    """Remove difficulty markers from a prompt, returning the level they gave."""
    found: Difficulty | None = None
    for pattern in _MARKERS:
        for match in pattern.finditer(text):
            level = normalize_difficulty(match.group(1)) or normalize_difficulty(
                f"[{match.group(1)}]"
            )
            found = found or level
        text = pattern.sub("", text)
    trailing = _TRAILING_LEVEL.search(text)
    if trailing is not None:
        found = found or normalize_difficulty(trailing.group(1))
        text = text[: trailing.start()]
    text = re.sub(r"\s{2,}", " ", text)
    return text.strip(" \t\r\n-–—|:"), found


def _take_label(text: str) -> tuple[str, bool]:
    emphasised = _EMPHASIS_LABEL.match(text)
    if emphasised is not None:
        label = emphasised.group(2)
        return text[emphasised.end() :], bool(_Q_LABEL.match(label))
    labelled = bool(_Q_LABEL.match(text))
    return _LABEL.sub("", text, count=1), labelled


def read_prompt(raw: str) -> Prompt:
    """The prompt of a question line, its label, difficulty and suffixes taken off.

    A trailing source link becomes a "Source" note, a short parenthesised suffix after
    the question mark ("(Big Tech)") a tag, a trailing emoji is dropped.
    """
    text, labelled = _take_label(strip_emphasis(normalize_invisible(raw)))
    text = strip_emphasis(text)
    tags: list[str] = []
    notes: list[Note] = []
    level: Difficulty | None = None
    for _ in range(6):  # suffixes come in any order; each pass takes one kind off the end
        before = text
        text, found = take_difficulty(strip_emphasis(text))
        level = level or found
        link = _LINK_SUFFIX.search(text)
        before_link = text[: link.start()].rstrip() if link is not None else ""
        # A link after the question ("...? [src](url)", "... [[src](url)]") cites it; a
        # link inside the sentence ("Explain [CAP](url)") is part of the prompt.
        if link is not None and before_link and (
            before_link.endswith(("?", ".", ":")) or link.group(0).startswith("[[")
        ):
            notes.insert(0, Note(label="Source", text=f"[{link.group(1) or 'source'}]"
                                 f"({link.group(2)})"))
            text = text[: link.start()]
        paren = _PAREN_SUFFIX.search(text)
        if paren is not None:
            tags.insert(0, " ".join(paren.group(1).split()).lower())
            text = text[: paren.start()]
        text = _TRAILING_SYMBOLS.sub("", text).rstrip()
        if text == before:
            break
    return Prompt(strip_emphasis(text), level, labelled, tuple(tags), tuple(notes))


def asks(raw: str, *, imperatives: bool = True) -> bool:
    """Whether a question line asks something.

    It does when it ends in '?' once decorations are off, carries a Q label, is a
    "True or False" statement or, where `imperatives`, starts with an instruction verb
    (Define, Explain, List, ...). A link to an anchor alone is a table-of-contents entry.
    """
    if _ANCHOR_ONLY.match(raw):
        return False
    prompt = read_prompt(inline_text(raw) if "<" in raw or "&" in raw else raw)
    text = prompt.text
    if not text:
        return False
    if text.endswith("?") or prompt.labelled or _TRUE_FALSE.match(text):
        return True
    if not imperatives:
        return False
    words = text.split()
    return (
        len(words) >= 2
        and words[0].lower().strip("*_") in _IMPERATIVES
        and not _NOT_IMPERATIVE.match(text)
    )


def is_labelled(raw: str) -> bool:
    return read_prompt(raw).labelled


def is_chrome(title: str) -> bool:
    """A heading of the article around the bank (contents, introduction, conclusion)."""
    return CHROME.search(strip_emphasis(title)) is not None


def topic_name(title: str) -> str:
    """A section heading's title as a topic; "" for headings that name no subject.

    "Docker Interview Questions" names Docker; "50 Common Interview Questions" and
    "Interview Questions" name nothing. Spacing is folded and `&` reads "and", so one
    subject spelt two ways is one topic (case is folded by the caller, per document).
    """
    title = re.sub(r"\s+", " ", strip_emphasis(title)).strip()
    title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)  # a linked heading
    title = _TRAILING_SYMBOLS.sub("", title + ".")[:-1] if title else title
    if is_chrome(title) or asks(title):
        return ""
    stripped = _QUESTIONS_SUFFIX.sub("", title)
    if stripped != title and (not stripped.strip() or _COUNTED.match(stripped)):
        return ""
    if _GENERIC_TOPIC.match(stripped.strip()):
        return ""
    stripped = _SECTION_NUMBER.sub("", stripped)
    stripped = re.sub(r"\s*&\s*", " and ", stripped)
    stripped = re.sub(r"[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B50]", "", stripped)
    return re.sub(r"\s+", " ", stripped).strip(" :-–—.")


def is_anchor_entry(raw: str) -> bool:
    """A line that only links to a place in the document: a contents entry, not a question."""
    return _ANCHOR_ONLY.match(raw) is not None
