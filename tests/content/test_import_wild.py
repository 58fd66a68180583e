"""Markdown banks in the shapes found in public GitHub collections, one fixture per shape.

Every fixture is written here (tests/fixtures/wild/) in a shape the issue lists, and each
test pins what a person importing it must get: how many questions, which kind, which
key, which answer, and what is held back or skipped.
"""

from __future__ import annotations

from pathlib import Path

from content.importers import ParseResult, sniff
from content.importers.markdown import MarkdownImporter
from content.model import Note

WILD = Path(__file__).parent.parent / "fixtures" / "wild"


def _import(name: str) -> ParseResult:
    text = (WILD / name).read_text(encoding="utf-8-sig")
    chosen = sniff(text, name)
    assert chosen is not None and chosen.name == "markdown"
    return MarkdownImporter().parse(text, name)


def test_headings_with_trailing_links_tags_and_levels() -> None:
    result = _import("headings_trailing_links.md")
    pod, service, policy, root = result.questions
    assert [q.prompt for q in result.questions] == [
        "What is a Pod?",
        "What is a Service?",
        "How does a NetworkPolicy select traffic?",
        "Why run containers as non-root?",
    ]
    assert [q.source.line for q in result.questions] == [12, 18, 24, 30]
    assert all(q.kind == "open" and q.status == "ready" for q in result.questions)
    # The source link after the '?' is a note, not part of the prompt.
    assert pod.notes == (
        Note(label="Source", text="[src](https://kubernetes.io/docs/concepts/workloads/pods/)"),
    )
    # The "Back to top" link is navigation, not answer.
    assert pod.answer == (
        "The smallest deployable unit: one or more containers sharing a network namespace."
    )
    assert service.tags == ("big tech",)
    assert policy.difficulty == "hard"  # "Hard" after the '?'
    assert root.difficulty is None  # 🔥 is decoration, not a level
    # No topic from the title or from "50 Common Interview Questions"; "Networking &
    # Security" and "Networking and  security" are one topic.
    assert [q.topic for q in result.questions] == [
        "", "", "Networking and Security", "Networking and Security",
    ]
    # The contents list links to the questions: it is skipped, not imported twice.
    assert [(s.line, s.end_line) for s in result.skipped] == [(3, 3), (5, 8)]
    assert "'Table of Contents' section" in result.skipped[1].reason


def test_zero_width_joiners_nbsp_and_bom_before_markers() -> None:
    result = _import("zwj_difficulty.md")
    layer, digest, init, cmd = result.questions
    assert (layer.prompt, layer.difficulty) == ("What is a layer?", "easy")
    assert (digest.prompt, digest.difficulty) == ("Why pin a base image by digest?", "medium")
    assert (init.prompt, init.difficulty) == ("What does `--init` add to a container?", "hard")
    assert init.answer == "A tiny init process that reaps zombies and forwards signals."
    # A "Q12." label opens a question even in a document of bold lines.
    assert cmd.prompt == "What is the difference between `CMD` and `ENTRYPOINT`?"
    assert cmd.answer == "ENTRYPOINT is the program; CMD gives its default arguments."
    assert [q.topic for q in result.questions] == ["Images", "Images", "Runtime", "Runtime"]
    assert [q.source.line for q in result.questions] == [5, 9, 15, 19]
    for q in result.questions:
        assert not any(c in q.prompt for c in "\u200b\u200d\u00a0\ufe0f\ufeff")
    assert result.skipped == ()


def test_imperative_and_true_or_false_prompts() -> None:
    result = _import("imperatives.md")
    assert [q.prompt for q in result.questions] == [
        "Define overfitting.",
        "Explain the bias-variance tradeoff",
        "True or False? Dropout is used at inference time.",
        "Compare precision and recall",
        "List three ways to handle class imbalance",
        "Name the metric that is the harmonic mean of precision and recall",
        "Write a function that computes accuracy",
        "Describe early stopping",
    ]
    assert all(q.status == "ready" for q in result.questions)
    assert result.questions[2].answer == "False: dropout is switched off at inference."
    assert result.questions[4].answer == "- resampling\n- class weights\n- threshold tuning"
    assert result.questions[6].answer == (
        "```python\ndef accuracy(y, p):\n"
        "    return sum(a == b for a, b in zip(y, p)) / len(y)\n```"
    )
    assert [q.topic for q in result.questions] == ["Fundamentals"] * 3 + ["Evaluation"] * 5
    # "Why learn ...?" is the article's pitch, not a question.
    (pitch,) = result.skipped
    assert (pitch.line, pitch.end_line) == (3, 5)
    assert "'Why learn ML engineering?' section is article text" in pitch.reason


def test_details_blocks_with_bold_tags_become_markdown() -> None:
    result = _import("details_bold.md")
    slots, gil, water = result.questions
    assert slots.prompt == "What does `__slots__` do?"
    assert slots.source.line == 6
    # <b>Answer:</b> introduces the answer and goes; <code> is code, <br> a line break,
    # &amp; a character.
    assert slots.answer == (
        "It replaces the per-instance `__dict__` with fixed slots,\n"
        "saving memory & speeding up attribute access."
    )
    assert gil.prompt == "What is the GIL?"
    assert gil.answer == (
        "A lock that lets one thread run Python bytecode at a time.\n\n"
        "- CPU-bound threads do not run in parallel\n"
        "- I/O-bound threads still overlap"
    )
    # <sub>/<sup> become text, <a> a link, <img> a link to the image.
    assert water.answer == (
        "H2O; area grows as r^2. See [the notes](https://example.org/chem) and "
        "[a water molecule](https://example.org/h2o.png)."
    )
    for q in result.questions:
        assert "<" not in q.answer and "&amp;" not in q.answer
        assert q.topic == "Language" and q.status == "ready"


