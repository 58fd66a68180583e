"""Streak freezes: earned every 7 answered in a row, at most 2 held, a miss consumes one
instead of breaking the streak, never negative; one post at a time equals the whole."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as hs

from bot.rules.freezes import (
    FreezeRule,
    FreezeState,
    FreezeUse,
    Outcome,
    ScheduledPost,
    compute,
    describe,
    outcomes,
    short_day,
    step,
)
from bot.rules.streaks import PostMoment, Streak, compute_streak

A, R, M = Outcome.ANSWERED, Outcome.REPAIRED, Outcome.MISSED
MON = date(2027, 1, 4)


def seq(pattern: str, open_last: bool = False) -> list[ScheduledPost]:
    """Posts from a pattern like "aaar m": a = answered, r = repaired, m = missed; one post a day from MON."""
    codes = {"a": A, "r": R, "m": M}
    letters = pattern.replace(" ", "")
    return [
        ScheduledPost(
            i + 1, MON + timedelta(days=i), codes[c], open=open_last and i == len(letters) - 1
        )
        for i, c in enumerate(letters)
    ]


def test_seven_in_a_row_earn_one() -> None:
    assert compute(seq("aaaaaa")).held == 0
    state = compute(seq("aaaaaaa"))
    assert (state.current, state.held, state.toward_next) == (7, 1, 0)
    assert compute(seq("a" * 13)).held == 1
    assert compute(seq("a" * 14)).held == 2


def test_hold_at_most_two() -> None:
    state = compute(seq("a" * 21))
    assert (state.current, state.best, state.held, state.toward_next) == (21, 21, 2, 0)
    assert compute(seq("a" * 70)).held == 2


def test_a_miss_consumes_a_freeze_and_keeps_the_length() -> None:
    """The frozen post does not add to the streak: 7 answered, 1 frozen, 2 answered is 9."""
    state = compute(seq("aaaaaaa m aa"))
    assert (state.current, state.best, state.held) == (9, 9, 0)
    assert state.used == (FreezeUse(8, MON + timedelta(days=7)),)
    # with none left, the next miss breaks it as today
    broken = compute(seq("aaaaaaa m aa m a"))
    assert (broken.current, broken.best, broken.held, broken.used) == (1, 9, 0, ())


def test_two_misses_in_a_row_use_both_freezes() -> None:
    state = compute(seq("a" * 14 + "mm"))
    assert (state.current, state.held, len(state.used)) == (14, 0, 2)
    assert compute(seq("a" * 14 + "mmm")).current == 0


def test_the_run_toward_a_freeze_restarts_after_a_frozen_miss() -> None:
    """ "Answered in a row": the frozen post was not answered, so 6 before it and 1 after
    do not make 7."""
    state = compute(seq("a" * 7 + "aaaaaa m a"))
    assert (state.current, state.held, state.toward_next) == (14, 0, 1)
    assert compute(seq("a" * 7 + "aaaaaa m aaaaaa")).held == 0
    assert compute(seq("a" * 7 + "aaaaaa m aaaaaaa")).held == 1
    # one miss in every 8 is sustainable: each 7 earns the freeze the next miss uses
    steady = compute(seq("aaaaaaam" * 5))
    assert (steady.current, steady.held, len(steady.used)) == (35, 0, 5)


def test_repaired_posts_count_toward_the_streak_and_the_freeze() -> None:
    state = compute(seq("aaa r aaa"))
    assert (state.current, state.held) == (7, 1)
    assert compute(seq("rrrrrrr m")).current == 7  # repairs earned the freeze the miss used


def test_the_open_latest_post_is_not_a_miss() -> None:
    waiting = compute(seq("aaaaaaa m", open_last=True))
    assert (waiting.current, waiting.held, waiting.used) == (7, 1, ())
    answered = compute(seq("aaaaaa a", open_last=True))
    assert (answered.current, answered.held) == (7, 1)
    with pytest.raises(ValueError):
        compute([*seq("m", open_last=True), *seq("a")])


def test_never_negative_from_the_start() -> None:
    assert compute([]) == FreezeState()
    state = compute(seq("mmmm"))
    assert (state.current, state.best, state.held, state.used) == (0, 0, 0, ())


def test_step_on_a_stored_state() -> None:
    """A stored state is advanced as each post closes; the open post is looked at, not kept."""
    stored = compute(seq("a" * 10))
    latest = ScheduledPost(11, MON + timedelta(days=10), M, open=True)
    assert step(stored, latest) == stored  # not answered yet: shown as is, nothing to keep
    closed = ScheduledPost(11, MON + timedelta(days=10), M)
    assert step(stored, closed) == FreezeState(
        current=10, best=10, held=0, toward_next=0, used=(FreezeUse(11, closed.day),)
    )


def test_describe() -> None:
    state = FreezeState(current=23, best=30, held=1, used=(FreezeUse(5, date(2026, 1, 12)),))
    assert describe(state) == "current 23 (1 freeze used on Mon 12 Jan), 1 freeze left"
    assert describe(FreezeState()) == "current 0, no freezes left"
    two = FreezeState(
        current=30, held=2, used=(FreezeUse(1, date(2026, 1, 12)), FreezeUse(2, date(2026, 2, 3)))
    )
    assert (
        describe(two) == "current 30 (2 freezes used on Mon 12 Jan and Tue 3 Feb), 2 freezes left"
    )
    many = FreezeState(
        current=60, held=0, used=tuple(FreezeUse(i, date(2026, 3, i)) for i in range(1, 6))
    )
    assert describe(many) == "current 60 (5 freezes used, the latest on Thu 5 Mar), no freezes left"
    assert (
        describe(compute(seq("aaaaaaa m aa")))
        == "current 9 (1 freeze used on Mon 11 Jan), no freezes left"
    )


def test_short_day_ignores_the_locale() -> None:
    assert short_day(date(2027, 12, 5)) == "Sun 5 Dec"


def test_rule_numbers_are_checked() -> None:
    with pytest.raises(ValueError):
        FreezeRule(earn_every=0)
    with pytest.raises(ValueError):
        FreezeRule(hold_at_most=-1)


# --- today's facts (streaks.py) as outcomes -------------------------------------------

T0 = datetime(2027, 1, 4, 8, tzinfo=UTC)


def test_outcomes_from_the_streak_facts() -> None:
    """Same deadline rule as streaks.compute_streak: before the next scheduled post;
    extras dropped; the latest open; a repair counts where no answer came in time; the
    day is the post's own where given, else its local day (Berlin: 23:30 UTC is the next
    day)."""
    posts = [
        PostMoment(1, T0),
        PostMoment(90, T0 + timedelta(hours=2), scheduled=False),
        PostMoment(2, T0 + timedelta(days=1)),
        PostMoment(3, T0 + timedelta(days=1, hours=15, minutes=30)),
        PostMoment(4, T0 + timedelta(days=3)),
    ]
    attempts = {1: T0 + timedelta(hours=3), 2: T0 + timedelta(days=2), 90: T0 + timedelta(hours=2)}
    got = outcomes(
        posts, attempts, repaired={3}, timezone="Europe/Berlin", days={4: date(2027, 1, 6)}
    )
    assert got == [
        ScheduledPost(1, date(2027, 1, 4), A),
        ScheduledPost(2, date(2027, 1, 5), M),  # answered after post 3 was out
        ScheduledPost(3, date(2027, 1, 6), R),  # 23:30 UTC on the 5th is the 6th in Berlin
        ScheduledPost(4, date(2027, 1, 6), M, open=True),
    ]


# --- properties ---------------------------------------------------------------------

# runs of answered (some repaired) posts, each followed by a few misses: long enough
# runs to earn and cap freezes, misses to use them and to break streaks
_runs = hs.tuples(hs.lists(hs.sampled_from([A, A, A, R]), max_size=17), hs.integers(0, 3)).map(
    lambda run: [*run[0], *[M] * run[1]]
)
outcome_lists = hs.one_of(
    hs.lists(_runs, max_size=6).map(lambda runs: [kind for run in runs for kind in run]),
    hs.lists(hs.sampled_from([A, A, A, R, M]), max_size=60),
)
rules = hs.builds(FreezeRule, earn_every=hs.integers(1, 9), hold_at_most=hs.integers(0, 3))


def posts_of(kinds: list[Outcome], open_last: bool) -> list[ScheduledPost]:
    return [
        ScheduledPost(i + 1, MON + timedelta(days=i), kind, open=open_last and i == len(kinds) - 1)
        for i, kind in enumerate(kinds)
    ]


def reference(posts: list[ScheduledPost], rule: FreezeRule) -> tuple[int, int, int, list[int]]:
    """The rule as the issue words it, counted from scratch: a run of answered posts
    since the last miss; every `earn_every`-th of a run earns one, up to the cap."""
    current = best = held = run = 0
    used: list[int] = []
    for post in posts:
        if post.outcome is not M:
            current += 1
            run += 1
            if run % rule.earn_every == 0 and held < rule.hold_at_most:
                held += 1
            best = max(best, current)
        elif post.open:
            continue
        elif held:
            held -= 1
            run = 0
            used.append(post.post_id)
        else:
            current = run = 0
            used = []
    return current, best, held, used


@given(outcome_lists, hs.booleans(), rules)
@example([A] * 7 + [M] + [A] * 7 + [M, M], False, FreezeRule())
def test_matches_the_rule_as_worded(
    kinds: list[Outcome], open_last: bool, rule: FreezeRule
) -> None:
    posts = posts_of(kinds, open_last)
    state = compute(posts, rule)
    assert (state.current, state.best, state.held, [u.post_id for u in state.used]) == reference(
        posts, rule
    )


@given(outcome_lists, hs.booleans(), rules)
def test_held_and_counts_stay_in_bounds(
    kinds: list[Outcome], open_last: bool, rule: FreezeRule
) -> None:
    """Never negative, at most `hold_at_most` held at every step, best >= current, and a
    freeze in hand means a streak of at least `earn_every` behind it."""
    state = FreezeState()
    for post in posts_of(kinds, open_last):
        before = state
        state = step(state, post, rule)
        assert 0 <= state.held <= rule.hold_at_most
        assert 0 <= state.toward_next < rule.earn_every
        assert 0 <= state.current <= state.best
        assert state.held == 0 or state.current >= rule.earn_every
        if post.outcome is M and not post.open:
            # a closed miss either uses a freeze (length kept) or breaks the streak
            used_one = state.held == before.held - 1 and state.current == before.current
            assert used_one or (before.held == 0 and state.current == 0)
        if post.outcome is not M:
            assert state.current == before.current + 1


@given(outcome_lists, hs.booleans(), rules, hs.integers(0, 60))
def test_step_folded_equals_the_whole_sequence(
    kinds: list[Outcome], open_last: bool, rule: FreezeRule, cut: int
) -> None:
    """A stored state advanced one post at a time (from any point of the sequence) ends
    where the whole-sequence function does."""
    posts = posts_of(kinds, open_last)
    state = FreezeState()
    for post in posts:
        state = step(state, post, rule)
    assert state == compute(posts, rule)
    head, tail = posts[:cut], posts[cut:]
    if not any(p.open for p in head):
        assert compute(tail, rule, start=compute(head, rule)) == compute(posts, rule)


def facts(
    draw_days: list[int], answers: list[int | None], extras: list[int]
) -> tuple[list[PostMoment], dict[int, datetime]]:
    """Scheduled posts on increasing days (with gaps), attempts some minutes after each
    (None: no attempt), extra posts some hours after a scheduled one."""
    day = 0
    posts: list[PostMoment] = []
    attempts: dict[int, datetime] = {}
    for index, (gap, answer) in enumerate(zip(draw_days, answers, strict=True)):
        day += gap
        posted = T0 + timedelta(days=day)
        posts.append(PostMoment(index + 1, posted))
        if answer is not None:
            attempts[index + 1] = posted + timedelta(minutes=answer)
        if index in extras:
            posts.append(PostMoment(1000 + index, posted + timedelta(hours=3), scheduled=False))
            attempts[1000 + index] = posted + timedelta(hours=4)
    return posts, attempts


streak_facts = hs.integers(0, 40).flatmap(
    lambda n: hs.tuples(
        hs.lists(hs.integers(1, 3), min_size=n, max_size=n),
        # up to 5 days late: often after the next scheduled post, so a miss
        hs.lists(hs.one_of(hs.none(), hs.integers(0, 5 * 24 * 60)), min_size=n, max_size=n),
        hs.lists(hs.integers(0, 40), max_size=5),
    )
)


@given(streak_facts)
@example(([1, 1], [24 * 60, None], []))  # answered exactly when the next post went out
@example(([1, 1, 1], [24 * 60 - 1, 60, None], [0, 1]))
def test_without_freezes_it_is_todays_rule(
    drawn: tuple[list[int], list[int | None], list[int]],
) -> None:
    """With freezes switched off the result is streaks.compute_streak's on the same facts,
    misses, late answers and extra posts included."""
    posts, attempts = facts(*drawn)
    state = compute(outcomes(posts, attempts, (), "UTC"), FreezeRule(hold_at_most=0))
    assert Streak(state.current, state.best) == compute_streak(posts, attempts)


@given(streak_facts)
def test_without_misses_it_is_todays_rule(
    drawn: tuple[list[int], list[int | None], list[int]],
) -> None:
    """Every scheduled post answered in time (the latest may be unanswered, still open):
    freezes change nothing, the streak is today's; on any facts they only lengthen it."""
    posts, attempts = facts(*drawn)
    today = compute_streak(posts, attempts)
    with_freezes = compute(outcomes(posts, attempts, (), "UTC"))
    assert with_freezes.current >= today.current and with_freezes.best >= today.best
    in_time = {p.post_id: p.posted_at + timedelta(minutes=1) for p in posts if p.scheduled}
    scheduled_ids = [p.post_id for p in posts if p.scheduled]
    if scheduled_ids and drawn[1][-1] is None:
        del in_time[scheduled_ids[-1]]
    state = compute(outcomes(posts, in_time, (), "UTC"))
    assert Streak(state.current, state.best) == compute_streak(posts, in_time)
    assert state.used == ()
