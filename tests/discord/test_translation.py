"""The adapter's pure pieces: emoji keys, embeds within limits, nonces, custom ids,
permissions, settings. No network."""

from __future__ import annotations

import re

import discord
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from adapters.discord import render
from adapters.discord.emoji import KEY_TO_EMOJI, emoji_for, key_for
from adapters.discord.settings import DiscordSettings
from adapters.discord.translate import (
    BOT_PERMISSIONS,
    actor,
    button_action,
    invite_url,
    is_admin,
    option_values,
    reaction_input,
    snowflake,
)
from bot.boundary import NO, OPTION_KEYS, YES, Button, Choice, Field, OutMessage


def _total(embed: dict[str, object]) -> int:
    size = len(str(embed.get("title", ""))) + len(str(embed.get("description", "")))
    for f in embed.get("fields", []):  # type: ignore[attr-defined]
        size += len(f["name"]) + len(f["value"])
    footer = embed.get("footer")
    if isinstance(footer, dict):
        size += len(footer["text"])
    return size


def test_every_key_round_trips_through_its_emoji() -> None:
    for key in [*OPTION_KEYS, YES, NO]:
        assert key_for(emoji_for(key)) == key
    assert emoji_for("A") == "🇦" and emoji_for("J") == "🇯"
    assert key_for("✅\ufe0f") == YES  # Discord may add the variation selector
    assert key_for("👍") is None and key_for(None) is None
    assert len(set(KEY_TO_EMOJI.values())) == len(KEY_TO_EMOJI)
    with pytest.raises(ValueError, match="no Discord emoji"):
        emoji_for("K")


def test_question_embed_has_title_fields_lettered_options_and_footer() -> None:
    message = OutMessage(
        tone="question",
        title="Question #7",
        body="Which tool tracks **experiments**?",
        fields=(Field("Topic", "mlops"), Field("Difficulty", "easy")),
        choices=(Choice("A", "MLflow"), Choice("B", "cron")),
        footer="React with a letter",
    )
    [embed] = render.embeds(message)
    assert embed["title"] == "Question #7"
    assert embed["description"].endswith("🇦 MLflow\n🇧 cron")
    assert [f["name"] for f in embed["fields"]] == ["Topic", "Difficulty"]
    assert embed["footer"] == {"text": "React with a letter"}
    assert embed["color"] == render.COLOURS["question"]


def test_long_answers_split_within_limits_and_never_inside_code() -> None:
    code = "```python\n" + "\n".join(f"x_{i} = {i}" for i in range(400)) + "\n```"
    body = ("A paragraph of explanation. " * 40 + "\n\n") * 8 + code + "\n\nThe end."
    message = OutMessage(tone="reveal", title="Answer", body=body,
                         fields=(Field("Result", "3 answered"),), footer="f" * 100)
    pages = render.embeds(message)
    assert len(pages) > 2
    for page in pages:
        assert len(page.get("description", "")) <= render.DESCRIPTION_LIMIT
        assert _total(page) <= render.MESSAGE_EMBEDS_TOTAL
        assert page.get("description", "").count("```") % 2 == 0
    assert "footer" in pages[-1] and all("footer" not in p for p in pages[:-1])
    joined = "".join(p.get("description", "") for p in pages)
    assert "x_399 = 399" in joined and "The end." in joined


def test_user_text_cannot_ping_anywhere_in_the_embed() -> None:
    message = OutMessage(
        tone="info", title="@everyone look", body="hi @here <@123> <@&456>",
        fields=(Field("by", "@everyone"),), footer="<@!789>",
        buttons=(Button("@here", "grade:1:good"),),
    )
    [embed] = render.embeds(message)
    text = repr(embed) + repr(render.button_rows(message.buttons))
    for dangerous in ("@everyone", "@here", "<@123>", "<@&456>", "<@!789>"):
        assert dangerous not in text


def test_titles_and_fields_are_truncated_to_discord_limits() -> None:
    message = OutMessage(tone="info", title="t" * 400, fields=(Field("n" * 300, "v" * 2000),))
    [embed] = render.embeds(message)
    assert len(embed["title"]) <= 256
    assert len(embed["fields"][0]["name"]) <= 256
    assert len(embed["fields"][0]["value"]) <= 1024


def test_too_many_large_fields_are_dropped_to_fit_one_message() -> None:
    fields = tuple(Field(f"name {i}", "v" * 1000) for i in range(25))
    [embed] = render.embeds(OutMessage(tone="info", title="t", body="b", fields=fields))
    assert _total(embed) <= render.MESSAGE_EMBEDS_TOTAL
    assert 0 < len(embed["fields"]) < 25 and embed["fields"][0]["name"] == "name 0"


def test_nonce_is_deterministic_short_and_distinct_per_key_and_page() -> None:
    a = render.nonce("post:42")
    assert a == render.nonce("post:42") and len(a) <= 25
    assert a != render.nonce("post:43") and a != render.nonce("post:42", 1)


def test_custom_ids_carry_the_action_and_respect_the_limit() -> None:
    assert render.custom_id("grade:42:good") == "qotd:grade:42:good"
    assert render.action_of("qotd:grade:42:good") == "grade:42:good"
    assert render.action_of("other:1") is None
    assert render.custom_id("a" * 90)
    with pytest.raises(ValueError, match="at most 90"):
        render.custom_id("a" * 96)
    rows = render.button_rows(tuple(Button(str(i), f"x:{i}") for i in range(7)))
    assert [len(r) for r in rows] == [5, 2]


def test_admin_means_manage_server_or_manage_channels() -> None:
    assert is_admin(discord.Permissions(manage_guild=True).value)
    assert is_admin(discord.Permissions(manage_channels=True).value)
    assert is_admin(discord.Permissions(administrator=True).value)
    assert not is_admin(discord.Permissions(send_messages=True, add_reactions=True).value)
    assert actor(5, None).display_name == "" and not actor(5, "x").is_admin


