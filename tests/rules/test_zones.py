"""Legacy time zone names: fixed offsets refused with the zone to use, aliases stored
as their Area/City name, UTC spellings as UTC."""

from __future__ import annotations

import zoneinfo

import pytest

from bot.rules import zones
from bot.rules.schedule import ScheduleError, parse_schedule, parse_timezone, search_timezones


@pytest.mark.parametrize(("name", "says", "use"), [
    ("EST", "fixed UTC-5 offset without daylight saving", "America/New_York"),
    ("est", "fixed UTC-5 offset without daylight saving", "America/Panama"),
    ("MST", "fixed UTC-7 offset", "America/Denver"),
    ("HST", "fixed UTC-10 offset", "Pacific/Honolulu"),
    ("EST5EDT", "POSIX-style", "America/New_York"),
    ("CST6CDT", "POSIX-style", "America/Chicago"),
    ("MST7MDT", "POSIX-style", "America/Denver"),
    ("PST8PDT", "POSIX-style", "America/Los_Angeles"),
    ("CET", "POSIX-style", "Europe/Berlin"),
    ("GMT", "not UK time", "Europe/London"),
    ("Etc/GMT", "not UK time", "UTC"),
    ("Etc/GMT+5", "fixed UTC-5 offset", "Area/City"),
    ("etc/gmt-14", "fixed UTC+14 offset", "Area/City"),
    ("localtime", "the host's own zone", "Europe/Berlin"),
])
def test_legacy_names_are_refused_with_the_name_to_use(name: str, says: str, use: str) -> None:
    with pytest.raises(ScheduleError) as err:
        parse_timezone(name)
    assert says in str(err.value) and use in str(err.value)


@pytest.mark.parametrize(("name", "stored"), [
    ("UTC", "UTC"), ("Etc/UTC", "UTC"), ("utc", "UTC"), ("Zulu", "UTC"),
    ("US/Eastern", "America/New_York"), ("us/pacific", "America/Los_Angeles"),
    ("Japan", "Asia/Tokyo"), ("Canada/Newfoundland", "America/St_Johns"),
    ("america/new york", "America/New_York"), ("Asia/Kolkata", "Asia/Kolkata"),
])
def test_accepted_names_are_stored_canonically(name: str, stored: str) -> None:
    assert parse_timezone(name) == stored


def test_every_target_is_a_real_zone_that_is_offered() -> None:
    available = zoneinfo.available_timezones()
    for alias, target in zones.ALIASES.items():
        assert alias in available and target in available, alias
        assert zones.offered(target) and not zones.offered(alias)
    for name in zones.REFUSED:
        assert name in available and not zones.offered(name)
    left = sorted(n for n in available if "/" not in n and zones.offered(n))
    assert left == ["UTC"]  # every other non-Area/City name is refused or an alias


def test_autocomplete_offers_no_refused_or_alias_name() -> None:
    assert "EST" not in search_timezones("est", limit=600)
    assert "US/Eastern" not in search_timezones("eastern", limit=600)
    assert search_timezones("new york")[0] == "America/New_York"
    assert "UTC" in search_timezones("utc") and "Etc/UTC" not in search_timezones("utc")


def test_a_typo_suggests_only_usable_names() -> None:
    with pytest.raises(ScheduleError) as err:
        parse_timezone("US/Easter")
    assert "did you mean Pacific/Easter?" in str(err.value)
    assert "US/Eastern" not in str(err.value)


def test_every_bad_option_of_a_schedule_is_reported() -> None:
    with pytest.raises(ScheduleError) as err:
        parse_schedule("25:00", "EST", "funday")
    problems = err.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("time must be HH:MM")
    assert problems[1].startswith("EST is a fixed UTC-5 offset")
    assert problems[2].startswith("unknown day 'funday'")


@pytest.mark.parametrize("text", ["١٢:٠٠", "０９:００", "9:0０", "09:00:00"])
def test_times_are_ascii_digits(text: str) -> None:
    with pytest.raises(ScheduleError, match="time must be HH:MM"):
        parse_schedule(text, None, None)
