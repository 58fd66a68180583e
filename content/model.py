"""The question model: the one shape every importer produces and every layer reads.

Pydantic at this boundary because bank files are edited by people: validation errors must
name the field that is wrong, and unknown fields must be refused rather than silently kept.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Difficulty = Literal["easy", "medium", "hard"]
Kind = Literal["open", "choice"]
Status = Literal["ready", "needs_key", "needs_answer"]

DIFFICULTIES: tuple[Difficulty, ...] = ("easy", "medium", "hard")
LETTERS = "ABCDEFGHIJ"

_DIFFICULTY_WORDS: dict[str, Difficulty] = {
    "easy": "easy",
    "e": "easy",
    "[e]": "easy",
    "junior": "easy",
    "beginner": "easy",
    "basic": "easy",
    "👶": "easy",
    "medium": "medium",
    "m": "medium",
    "[m]": "medium",
    "mid": "medium",
    "mid-level": "medium",
    "intermediate": "medium",
    "⭐": "medium",
    "⭐️": "medium",
    "hard": "hard",
    "h": "hard",
    "[h]": "hard",
    "senior": "hard",
    "advanced": "hard",
    "expert": "hard",
    "🚀": "hard",
}


def normalize_difficulty(raw: str | None) -> Difficulty | None:
    """Map the many spellings sources use (Junior, beginner, [E], 👶 ...) to one scale."""
    if raw is None:
        return None
    key = raw.strip().lower()
    if key in _DIFFICULTY_WORDS:
        return _DIFFICULTY_WORDS[key]
    key = key.replace("\ufe0f", "")
    return _DIFFICULTY_WORDS.get(key)


def normalize_text(text: str) -> str:
    """Fold case, accents, punctuation and spacing so cosmetic edits keep the same id."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[^\w\s]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def question_id(source: str, prompt: str, salt: str = "") -> str:
    """Stable id from the source document's name and the normalized prompt.

    Edits to the answer, re-imports and moving the source file to another folder keep it.
    `salt` tells apart two questions of one document that share a prompt but not their
    options or code; without it the id is what it always was.
    """
    stem = source.rsplit("/", 1)[-1]
    key = f"{stem}\n{normalize_text(prompt)}"
    if salt:
        key += f"\n{normalize_text(salt)}"
    digest = hashlib.sha1(key.encode()).hexdigest()
    return f"q{digest[:12]}"


class SourceRef(BaseModel):
    """Where a question came from, so a reviewer can jump to it (file:line)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    line: int = Field(ge=1)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class Note(BaseModel):
    """A labelled call-out kept apart from the answer ("Interview Tip", "Common Mistakes")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str
    text: str


class Question(BaseModel):
    """One bank entry. `status` decides whether it may ever be scheduled (only `ready`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    prompt: str = Field(min_length=1)
    answer: str = ""
    kind: Kind = "open"
    choices: tuple[str, ...] = ()
    correct: str | None = None  # a letter, "A" for choices[0]
    explanation: str = ""
    difficulty: Difficulty | None = None
    topic: str = ""
    tags: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    notes: tuple[Note, ...] = ()
    source: SourceRef
    status: Status = "ready"

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        if self.kind == "choice":
            if len(self.choices) < 2:
                raise ValueError("a choice question needs at least two choices")
            if len(self.choices) > len(LETTERS):
                raise ValueError(f"at most {len(LETTERS)} choices are supported")
            letters = LETTERS[: len(self.choices)]
            if self.correct is not None and self.correct not in letters:
                raise ValueError(f"correct must be one of {', '.join(letters)}")
            if self.correct is None and self.status == "ready":
                raise ValueError("a choice question without a correct option must be needs_key")
        else:
            if self.choices or self.correct is not None:
                raise ValueError("an open question has no choices or correct option")
            if not self.answer.strip() and self.status == "ready":
                raise ValueError("an open question without an answer must be needs_answer")
        return self

    @property
    def letters(self) -> str:
        return LETTERS[: len(self.choices)]

    @staticmethod
    def make(
        *,
        prompt: str,
        source: SourceRef,
        answer: str = "",
        kind: Kind = "open",
        choices: tuple[str, ...] = (),
        correct: str | None = None,
        explanation: str = "",
        difficulty: Difficulty | None = None,
        topic: str = "",
        tags: tuple[str, ...] = (),
        hints: tuple[str, ...] = (),
        notes: tuple[Note, ...] = (),
        status: Status | None = None,
        id_salt: str = "",
    ) -> Question:
        """Build a question, deriving its id and (unless given) its status.

        Importers call this so that id and status rules live in exactly one place.
        """
        if status is None:
            if kind == "choice" and correct is None:
                status = "needs_key"
            elif kind == "open" and not answer.strip():
                status = "needs_answer"
            else:
                status = "ready"
        return Question(
            id=question_id(source.file, prompt, id_salt),
            prompt=prompt.strip(),
            answer=answer.strip(),
            kind=kind,
            choices=choices,
            correct=correct,
            explanation=explanation.strip(),
            difficulty=difficulty,
            topic=topic.strip(),
            tags=tags,
            hints=hints,
            notes=notes,
            source=source,
            status=status,
        )
