"""What a topic is: one key per subject, and the subject a heading or title names.

Sources spell one subject several ways ("Model Versioning & Registry" in one, "model
versioning and registry" in another, a no-break space pasted from a web page in a third),
and a channel admin types it a fourth way in `/qotd topics include:`. All of them must be
one topic, so every place that compares topics compares `topic_key`s; nothing else here
decides which spelling is shown (`content.importing` does, bank-wide).

Headings of an article around a bank often name the collection rather than what its
questions are about: "The Ultimate Guide to MLOps Interview Questions", "17 Common
Interview Questions for MLOps". `subject_of` takes those words off and keeps the subject
("MLOps"); a heading that names nothing once they are off ("Interview Questions") gives
"". Pure functions of strings, standard library plus textutil only.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable

from content.importers.textutil import normalize_invisible

# `&` always reads "and" ("Q&A", "R&D" too); `+` only standing alone, so "C++" stays C++.
_AND = re.compile(r"\s*&\s*|\s+\+\s+")
_EDGE_PUNCTUATION = " \t:;,.-–—|"

_GUIDE = re.compile(
    r"^(?:(?:the|an?)\s+)?(?:(?:ultimate|complete|definitive|essential|comprehensive|quick)\s+)*"
    r"(?:guide|introduction|handbook|cheat\s*sheet)\s+(?:to|for|on)\s+",
    re.IGNORECASE,
)
# "17 Common Interview Questions for MLOps", "Top 50 Questions on Docker", "Common
# Interview Questions for MLOps"; not "General Questions on ML Pipelines" (no count, and
# not interview questions: a subject).
_COUNTED_PREFIX = re.compile(
    r"^(?:top\s+)?(?:\d+\+?\s+(?:[a-z-]+\s+){0,3}?(?:interview\s+)?|(?:[a-z-]+\s+){0,2}?"
    r"interview\s+)questions?(?:\s+(?:and|&)\s+answers?)?\s+(?:for|on|about|in|of|to)\s+",
    re.IGNORECASE,
)
# "MLOps Interview Questions and Answers", "Docker questions", "Top 100 MLOps interview ...".
_QUESTIONS_SUFFIX = re.compile(
    r"\s*[-–—:|]?\s*\b(?:(?:interview|practice|quiz|sample|common)\s+)*questions?"
    r"(?:\s*(?:and|&)\s*answers?)?(?:\s+(?:for|in)\s+(?:\d{4}|beginners|experienced))?$",
    re.IGNORECASE,
)
_COUNTED = re.compile(r"^(?:top\s+)?\d+\+?\s*", re.IGNORECASE)
_PAGE_SUFFIX = re.compile(
    r"\s+[-–—|:]\s+(?:quick\s+recap|recap|cheat\s*sheet|flashcards?|practice|quiz|summary)$",
    re.IGNORECASE,
)
# A collection, never a subject: what the bank-wide test refuses as a topic.
_COLLECTION = re.compile(
    r"\b\d+\+?\s.*\bquestions?\b|\binterview\s+questions?\b|"
    r"\b(?:ultimate|complete|definitive)\s+guide\b|^questions?(?:\s+(?:and|&)\s+answers?)?$",
    re.IGNORECASE,
)


def clean_topic(text: str) -> str:
    """`text` as it may be shown: invisible characters out, spacing folded, NFKC."""
    text = normalize_invisible(unicodedata.normalize("NFKC", text))
    return " ".join(text.split())


def topic_key(text: str) -> str:
    """The one key of a subject however it is spelt: case, spacing, `&`/`and`/` + `.

    Two topics are the same topic exactly when their keys are equal; "" stays "" (the
    questions with no topic are one group too).
    """
    text = clean_topic(text)
    text = _AND.sub(" and ", text)
    text = " ".join(text.split()).strip(_EDGE_PUNCTUATION)
    return text.casefold()


def subject_of(heading: str) -> str:
    """The subject a heading or document title names, or "" when it names none.

    "The Ultimate Guide to MLOps Interview Questions" and "17 Common Interview Questions
    for MLOps" both name MLOps; "Why CI/CD differs for ML vs software - Quick Recap" names
    its first part; "Interview Questions" and "50 Common Interview Questions" name nothing.
    A heading with none of these words is returned as it is (spacing folded), so the
    section titles of the seeds keep their spelling.
    """
    text = _PAGE_SUFFIX.sub("", clean_topic(heading))
    without = _QUESTIONS_SUFFIX.sub("", text)
    if without != text:
        # "Top 100 MLOps interview questions and answers": the count went with the words.
        text = _COUNTED.sub("", without)
    text = _COUNTED_PREFIX.sub("", _GUIDE.sub("", text))
    text = text.strip(_EDGE_PUNCTUATION)
    return "" if _COUNTED.fullmatch(text) else text


def names_a_collection(topic: str) -> bool:
    """Whether `topic` names a collection of questions ("17 Common Interview Questions for
    MLOps", "The Ultimate Guide to …") rather than a subject: never a valid topic."""
    return _COLLECTION.search(clean_topic(topic)) is not None


@functools.lru_cache(maxsize=4096)
def filter_key(topic: str) -> str:
    """What a channel's stored topic filter means: its topic key, and for a collection
    name an older import gave as a topic ("17 Common Interview Questions for MLOps"), the
    key of the subject it names, which is that questions' topic now. Cached: it is asked
    for every question of the bank when a channel's eligible questions are worked out."""
    return topic_key(subject_of(topic) if names_a_collection(topic) else topic)


def choose_spellings(kept: Iterable[str], incoming: Iterable[str]) -> dict[str, str]:
    """The one spelling of each topic key: the first in `kept`, else the first in `incoming`.

    Callers pass the topics the bank already holds as `kept` and the ones being imported as
    `incoming`, each in a fixed order (bank file name, then question order), so that what
    is already in the bank wins and the choice never depends on the order files were named
    in. Returns key -> spelling (cleaned as `clean_topic` does); no entry for "".
    """
    chosen: dict[str, str] = {}
    for topic in itertools.chain(kept, incoming):
        key = topic_key(topic)
        if key and key not in chosen:
            chosen[key] = clean_topic(topic)
    return chosen
