"""A channel's topic and difficulty filters, read from `qotd topics` options.

Every bad option is reported (one line each in the InputError), and numbers are read
as ASCII digits within bounds: a weight of 400 nines used to be read as infinity and
saved, which no picking can use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.rules.inputs import InputError, shown
from content.model import DIFFICULTIES
from content.topics import topic_key

DIFFICULTY_FORM = (
    "difficulty must be a list like easy,medium or weights like easy=2,medium=1,hard=0 "
    f"(difficulties: {', '.join(DIFFICULTIES)})"
)
TOPIC_LIST_MAX = 25  # topics in one include/exclude list
_WEIGHT = re.compile(r"(easy|medium|hard)\s*=\s*([0-9]{1,3}(?:\.[0-9]{1,3})?)")
WEIGHT_MAX = 100.0


def parse_difficulty(text: str) -> dict[str, float]:
    """`easy,medium` (the rest 0) or `easy=2,medium=1,hard=0` (the rest 1); weights
    are ASCII numbers from 0 to 100. Raises InputError naming every bad item."""
    items = [t.strip().lower() for t in text.split(",") if t.strip()]
    if not items:
        raise InputError(DIFFICULTY_FORM)
    if all("=" not in t for t in items):
        unknown = [t for t in items if t not in DIFFICULTIES]
        if unknown:
            names = ", ".join(shown(t) for t in unknown[:5])
            raise InputError(f"unknown difficulty {names}: {DIFFICULTY_FORM}")
        return {d: (1.0 if d in items else 0.0) for d in DIFFICULTIES}
    weights: dict[str, float] = dict.fromkeys(DIFFICULTIES, 1.0)
    bad: list[str] = []
    for item in items:
        match = _WEIGHT.fullmatch(item)
        if not match or float(match.group(2)) > WEIGHT_MAX:
            bad.append(item)
            continue
        weights[match.group(1)] = float(match.group(2))
    if bad:
        names = ", ".join(shown(t) for t in bad[:5])
        raise InputError(f"cannot read {names}: {DIFFICULTY_FORM}, each weight from 0 to "
                         f"{WEIGHT_MAX:g}")
    if not any(weights.values()):
        raise InputError(f"at least one difficulty needs a weight above 0: {DIFFICULTY_FORM}")
    return weights


def _topic_list(option: str, text: str, known: list[str]) -> list[str]:
    """The known topics an include/exclude list names, compared by `topic_key` (case,
    spacing, `&`/`and`), so an admin need not type a topic exactly as the bank spells it.
    A key that two stored spellings share (a bank from before topics were unified) names
    both."""
    by_key: dict[str, list[str]] = {}
    for t in known:
        if topic_key(t):  # "no topic" cannot be typed, nor matched by "-" or "&"
            by_key.setdefault(topic_key(t), []).append(t)
    wanted = [t.strip() for t in text.split(",") if t.strip()]
    if len(wanted) > TOPIC_LIST_MAX:
        raise InputError(f"{option} names {len(wanted)} topics; the limit is {TOPIC_LIST_MAX}")
    unknown = [t for t in wanted if topic_key(t) not in by_key]
    if unknown:
        names = ", ".join(shown(t) for t in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise InputError(
            f"unknown topic{'s' if len(unknown) > 1 else ''} {names}{more}; "
            f"valid topics: {', '.join(known) or '(none yet)'}"
        )
    return sorted({spelling for t in wanted for spelling in by_key[topic_key(t)]})


@dataclass(frozen=True)
class Filters:
    include: list[str]
    exclude: list[str]
    weights: dict[str, float] | None


def filters_request(opts: Mapping[str, str], known: list[str], current: Filters) -> Filters:
    """The filters the options ask for (left-out ones keep `current`; `reset:yes`
    clears them first). Raises InputError with one line per bad option."""
    problems: list[str] = []
    include, exclude, weights = current.include, current.exclude, current.weights
    if "reset" in opts:
        if opts["reset"].strip().lower() not in ("yes", "true", "1"):
            problems.append(f"reset must be yes (got {shown(opts['reset'].strip())})")
        include, exclude, weights = [], [], None
    for option in ("include", "exclude"):
        if option in opts:
            try:
                chosen = _topic_list(option, opts[option], known)
            except InputError as exc:
                problems.extend(exc.problems)
                continue
            include, exclude = (chosen, exclude) if option == "include" else (include, chosen)
    if "difficulty" in opts:
        try:
            weights = parse_difficulty(opts["difficulty"])
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(*problems)
    return Filters(include, exclude, weights)
