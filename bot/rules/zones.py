"""Time zone names a schedule may use, and what to say about the ones it may not.

The tz database keeps old names for backward compatibility. Three kinds are refused,
each with the Area/City name to use, because they silently do something other than
what the admin almost certainly means:

* fixed offsets: `EST` is UTC-5 all year (no daylight saving, so 09:00 turns into
  10:00 New York time in summer), and so are `MST`, `HST`, `GMT` (not UK time: no
  British Summer Time) and `Etc/GMT+5`, whose sign is inverted (it is UTC-5);
* POSIX-style rule names (`EST5EDT`, `CST6CDT`, `MST7MDT`, `PST8PDT`, `CET`, `EET`,
  `MET`, `WET`): deprecated since tzdata 2024b, they follow one country's rules and not
  a place's history;
* names that depend on the host (`localtime`, `Factory`).

Deprecated aliases with a clear target (`US/Eastern`, `Japan`, `Canada/Pacific`) are
accepted and stored as their Area/City name, which the reply shows; the UTC spellings
(`Etc/UTC`, `Zulu`, `UCT`, `Universal`) are stored as `UTC`.

Targets follow the tz database's `backward` file.
"""

from __future__ import annotations

UTC_NAMES = frozenset(
    {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu"}
)

_NO_DST = "a fixed UTC{offset} offset without daylight saving"
_POSIX = "an old POSIX-style rule name (deprecated in the tz database)"

# name -> (why it is refused, what to use instead)
REFUSED: dict[str, tuple[str, str]] = {
    "EST": (_NO_DST.format(offset="-5"),
            "America/New_York (or America/Panama for UTC-5 all year)"),
    "MST": (_NO_DST.format(offset="-7"),
            "America/Denver (or America/Phoenix for UTC-7 all year)"),
    "HST": (_NO_DST.format(offset="-10"), "Pacific/Honolulu"),
    "EST5EDT": (_POSIX, "America/New_York"),
    "CST6CDT": (_POSIX, "America/Chicago"),
    "MST7MDT": (_POSIX, "America/Denver"),
    "PST8PDT": (_POSIX, "America/Los_Angeles"),
    "CET": (_POSIX, "your city's zone, e.g. Europe/Berlin, Europe/Paris or Europe/Brussels"),
    "MET": (_POSIX, "your city's zone, e.g. Europe/Berlin, Europe/Paris or Europe/Brussels"),
    "EET": (_POSIX, "your city's zone, e.g. Europe/Athens, Europe/Helsinki or Europe/Kyiv"),
    "WET": (_POSIX, "your city's zone, e.g. Europe/Lisbon or Atlantic/Canary"),
    "localtime": ("the host's own zone, whatever the server is set to",
                  "your city's zone, e.g. Europe/Berlin"),
    "Factory": ("a placeholder zone with no local time", "your city's zone, e.g. Europe/Berlin"),
}
_GMT = ("a fixed UTC+0 offset without daylight saving (not UK time)",
        "UTC, or Europe/London for UK time")
for _name in ("GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich", "Etc/GMT", "Etc/GMT0",
              "Etc/GMT+0", "Etc/GMT-0", "Etc/Greenwich"):
    REFUSED[_name] = _GMT

ALIASES: dict[str, str] = {
    "US/Alaska": "America/Anchorage", "US/Aleutian": "America/Adak",
    "US/Arizona": "America/Phoenix", "US/Central": "America/Chicago",
    "US/East-Indiana": "America/Indiana/Indianapolis", "US/Eastern": "America/New_York",
    "US/Hawaii": "Pacific/Honolulu", "US/Indiana-Starke": "America/Indiana/Knox",
    "US/Michigan": "America/Detroit", "US/Mountain": "America/Denver",
    "US/Pacific": "America/Los_Angeles", "US/Samoa": "Pacific/Pago_Pago",
    "Navajo": "America/Denver",
    "Canada/Atlantic": "America/Halifax", "Canada/Central": "America/Winnipeg",
    "Canada/Eastern": "America/Toronto", "Canada/Mountain": "America/Edmonton",
    "Canada/Newfoundland": "America/St_Johns", "Canada/Pacific": "America/Vancouver",
    "Canada/Saskatchewan": "America/Regina", "Canada/Yukon": "America/Whitehorse",
    "Mexico/BajaNorte": "America/Tijuana", "Mexico/BajaSur": "America/Mazatlan",
    "Mexico/General": "America/Mexico_City",
    "Brazil/Acre": "America/Rio_Branco", "Brazil/DeNoronha": "America/Noronha",
    "Brazil/East": "America/Sao_Paulo", "Brazil/West": "America/Manaus",
    "Chile/Continental": "America/Santiago", "Chile/EasterIsland": "Pacific/Easter",
    "Australia/ACT": "Australia/Sydney", "Australia/Canberra": "Australia/Sydney",
    "Australia/NSW": "Australia/Sydney", "Australia/LHI": "Australia/Lord_Howe",
    "Australia/North": "Australia/Darwin", "Australia/Queensland": "Australia/Brisbane",
    "Australia/South": "Australia/Adelaide", "Australia/Tasmania": "Australia/Hobart",
    "Australia/Currie": "Australia/Hobart", "Australia/Victoria": "Australia/Melbourne",
    "Australia/West": "Australia/Perth", "Australia/Yancowinna": "Australia/Broken_Hill",
    "Cuba": "America/Havana", "Egypt": "Africa/Cairo", "Eire": "Europe/Dublin",
    "GB": "Europe/London", "GB-Eire": "Europe/London", "Hongkong": "Asia/Hong_Kong",
    "Iceland": "Atlantic/Reykjavik", "Iran": "Asia/Tehran", "Israel": "Asia/Jerusalem",
    "Jamaica": "America/Jamaica", "Japan": "Asia/Tokyo", "Kwajalein": "Pacific/Kwajalein",
    "Libya": "Africa/Tripoli", "NZ": "Pacific/Auckland", "NZ-CHAT": "Pacific/Chatham",
    "PRC": "Asia/Shanghai", "Poland": "Europe/Warsaw", "Portugal": "Europe/Lisbon",
    "ROC": "Asia/Taipei", "ROK": "Asia/Seoul", "Singapore": "Asia/Singapore",
    "Turkey": "Europe/Istanbul", "W-SU": "Europe/Moscow",
}


def refusal(name: str) -> str | None:
    """Why `name` (exact IANA spelling) may not be used and what to use, or None."""
    if name in REFUSED:
        why, use = REFUSED[name]
        return f"{name} is {why}; use {use}"
    if name.startswith("Etc/GMT") and name[7:8] in "+-" and name[8:].isdigit():
        hours = name[8:]
        actual = f"UTC{'-' if name[7] == '+' else '+'}{hours}"
        return (f"{name} is a fixed {actual} offset without daylight saving (the Etc/ sign "
                f"is inverted); use your city's Area/City zone, e.g. Asia/Karachi or "
                "America/Bogota")
    return None


def canonical(name: str) -> str:
    """The name to store for an accepted zone (exact IANA spelling)."""
    if name in UTC_NAMES:
        return "UTC"
    return ALIASES.get(name, name)


def offered(name: str) -> bool:
    """Whether autocomplete should offer `name`: not refused, not an alias."""
    return refusal(name) is None and name not in ALIASES and (
        name == "UTC" or name not in UTC_NAMES
    )
