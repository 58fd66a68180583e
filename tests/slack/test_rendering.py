"""OutMessage -> Block Kit within Slack's limits, with no way for user text to ping."""

from __future__ import annotations

from adapters.slack.blocks import (
    MAX_BLOCKS,
    SECTION_LIMIT,
    SHORTENED,
    TEXT_BUDGET,
    fallback_text,
    render_blocks,
    text_size,
)
from adapters.slack.emoji import TO_EMOJI, emoji_for, key_for
from bot.boundary import NO, OPTION_KEYS, YES, Button, Choice, Field, OutMessage
from bot.messages import safe_name


def test_every_neutral_key_has_a_standard_emoji_and_maps_back() -> None:
    for key in [*OPTION_KEYS, YES, NO]:
        assert key_for(emoji_for(key)) == key
    assert emoji_for("A") == "one" and emoji_for("J") == "keycap_ten"
    assert TO_EMOJI[YES] == "white_check_mark" and TO_EMOJI[NO] == "x"
    assert key_for("white_check_mark::skin-tone-3") == YES
    assert key_for("tada") is None


def _question() -> OutMessage:
    return OutMessage(
        tone="question",
        title="Question #7",
        body="What does **drift** mean?\n\n- data\n- concept",
        fields=(Field("Topic", "monitoring"), Field("Difficulty", "medium")),
        choices=(Choice("A", "Covariate shift"), Choice("B", "Label shift")),
        footer="React with the option's number, or ✅ / ❌ for open questions.",
        reactions=("A", "B"),
    )


def test_question_layout() -> None:
    blocks = render_blocks(_question())
    types = [b["type"] for b in blocks]
    assert types == ["header", "section", "section", "context", "context"]
    assert blocks[0]["text"] == {"type": "plain_text", "text": "Question #7", "emoji": True}
    assert "*drift*" in blocks[1]["text"]["text"] and "• data" in blocks[1]["text"]["text"]
    assert blocks[2]["text"]["text"] == ":one: *A.* Covariate shift\n:two: *B.* Label shift"
    assert [e["text"] for e in blocks[3]["elements"]] == [
        "*Topic:* monitoring",
        "*Difficulty:* medium",
    ]
    assert "Question #7" in fallback_text(_question())


def test_buttons_keep_the_core_action_in_value_with_unique_action_ids() -> None:
    message = OutMessage(
        tone="answer",
        body="the answer",
        buttons=(
            Button("Again", "grade:1:again", "danger"),
            Button("Good", "grade:1:good", "primary"),
        ),
    )
    actions = render_blocks(message)[-1]
    assert actions["type"] == "actions"
    assert [e["value"] for e in actions["elements"]] == ["grade:1:again", "grade:1:good"]
    ids = [e["action_id"] for e in actions["elements"]]
    assert len(set(ids)) == 2 and all(i.startswith("qotd_button") for i in ids)
    assert [e.get("style") for e in actions["elements"]] == ["danger", "primary"]


def test_user_text_cannot_ping_anyone() -> None:
    message = OutMessage(
        tone="info",
        title="<!everyone> hi",
        body="<!here> <!channel> <@U123> <!subteam^S1> & more",
        choices=(Choice("A", "<!everyone>"),),
    )
    rendered = str(render_blocks(message)) + fallback_text(message)
    assert "<!" not in rendered and "<@" not in rendered
    assert "&lt;\u200b!here&gt;" in rendered and "&amp; more" in rendered


def test_markdown_links_cannot_smuggle_a_ping() -> None:
    """A display name or topic written as a Markdown link would become `<!here|x>` if
    any link target were turned into Slack's link syntax."""
    name = safe_name("[boss](!channel)")
    message = OutMessage(
        tone="info",
        title="Leaderboard",
        body=f"1. {name}: 3 pts\n2. [x](!subteam^S1) [y](@U123ABC) [z](!here) @channel\n"
        "[docs](https://example.com/a?b=1&c=2)",
        fields=(Field("Topic", "[t](!everyone)"),),
    )
    rendered = str(render_blocks(message)) + fallback_text(message)
    assert "<!" not in rendered and "<@" not in rendered
    assert "@channel" not in rendered  # a zero-width space sits after the @
    assert "<https://example.com/a?b=1&amp;c=2|docs>" in rendered


def test_long_bodies_are_cut_within_every_limit_keeping_what_answers_need() -> None:
    paragraph = "word " * 500
    message = OutMessage(
        tone="answer",
        title="T" * 400,
        body="\n".join([paragraph] * 80),
        choices=tuple(Choice(k, "x") for k in OPTION_KEYS),
        buttons=(Button("Good", "grade:1:good"),),
    )
    blocks = render_blocks(message)
    assert len(blocks) <= MAX_BLOCKS and text_size(blocks) <= TEXT_BUDGET
    assert any(b.get("text", {}).get("text") == SHORTENED for b in blocks), "the cut is shown"
    assert len(blocks[0]["text"]["text"]) <= 150
    sections = [b for b in blocks if b["type"] == "section"]
    assert all(len(b["text"]["text"]) <= SECTION_LIMIT for b in sections)
    assert blocks[-1]["type"] == "actions", "buttons survive the cut"
    assert any(":keycap_ten: *J.*" in b["text"]["text"] for b in sections), (
        "options survive the cut"
    )
    assert len(fallback_text(message)) <= 3000
