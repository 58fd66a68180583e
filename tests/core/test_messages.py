"""What the bot posts: display names inert and bounded; a question's post, /answer and
reveal showing all of the question (hints, the whole prompt, the notes)."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from bot.messages import (
    NAME_LIMIT,
    ZWSP,
    Results,
    answer_reply,
    question_post,
    reveal,
    safe_name,
)
from bot.text import BIDI_CONTROLS, ZERO_WIDTH
from content.model import Note, Question, SourceRef


def test_mentions_are_defused_on_both_platforms() -> None:
    assert safe_name("@everyone") == f"@{ZWSP}everyone"
    assert safe_name("hi @here") == f"hi @{ZWSP}here"
    assert "<!channel>" not in safe_name("<!channel> Bob")
    assert "<@U123>" not in safe_name("<@U123>")
    assert "<@&42>" not in safe_name("<@&42> role")
    assert safe_name("@alice") == f"@{ZWSP}alice"


def test_names_are_one_bounded_line() -> None:
    name = safe_name("Ada\nLovelace  " + "x" * 200)
    assert "\n" not in name and len(name) <= NAME_LIMIT
    assert safe_name("   ") == "someone"
    assert safe_name("**bold** `code`") == "bold 'code'"


@given(st.text(max_size=300))
def test_no_name_can_ping_or_overflow(raw: str) -> None:
    name = safe_name(raw)
    assert "\n" not in name
    assert len(name) <= NAME_LIMIT * 3  # neutralising may add escapes, never unbounded
    lowered = name.lower()
    assert "@everyone" not in lowered and "@here" not in lowered
    assert "<!" not in name and "<@" not in name.replace(f"<@{ZWSP}", "")


def test_invisible_characters_are_dropped_when_a_stored_name_is_shown() -> None:
    """A name stored before names were cleaned on the way in must not reverse a row."""
    assert safe_name("\u202eecilA\u202c") == "ecilA"
    assert safe_name("B\u200bo\u2066b\x00") == "Bob"
    assert safe_name("\u200b\u200d") == "someone"
    assert safe_name("\u200b", fallback="U123") == "U123"
    assert safe_name("", fallback="@everyone") == f"@{ZWSP}everyone"


@given(st.text(max_size=100))
def test_no_shown_name_holds_a_bidi_or_control_character(raw: str) -> None:
    shown = safe_name(raw).replace(ZWSP, "")
    assert not any(c in BIDI_CONTROLS or c in ZERO_WIDTH for c in shown)
    assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in shown)


# -- what a question's messages show ----------------------------------------------------

SOURCE = SourceRef(file="bank.md", line=3)
PROMPT = "Consider this loader:\n\n```python\nDataLoader(ds, num_workers=4)\n```\n\nWhy is it slow?"


def open_question(prompt: str = PROMPT, explanation: str = "", hints: tuple[str, ...] = (),
                  notes: tuple[Note, ...] = ()) -> Question:
    return Question.make(prompt=prompt, answer="The **workers** start each epoch.",
                         explanation=explanation, hints=hints, notes=notes, source=SOURCE)


def test_the_post_shows_its_hint_behind_a_spoiler() -> None:
    post = question_post(4, open_question(hints=("Think about  epochs.",)))
    assert post.body == f"{PROMPT}\n\n**Hint:** ||Think about epochs.||"
    two = question_post(4, open_question(hints=("One", "Two || three")))
    assert two.body == f"{PROMPT}\n\n**Hints:**\n- ||One||\n- ||Two \\|\\| three||"
    assert question_post(4, open_question()).body == PROMPT


def test_answer_shows_the_whole_prompt_and_the_notes() -> None:
    q = open_question(explanation="Forking costs.",
                      notes=(Note(label="Interview Tip", text="Mention persistent_workers."),
                             Note(label="Common Mistakes", text="- More workers\n- Bigger batch")))
    reply = answer_reply(4, 9, q, [])
    assert reply.message.fields == ()
    assert reply.message.body == (
        f"{PROMPT}\n\n**Answer**\nThe **workers** start each epoch.\n\n**Why**\nForking costs."
        "\n\n**Interview Tip:** Mention persistent_workers."
        "\n\n**Common Mistakes:**\n- More workers\n- Bigger batch"
    )


def test_the_reveal_shows_the_notes_as_answer_does() -> None:
    q = open_question(notes=(Note(label="Key Insight", text="```sh\nnproc\n```"),))
    message = reveal(4, q, Results(answered=0, correct=0, distribution=(), first_correct=None))
    assert message.body == (
        "**Answer**\nThe **workers** start each epoch.\n\n**Key Insight:**\n```sh\nnproc\n```"
        "\n\n**Results**\nNobody answered this one."
    )


def test_see_also_names_the_line_that_asks() -> None:
    other = open_question()
    reply = answer_reply(4, 9, open_question(prompt="What slows a DataLoader?"), [other])
    assert reply.message.body.endswith("**See also**\n- Why is it slow?")