def test_invite_url_asks_for_exactly_the_minimal_permissions() -> None:
    expected = discord.Permissions(
        view_channel=True, send_messages=True, send_messages_in_threads=True,
        create_public_threads=True, embed_links=True, add_reactions=True,
        read_message_history=True,
    ).value
    assert expected == BOT_PERMISSIONS
    url = invite_url(123)
    assert "client_id=123" in url and "scope=bot+applications.commands" in url
    assert f"permissions={expected}" in url


def test_settings_read_env_and_hide_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "very-secret-token")
    monkeypatch.setenv("DISCORD_API_BASE", "http://127.0.0.1:9/api/v10/")
    monkeypatch.setenv("DISCORD_SHARD_COUNT", "4")
    monkeypatch.setenv("DISCORD_SHARD_IDS", "0, 2")
    settings = DiscordSettings()
    assert settings.api_base == "http://127.0.0.1:9/api/v10"
    assert settings.shard_id_list() == [0, 2]
    assert "very-secret-token" not in repr(settings) and "very-secret" not in str(settings)
    assert settings.token_value() == "very-secret-token"


def test_settings_refuse_bad_shards_with_an_actionable_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "very-secret-token")
    monkeypatch.setenv("DISCORD_SHARD_IDS", "0,1")
    with pytest.raises(ValidationError, match="needs DISCORD_SHARD_COUNT") as info:
        DiscordSettings()
    assert "very-secret-token" not in str(info.value)
    monkeypatch.setenv("DISCORD_SHARD_COUNT", "2")
    monkeypatch.setenv("DISCORD_SHARD_IDS", "0,5")
    with pytest.raises(ValidationError, match="below DISCORD_SHARD_COUNT=2"):
        DiscordSettings()


def test_missing_token_says_where_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    with pytest.raises(ValueError, match="developer portal"):
        DiscordSettings().token_value()


def test_slack_syntax_is_plain_text_on_discord_never_html_entities() -> None:
    """Each platform escapes for itself: `<!here>` means nothing on Discord, and Discord
    shows `&lt;` literally, so the Discord renderer must not produce it."""
    message = OutMessage(
        tone="info", title="a < b && c > d <!here>", body="<!channel> <@U123> if a<b & b>c",
        fields=(Field("<!subteam^S1>", "x & y"),), footer="<@W9>",
        buttons=(Button("<!everyone>", "grade:1:good"),),
    )
    [embed] = render.embeds(message)
    text = repr(embed) + repr(render.button_rows(message.buttons)) + render.thread_name(message)
    for entity in ("&lt;", "&gt;", "&amp;"):
        assert entity not in text
    assert embed["title"] == "a < b && c > d <!here>"
    assert embed["description"] == "<!channel> <@U123> if a<b & b>c"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="<>@!&#^;:UWlgtamp0123everyonhchl \u200b", max_size=80))
def test_discord_rendering_adds_no_entities_and_leaves_no_live_mention(text: str) -> None:
    message = OutMessage(tone="info", title=text, body=text, fields=(Field(text or "f", text),),
                         footer=text)
    for embed in render.embeds(message):
        out = repr(embed)
        for entity in ("&lt;", "&gt;", "&amp;"):
            assert out.count(entity) <= repr(message).count(entity)
        rendered = " ".join([embed.get("title", ""), embed.get("description", ""),
                             *(f["value"] for f in embed.get("fields", []))])
        assert not re.search(r"<@[!&]?\d+>", rendered)
        assert not re.search(r"@(everyone|here)\b", rendered, re.IGNORECASE)


def test_snowflakes_are_ascii_digits_within_64_bits() -> None:
    assert snowflake("1200000000000000001") == 1200000000000000001
    assert snowflake(42) == 42 and snowflake(str((1 << 64) - 1)) == (1 << 64) - 1
    for bad in ("", "0", "-5", " 12", "1e3", "١٢٣", "²", "𝟙", str(1 << 64), "1" * 21,
                0, -1, 1 << 64, True, 1.0, None, [1], {"id": 1}):
        assert snowflake(bad) is None, bad


def test_reaction_translation_refuses_what_does_not_fit() -> None:
    ok = {"guild_id": "1", "channel_id": "2", "message_id": "3", "user_id": "4",
          "emoji_id": None, "emoji_name": "🇧", "added": True, "display_name": "Ann"}
    reaction = reaction_input(**ok)  # type: ignore[arg-type]
    assert reaction is not None and reaction.key == "B" and reaction.actor.user_id == "4"
    assert reaction.channel.workspace_id == "1" and reaction.message_id == "3"
    for change in ({"guild_id": None}, {"user_id": "x"}, {"message_id": 1 << 70},
                   {"emoji_id": 5}, {"emoji_name": 66}, {"emoji_name": "👍"}):
        assert reaction_input(**{**ok, **change}) is None, change  # type: ignore[arg-type]
    odd_name = reaction_input(**{**ok, "display_name": ["x"]})  # type: ignore[arg-type]
    assert odd_name is not None and odd_name.actor.display_name == ""


def test_option_values_and_button_actions() -> None:
    values, refused = option_values({"time": "09:00", "number": 10**30, "reveal": 3,
                                     "days": None, "x": "", "bad": ["a"], "flag": True})
    assert values == {"time": "09:00", "number": str(10**30), "reveal": "3"}
    assert refused == ["bad", "flag"]
    assert button_action("grade:12:good") == "grade:12:good"
    for bad in ("", "a b", "grade:1:gööd", "x" * 91, "tab\there", 7, None):
        assert button_action(bad) is None, bad
