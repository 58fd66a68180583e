"""Reading what users type: whole numbers, declared options, length limits.

Pure (standard library only). Every check returns or raises a message that names the
valid form, so a refusal tells the user what to type instead. `str.isdigit()` is not
the test for a number: it is True for "²", "١" and "𝟙", which int() then rejects or
reads as another number, and int() of a long enough string reads a value no database
column holds (`/answer 99999999999999999999`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

QUESTION_NUMBER_MAX = 2_000_000_000  # fits the 32-bit integer column of post numbers
ROW_ID_MAX = 2_147_483_647  # the largest id a 32-bit integer primary key can hold
TEXT_LIMIT = 200  # characters, for any option without a limit of its own
SHOWN_LIMIT = 40  # characters of a bad value echoed back in a refusal

_ASCII_DIGITS = re.compile(r"[0-9]+")


class InputError(ValueError):
    """Bad user input; the message names the valid form (shown to the user verbatim).
    One error may carry several problems (one per bad option), one per argument."""

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(str(arg) for arg in self.args)

    def __str__(self) -> str:
        return "\n".join(self.problems)


def shown(value: str, limit: int = SHOWN_LIMIT) -> str:
    """A user's value quoted for a refusal, cut to `limit` characters."""
    if len(value) > limit:
        return repr(value[: limit - 1] + "…")
    return repr(value)


def whole_number(text: str, *, low: int, high: int) -> int | None:
    """The number `text` spells in ASCII digits (surrounding blanks allowed) when it
    lies within [low, high]; None otherwise. Leading zeros are fine ("007" is 7)."""
    digits = text.strip()
    if not _ASCII_DIGITS.fullmatch(digits):
        return None
    significant = digits.lstrip("0") or "0"
    if len(significant) > len(str(high)):  # never hand int() a huge string
        return None
    value = int(significant)
    return value if low <= value <= high else None


def parse_whole_number(text: str, *, low: int, high: int, form: str) -> int:
    """whole_number, or InputError "<form> (got '…')"."""
    value = whole_number(text, low=low, high=high)
    if value is None:
        raise InputError(f"{form} (got {shown(text.strip())})")
    return value


@dataclass(frozen=True)
class OptionSpec:
    """The options one command accepts, and the length limit of each value."""

    command: str  # as the user would type it: "qotd schedule", "answer"
    names: tuple[str, ...] = ()
    limits: Mapping[str, int] | None = None  # per option; TEXT_LIMIT for the rest
    takes_user: bool = False

    def limit(self, name: str) -> int:
        return (self.limits or {}).get(name, TEXT_LIMIT)


def _listing(names: Sequence[str]) -> str:
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} or {names[-1]}"


def option_problems(spec: OptionSpec, options: Mapping[str, str], *,
                    has_user: bool = False) -> list[str]:
    """Every option `spec` does not declare and every value over its limit, one line
    each. `options` has normalised keys (bot.service.intake)."""
    problems: list[str] = []
    unknown = [name for name in options if name not in spec.names]
    if unknown:
        names = ", ".join(shown(name) for name in unknown)
        plural = "s" if len(unknown) > 1 else ""
        if spec.names:
            problems.append(f"unknown option{plural} {names} for `{spec.command}`: "
                            f"use {_listing(spec.names)}")
        else:
            problems.append(f"`{spec.command}` takes no options (got {names})")
    if has_user and not spec.takes_user:
        problems.append(f"`{spec.command}` takes no user")
    for name in spec.names:
        value = options.get(name)
        if value is not None and len(value) > spec.limit(name):
            problems.append(f"{name} is {len(value)} characters long; "
                            f"the limit is {spec.limit(name)}")
    return problems


def problems_of(check: Callable[[], object]) -> list[str]:
    """What a parser refuses, as a list (empty when it accepts): a handler's own
    validation run only to name every problem in one refusal."""
    try:
        check()
    except InputError as exc:
        return list(exc.problems)
    return []


def refusal_text(problems: Sequence[str]) -> str:
    """One reply for every problem of a command: a single one as it is, several as a
    list, so a user fixes them all in one go."""
    if len(problems) == 1:
        return problems[0]
    lines = "\n".join(f"- {p}" for p in problems)
    return f"{len(problems)} problems; nothing was changed:\n{lines}"
