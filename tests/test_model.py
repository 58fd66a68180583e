"""The question model's own rules: ids are stable, status follows from content."""

import pytest
from pydantic import ValidationError

from content.model import Question, SourceRef, normalize_difficulty, question_id


def test_id_ignores_answer_and_cosmetic_prompt_changes() -> None:
    src = SourceRef(file="content/sources/000_x.txt", line=3)
    a = Question.make(prompt="What is MLOps?", answer="one", source=src)
    b = Question.make(prompt="  what is  MLOps ", answer="two", source=SourceRef(file="000_x.txt", line=9))
    assert a.id == b.id == question_id("000_x.txt", "What is MLOps?")


def test_status_derived_from_content() -> None:
    src = SourceRef(file="f.txt", line=1)
    assert Question.make(prompt="Q?", source=src).status == "needs_answer"
    q = Question.make(prompt="Q?", kind="choice", choices=("a", "b"), source=src)
    assert q.status == "needs_key"
    q = Question.make(prompt="Q?", kind="choice", choices=("a", "b"), correct="B", source=src)
    assert q.status == "ready"


def test_ready_choice_without_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="needs_key"):
        Question(id="q1", prompt="Q?", kind="choice", choices=("a", "b"),
                 source=SourceRef(file="f", line=1), status="ready")


@pytest.mark.parametrize(
    ("raw", "want"),
    [("Junior", "easy"), ("Mid", "medium"), ("Senior", "hard"), ("beginner", "easy"),
     ("intermediate", "medium"), ("advanced", "hard"), ("👶", "easy"), ("⭐️", "medium"),
     ("🚀", "hard"), ("[E]", "easy"), ("[M]", "medium"), ("[H]", "hard"), ("banana", None)],
)
def test_difficulty_spellings(raw: str, want: str | None) -> None:
    assert normalize_difficulty(raw) == want
