"""Personal review, as pure rules: the FSRS rating an attempt's facts give, a card's
state replayed from its review logs through the `fsrs` scheduler, retrievability, the
review buttons' actions, due counts and the weakest topics.

No storage and no platform here. The scheduler runs without fuzzing: a card's state is
always the replay of its logs, so the same logs must give the same due date in every
process and every test (a re-rated attempt replays the whole card).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fsrs import Card, Rating, Scheduler, State

from bot.rules.inputs import ROW_ID_MAX, whole_number

SCHEDULER = Scheduler(enable_fuzzing=False)

GRADE_RATINGS: dict[str, Rating] = {
    "again": Rating.Again,
    "hard": Rating.Hard,
    "good": Rating.Good,
    "easy": Rating.Easy,
}
RATING_NAMES: dict[int, str] = {int(r): r.name for r in Rating}
YES, NO = "yes", "no"  # bot.boundary's signal keys (not imported: rules stay leaf modules)


def rating_of(*, choice: str | None, signal: str | None, grade: str | None,
              peeked_before: bool, correct: bool | None) -> Rating | None:
    """The FSRS rating of an attempt's stored facts (storage.models.AttemptRow).

    A self-grade is the most specific fact, so it wins; then a choice vote (correct:
    Good, Hard after a peek at the answer; wrong: Again); then ✅/❌ (Good / Again).
    An attempt with none of these is no review (None)."""
    if grade is not None and grade in GRADE_RATINGS:
        return GRADE_RATINGS[grade]
    if choice is not None:
        if correct:
            return Rating.Hard if peeked_before else Rating.Good
        return Rating.Again
    if signal == YES:
        return Rating.Good
    if signal == NO:
        return Rating.Again
    return None


@dataclass(frozen=True)
class CardState:
    """A card's FSRS state as the `cards` columns store it, plus its counts."""

    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None
    reviews: int
    lapses: int


def new_card(due: datetime) -> CardState:
    """A card never reviewed: FSRS's fresh card (learning, first step), due at `due`."""
    card = Card(card_id=1, due=due)
    return CardState(int(card.state), card.step, None, None, due, None, 0, 0)


def _fsrs_card(state: CardState, card_id: int = 1) -> Card:
    # card_id is always given: fsrs makes one from the wall clock otherwise (and sleeps)
    return Card(card_id=card_id, state=State(state.state), step=state.step,
                stability=state.stability, difficulty=state.difficulty, due=state.due,
                last_review=state.last_review)


def replay(created_at: datetime, reviews: Iterable[tuple[datetime, int]]) -> CardState:
    """The card after its reviews (time, rating) in time order, from a fresh card made
    at `created_at`: what `Scheduler.reschedule_card` does, with the lapses counted (an
    Again on a card in review state). Ties keep their given order (callers sort by log
    id second)."""
    card = Card(card_id=1, due=created_at)
    count = lapses = 0
    for at, rating in sorted(reviews, key=lambda r: r[0]):
        if card.state == State.Review and rating == Rating.Again:
            lapses += 1
        card, _ = SCHEDULER.review_card(card, Rating(rating), review_datetime=at)
        count += 1
    if count == 0:
        return new_card(created_at)
    return CardState(int(card.state), card.step, card.stability, card.difficulty, card.due,
                     card.last_review, count, lapses)


def retrievability(state: CardState, now: datetime) -> float:
    """FSRS's predicted chance of recall at `now` (0 for a card never reviewed)."""
    if state.last_review is None or state.stability is None:
        return 0.0
    return float(SCHEDULER.get_card_retrievability(_fsrs_card(state), now))


# --- the review buttons' actions ---------------------------------------------------
#
# Everything a press needs is in the action and the database (no session in memory, so
# a restart keeps the buttons working): the card's id and how many reviews it had when
# the button was drawn. A press whose count no longer matches is stale (pressed twice,
# or a second session moved on) and rates nothing.

PREFIX = "rv"
ACTION_LIMIT = 90  # bot.boundary.Button.action
REVIEWS_MAX = 1_000_000

CHOOSE, SHOW, RATE, SHARE, FORGET = "c", "s", "r", "sh", "fg"


@dataclass(frozen=True)
class ReviewAction:
    verb: str  # CHOOSE, SHOW, RATE (a card), SHARE, FORGET (a person)
    target: int  # the card id, or for SHARE/FORGET the owner's user key
    reviews: int = 0
    value: str = ""  # CHOOSE: the option letter; RATE: "1".."4"


