"""Slash-command text -> the core's command shape, and the usage line for anything else."""

from __future__ import annotations

import pytest

from adapters.slack.commands import UsageError, parse
from bot.boundary import UserRef


def test_schedule_with_named_options() -> None:
    parsed = parse("/qotd", "schedule time:09:00 timezone:Europe/Berlin days:mon-fri")
    assert parsed.name == "qotd" and parsed.subcommand == "schedule"
    assert parsed.options == {"time": "09:00", "timezone": "Europe/Berlin", "days": "mon-fri"}


def test_schedule_with_positional_words_and_mixed_forms() -> None:
    assert parse("/qotd", "schedule 09:00 Europe/Berlin mon-fri").options == {
        "time": "09:00",
        "timezone": "Europe/Berlin",
        "days": "mon-fri",
    }
    assert parse("/qotd", "SCHEDULE timezone:UTC 7:30").options == {
        "timezone": "UTC",
        "time": "7:30",
    }


def test_values_are_passed_raw_for_the_core_to_validate() -> None:
    assert parse("/qotd", "schedule time:25:99").options == {"time": "25:99"}
    assert parse("/leaderboard", "period:yearly").options == {"period": "yearly"}


def test_topics_accepts_quoted_values_including_slack_smart_quotes() -> None:
    parsed = parse("/qotd", "topics include:“feature stores,monitoring” reset:yes")
    assert parsed.options == {"include": "feature stores,monitoring", "reset": "yes"}


def test_leaderboard_bare_words_are_told_apart_by_value() -> None:
    assert parse("/leaderboard", "").options == {}
    assert parse("/leaderboard", "workspace week").options == {
        "period": "week",
        "scope": "workspace",
    }
    assert parse("/leaderboard", "MONTH").options == {"period": "month"}


def test_answer_number() -> None:
    assert parse("/answer", "").options == {}
    assert parse("/answer", "3").options == {"number": "3"}
    assert parse("/answer", "number:12").options == {"number": "12"}


def test_escaped_mentions_become_the_user_option() -> None:
    assert parse("/streak", "<@U123ABC|ana>").user == UserRef("U123ABC", "ana")
    assert parse("/streak", "<@W9>").user == UserRef("W9", "")  # no label: no name
    assert parse("/qotd", "stats <@U1|bo>").user == UserRef("U1", "bo")
    assert parse("/streak", "").user is None


@pytest.mark.parametrize(
    ("command", "text", "hint"),
    [
        ("/qotd", "", "Usage: /qotd schedule | pause"),
        ("/qotd", "frobnicate", "Unknown subcommand `frobnicate`"),
        ("/qotd", "schedule colour:blue", "Unknown option `colour`"),
        ("/qotd", "schedule time:09:00 time:10:00", "`time` is given twice"),
        ("/qotd", "schedule time:", "`time:` needs a value"),
        ("/qotd", "schedule 09:00 UTC daily extra", "Unexpected `extra`"),
        ("/qotd", "pause now", "Usage: /qotd pause"),
        ("/leaderboard", "forever", "Usage: /leaderboard [week|month|all] [channel|workspace]"),
        ("/streak", "@ana", "Mention the user"),
        ("/streak", "<@U1> <@U2>", "Unexpected mention"),
        ("/answer", "<@U1>", "Unexpected mention"),
        ("/qotd", 'topics include:"open', "Unbalanced quotes"),
    ],
)
def test_malformed_text_gets_the_usage_line(command: str, text: str, hint: str) -> None:
    with pytest.raises(UsageError) as err:
        parse(command, text)
    assert hint in str(err.value)


def test_slacks_escaping_is_undone_after_mentions_are_found() -> None:
    parsed = parse("/qotd", "topics include:a&amp;b,&lt;ml&gt; exclude:&amp;lt;")
    assert parsed.options == {"include": "a&b,<ml>", "exclude": "&lt;"}  # typed `&lt;`
    assert parse("/streak", "<@U1|a&amp;b>").user == UserRef("U1", "a&b")
    with pytest.raises(UsageError, match="Unexpected `<@U2>`"):
        parse("/streak", "&lt;@U2&gt;")  # typed, not picked: text, never a mention


def test_every_bad_option_is_reported_at_once() -> None:
    with pytest.raises(UsageError) as err:
        parse("/qotd", "schedule colour:blue time:09:00 time:10:00 days: size:xl")
    message = str(err.value)
    for problem in (
        "Unknown option `colour`",
        "`time` is given twice",
        "`days:` needs a value",
        "Unknown option `size`",
    ):
        assert problem in message, problem
    assert message.startswith("4 problems:") and message.endswith(
        "Usage: /qotd schedule time:HH:MM timezone:Area/City days:mon-fri reveal:H"
        " answers:buttons|reactions"
    )
    with pytest.raises(UsageError) as err:
        parse("/qotd", "schedule colour:blue 09:00 UTC daily surplus")  # bare words fill in order
    assert "Unknown option `colour`" in str(err.value) and "Unexpected `surplus`" in str(err.value)


def test_a_long_stray_word_is_clipped_in_the_answer() -> None:
    with pytest.raises(UsageError) as err:
        parse("/qotd", "pause " + "x" * 500)
    assert len(str(err.value)) < 120


def test_schedule_takes_the_reveal_delay_like_discord() -> None:
    parsed = parse("/qotd", "schedule 09:00 Europe/Berlin mon-fri reveal:5")
    assert parsed.options == {
        "time": "09:00", "timezone": "Europe/Berlin", "days": "mon-fri", "reveal": "5",
    }