def test_checkbox_quizzes_with_code_and_images() -> None:
    result = _import("checkbox_quiz.md")
    stage, prints, merge, safe, safe_again, ignored, rewrite = result.questions
    assert all(q.kind == "choice" for q in result.questions)
    assert stage.prompt == "Which command stages a file?"
    assert stage.choices == ("`git commit file`", "`git add file`", "`git push file`")
    assert (stage.correct, stage.status) == ("B", "ready")
    # Code between the question and its options belongs to the prompt.
    assert prints.prompt == (
        "What does this print?\n\n```bash\ngit rev-parse --abbrev-ref HEAD\n```"
    )
    assert prints.choices == ("the current branch name", "the commit hash", "nothing")
    assert prints.correct == "A"
    # Image options stay links; text after the options explains the key.
    assert merge.choices == (
        "[linear history](https://example.org/linear.png)",
        "[two parents](https://example.org/merge.png)",
    )
    assert (merge.correct, merge.explanation) == ("B", "A merge commit has two parents.")
    # The same prompt with other options is a second question with its own id.
    assert safe.prompt == safe_again.prompt == "Which command is safe on a shared branch?"
    assert safe.id != safe_again.id
    assert (safe.choices[safe.letters.index("B")], safe_again.correct) == (
        "`git revert <sha>`", "A",
    )
    # None checked, or several checked: the key is missing, and the report says why.
    assert (ignored.status, ignored.correct) == ("needs_key", None)
    assert (rewrite.status, rewrite.correct) == ("needs_key", None)
    held = {h.line: h.reason for h in result.held_back}
    assert held == {
        38: "no option is checked: mark the right one '- [x]'",
        44: "2 options are checked (A, C): a question with one key cannot hold several; "
        "leave exactly one '- [x]'",
    }
    assert result.warnings == (
        "checkbox_quiz.md:33: same prompt as line 28 but other options or answer; "
        "imported as a question of its own",
    )


def test_reimporting_the_quiz_keeps_its_ids() -> None:
    first = [q.id for q in _import("checkbox_quiz.md").questions]
    assert first == [q.id for q in _import("checkbox_quiz.md").questions]
    assert len(set(first)) == 7


def test_placeholder_answers_are_held_back() -> None:
    result = _import("placeholders.md")
    assert [q.status for q in result.questions] == ["needs_answer"] * 6 + ["ready"]
    assert [q.answer for q in result.questions[:6]] == [""] * 6
    assert result.questions[6].answer == (
        "An agreed schema and meaning for data between its producer and consumers."
    )
    assert [(h.line, h.reason) for h in result.held_back] == [
        (5, "the answer is a placeholder ('Answer here'); write the answer"),
        (9, "the answer is a placeholder ('TODO'); write the answer"),
        (13, "the answer is a placeholder ('TBD'); write the answer"),
        (17, "the answer is a placeholder ('...'); write the answer"),
        (21, "the answer is only HTML tags or markup; write the answer"),
        (26, "the answer is only a link back into the document; write the answer"),
    ]


def test_compact_details_one_line_each_and_nested_toggles() -> None:
    result = _import("details_compact.md")
    assert [(q.prompt, q.source.line, q.answer) for q in result.questions] == [
        ("What is a model server?", 3, "A process that answers requests."),
        ("What is batching?", 4, "Grouping requests."),
        # A <details> inside the answer's own block is part of that answer.
        ("What is a canary?", 6, "A small share first.\n\n**Why does it help?**\n\nLess risk."),
    ]
    assert {q.topic for q in result.questions} == {"Serving"}
    assert result.skipped == ()


def test_mixed_habits_in_one_document_each_question_its_own() -> None:
    """Bold numbered questions, a heading, a `Q4.` label, a <details> toggle, checkbox
    quizzes and `Question 7:` in one document: the second bold question is the author's
    next question, not part of the first one's answer."""
    result = _import("mixed_habits.md")
    got = [(q.prompt, q.kind, q.status, q.topic) for q in result.questions]
    assert got == [
        ("What is overfitting?", "open", "ready", "Basics"),
        ("Explain the bias-variance tradeoff.", "open", "ready", "Basics"),
        ("Define precision and recall", "open", "needs_answer", "Basics"),
        ("True or False? Dropout is used at inference time.", "open", "ready", "Basics"),
        ("What does `torch.no_grad()` do?", "open", "ready", "Deep Learning"),
        ("Which activation is used in the output layer for binary classification?",
         "choice", "ready", "Deep Learning"),
        ("Which of these are optimizers?", "choice", "needs_key", "Deep Learning"),
        ("Compare batch normalization and layer normalization (Big Tech)", "open", "ready",
         "Deep Learning"),
    ]
    by_prompt = {q.prompt: q for q in result.questions}
    assert by_prompt["What is overfitting?"].answer == \
        "When a model learns noise in the training data."
    assert by_prompt["Explain the bias-variance tradeoff."].answer == (
        "**Bias** is error from wrong assumptions;\n"
        "variance is error from sensitivity to noise.")
    assert by_prompt["True or False? Dropout is used at inference time."].answer == \
        "False. It is only used during training."
    sigmoid = by_prompt["Which activation is used in the output layer for binary "
                        "classification?"]
    assert sigmoid.choices == ("ReLU", "Sigmoid", "Tanh") and sigmoid.correct == "B"
    assert by_prompt["Define precision and recall"].difficulty == "easy"
    assert not result.warnings
    assert [s.reason.split(":")[0] for s in result.skipped] == [
        "before the first question", "before the first question", "after the last question"]