def action_text(action: ReviewAction) -> str:
    parts = [PREFIX, action.verb, str(action.target)]
    if action.verb in (CHOOSE, SHOW, RATE):
        parts.append(str(action.reviews))
    if action.verb in (CHOOSE, RATE):
        parts.append(action.value)
    text = ":".join(parts)
    assert len(text) <= ACTION_LIMIT
    return text


def is_review_action(action: str) -> bool:
    return action.startswith(PREFIX + ":")


def parse_action(action: str, option_keys: str = "ABCDEFGHIJ") -> ReviewAction | None:
    """The action `action_text` wrote, or None: wrong shape, numbers that are not ASCII
    digits within a column's range, an unknown letter or rating. A forged action never
    reaches the database with a value it cannot hold."""
    if len(action) > ACTION_LIMIT:
        return None
    parts = action.split(":")
    if len(parts) < 3 or parts[0] != PREFIX:
        return None
    verb = parts[1]
    target = whole_number(parts[2], low=1, high=ROW_ID_MAX)
    if target is None:
        return None
    if verb in (SHARE, FORGET):
        return ReviewAction(verb, target) if len(parts) == 3 else None
    if verb not in (CHOOSE, SHOW, RATE) or len(parts) < 4:
        return None
    reviews = whole_number(parts[3], low=0, high=REVIEWS_MAX)
    if reviews is None:
        return None
    if verb == SHOW:
        return ReviewAction(verb, target, reviews) if len(parts) == 4 else None
    if len(parts) != 5:
        return None
    value = parts[4]
    if verb == CHOOSE and not (len(value) == 1 and value in option_keys):
        return None
    if verb == RATE and value not in ("1", "2", "3", "4"):
        return None
    return ReviewAction(verb, target, reviews, value)


# --- counts and mastery ------------------------------------------------------------


@dataclass(frozen=True)
class DueCounts:
    now: int  # due at this moment
    today: int  # due by the end of the person's local day (includes `now`)
    week: int  # due within seven days (includes `today`)


def due_counts(dues: Iterable[datetime], now: datetime, end_of_day: datetime) -> DueCounts:
    week_end = now + timedelta(days=7)
    n = t = w = 0
    for due in dues:
        n += due <= now
        t += due <= end_of_day
        w += due <= week_end
    return DueCounts(n, t, w)


@dataclass(frozen=True)
class TopicMastery:
    topic: str
    cards: int
    reviewed: int  # cards reviewed at least once (the ones retrievability averages)
    retrievability: float  # mean over reviewed cards; 0 when none is
    reviews: int


@dataclass(frozen=True)
class CardFacts:
    """One card as mastery needs it."""

    topic: str
    state: CardState


def mastery(cards: Sequence[CardFacts], now: datetime) -> list[TopicMastery]:
    """Per topic (by name, "General" for none): cards, the mean retrievability of those
    reviewed at least once (a card added and never reviewed is new, not forgotten), and
    reviews. Sorted by topic name."""
    by_topic: dict[str, list[CardState]] = {}
    for card in cards:
        by_topic.setdefault(card.topic or "General", []).append(card.state)
    out = []
    for topic, states in sorted(by_topic.items(), key=lambda kv: kv[0].casefold()):
        reviewed = [retrievability(s, now) for s in states if s.reviews > 0]
        mean = sum(reviewed) / len(reviewed) if reviewed else 0.0
        out.append(TopicMastery(topic, len(states), len(reviewed), mean,
                                sum(s.reviews for s in states)))
    return out


def weakest(topics: Sequence[TopicMastery], count: int = 3) -> list[TopicMastery]:
    """The `count` topics to work on: lowest retrievability among topics with reviewed
    cards (more cards first on a tie, then name)."""
    scored = [t for t in topics if t.reviewed > 0]
    return sorted(scored, key=lambda t: (t.retrievability, -t.cards, t.topic.casefold()))[:count]


def mean_retrievability(states: Iterable[CardState], now: datetime) -> float | None:
    """The retention FSRS predicts now: mean retrievability of reviewed cards."""
    values = [retrievability(s, now) for s in states if s.reviews > 0]
    return sum(values) / len(values) if values else None


def weekly_counts(times: Iterable[datetime], now: datetime, weeks: int = 8) -> tuple[int, ...]:
    """Reviews per 7-day window ending at `now`, `weeks` windows, oldest first."""
    counts = [0] * weeks
    for at in times:
        age = (now - at).days // 7
        if 0 <= age < weeks:
            counts[weeks - 1 - age] += 1
    return tuple(counts)
