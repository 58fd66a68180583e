"""Bank files: deterministic, readable, atomic writes; loading reports every problem as file:line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content.bank import (
    BankError,
    bank_path,
    dump_bank_file,
    load_bank,
    write_bank_file,
)
from content.model import Note, Question, SourceRef

SRC = "content/sources/000_abc.txt"


def make(prompt: str, line: int, **kw: object) -> Question:
    return Question.make(prompt=prompt, source=SourceRef(file=SRC, line=line), **kw)  # type: ignore[arg-type]


QUESTIONS = [
    make("What is MLOps?", 5, answer="Machine learning operations."),
    make(
        "Explain model drift: causes?",
        9,
        answer="Two kinds:\n\n- **data** drift\n- concept drift\n\n```python\nif psi > 0.2:\n    retrain()\n```",
        difficulty="medium",
        topic="Monitoring",
        tags=("drift", "monitoring"),
        notes=(Note(label="Interview Tip", text="Name PSI and KS tests."),),
    ),
    make(
        "Which tool versions data?",
        20,
        kind="choice",
        choices=("Git LFS", "DVC: data version control", "'quoted'"),
        correct="B",
        explanation="DVC tracks data next to Git.",
        hints=("It has 'version' in its name",),
    ),
    make("Unanswered: what is a feature store?", 30),
]


def test_round_trip_is_exact(tmp_path: Path) -> None:
    write_bank_file(tmp_path / "000_abc.yaml", SRC, "answer-list", QUESTIONS)
    bank = load_bank(tmp_path)
    assert list(bank) == QUESTIONS
    assert bank.files[0].source == SRC and bank.files[0].format == "answer-list"
    assert bank.get(QUESTIONS[1].id) == QUESTIONS[1]
    assert len(bank) == 4


def test_file_is_readable_and_deterministic() -> None:
    text = dump_bank_file(SRC, "answer-list", QUESTIONS)
    assert text == dump_bank_file(SRC, "answer-list", list(QUESTIONS))
    assert text.startswith(f"source: {SRC}\nformat: answer-list\nschema: 1\nquestions:\n")
    assert "  answer: |-\n    Two kinds:\n\n    - **data** drift\n" in text
    assert "kind: open" not in text and "tags: []" not in text and "hints: []" not in text
    assert "status: needs_answer" in text
    assert f"source: {SRC}:9" in text


def test_write_is_skipped_when_unchanged_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "000_abc.yaml"
    assert write_bank_file(path, SRC, "answer-list", QUESTIONS) is True
    before = path.read_bytes()
    stat = path.stat()
    assert write_bank_file(path, SRC, "answer-list", QUESTIONS) is False
    assert path.read_bytes() == before and path.stat().st_mtime_ns == stat.st_mtime_ns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["000_abc.yaml"]
    assert path.stat().st_mode & 0o777 == 0o644


def test_bank_path_uses_the_source_stem(tmp_path: Path) -> None:
    assert bank_path(tmp_path, "content/sources/003_x.txt") == tmp_path / "003_x.yaml"


def test_every_problem_is_reported_with_file_and_line(tmp_path: Path) -> None:
    good = dump_bank_file(SRC, "answer-list", QUESTIONS)
    (tmp_path / "a.yaml").write_text(good)
    bad = good.replace("difficulty: medium", "difficulty: impossible\n  colour: red")
    (tmp_path / "b.yaml").write_text(bad)
    (tmp_path / "c.yaml").write_text("source: x\nformat: y\nschema: 1\nquestions: [\n")
    (tmp_path / "overrides.yaml").write_text("merge: []\n")  # not a bank file
    with pytest.raises(BankError) as info:
        load_bank(tmp_path)
    problems = info.value.problems
    lines = bad.splitlines()
    difficulty_line = next(i for i, ln in enumerate(lines, 1) if "impossible" in ln)
    assert f"{tmp_path / 'b.yaml'}:{difficulty_line}: difficulty: Input should be" in "\n".join(
        problems
    )
    assert f"{tmp_path / 'b.yaml'}:{difficulty_line + 1}: colour: unknown field" in problems
    dup = [p for p in problems if "duplicate id" in p]
    assert len(dup) == 3  # b's three valid questions repeat a's ids
    assert all(p.startswith(str(tmp_path / "b.yaml")) and "a.yaml" in p for p in dup)
    syntax = [p for p in problems if "c.yaml" in p]
    assert len(syntax) == 1 and ":5: YAML syntax error" in syntax[0]


def test_header_and_model_rules(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(
        "source: s.txt\nformat: f\nschema: 2\nextra: 1\nquestions:\n"
        "- id: q1\n  prompt: Pick one\n  kind: choice\n  choices: [a, b]\n  status: ready\n"
        "  source: s.txt:3\n"
        "- id: q2\n  id: q3\n  prompt: P\n  answer: A\n  source: s.txt:4\n"
        "- just text\n"
    )
    with pytest.raises(BankError) as info:
        load_bank(tmp_path)
    text = "\n".join(info.value.problems)
    path = tmp_path / "x.yaml"
    assert f"{path}:3: schema 2 is not supported" in text
    assert f"{path}:4: unknown field 'extra'" in text
    assert f"{path}:6: a choice question without a correct option must be needs_key" in text
    assert f"{path}:13: duplicate key 'id'" in text
    assert f"{path}:17: a question must be a mapping of fields" in text


def test_empty_folder_is_an_empty_bank(tmp_path: Path) -> None:
    assert len(load_bank(tmp_path / "missing")) == 0


text_st = st.lists(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufeff"),
        max_size=8,
    )
    | st.sampled_from(["\n", "\n\n", "  ", "\t", ": ", "- ", "#", "'", '"', "|", ">", " \n"]),
    max_size=25,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(prompt=text_st.filter(lambda s: s.strip() != ""), answer=text_st, topic=text_st)
def test_any_text_round_trips(tmp_path_factory: pytest.TempPathFactory, prompt: str,
                              answer: str, topic: str) -> None:
    q = Question(id="q1", prompt=prompt, answer=answer, topic=topic,
                 source=SourceRef(file=SRC, line=1),
                 status="ready" if answer.strip() else "needs_answer")
    folder = tmp_path_factory.mktemp("bank")
    write_bank_file(folder / "000_abc.yaml", SRC, "answer-list", [q])
    assert list(load_bank(folder)) == [q]
