"""Streaks count posts, not days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.rules.streaks import PostMoment, Streak, compute_streak

MON = datetime(2027, 1, 4, 8, tzinfo=UTC)
# Mon..Fri, then next Mon..Wed (weekend in between: no posts).
DAYS = [0, 1, 2, 3, 4, 7, 8, 9]
POSTS = [PostMoment(i + 1, MON + timedelta(days=d)) for i, d in enumerate(DAYS)]


def answered(*post_ids: int, delay: timedelta = timedelta(hours=1)) -> dict[int, datetime]:
    return {p: POSTS[p - 1].posted_at + delay for p in post_ids}


def test_weekend_does_not_break() -> None:
    assert compute_streak(POSTS, answered(*range(1, 9))) == Streak(current=8, best=8)


def test_skipped_days_without_posts_do_not_break() -> None:
    sparse = [POSTS[0], POSTS[3], POSTS[7]]  # a paused channel: three posts over 10 days
    assert compute_streak(sparse, answered(1, 4, 8)) == Streak(current=3, best=3)


def test_missing_a_post_breaks() -> None:
    result = compute_streak(POSTS, answered(1, 2, 3, 5, 6, 7, 8))
    assert result == Streak(current=4, best=4)
    result = compute_streak(POSTS, answered(1, 2, 3, 4, 6, 7))
    assert result == Streak(current=2, best=4)


def test_answer_after_the_next_post_does_not_count() -> None:
    late = answered(1, 2, 3)
    late[2] = POSTS[2].posted_at + timedelta(minutes=1)  # post 2 answered after post 3 was out
    assert compute_streak(POSTS[:3], late) == Streak(current=1, best=1)
    on_the_edge = {1: POSTS[0].posted_at, 2: POSTS[2].posted_at}  # exactly at the next post
    assert compute_streak(POSTS[:3], on_the_edge) == Streak(current=0, best=1)


def test_open_latest_post_does_not_break_current() -> None:
    assert compute_streak(POSTS, answered(*range(1, 8))) == Streak(current=7, best=7)
    assert compute_streak(POSTS, answered(*range(1, 9))).current == 8


def test_best_is_at_least_current_and_empty_is_zero() -> None:
    assert compute_streak([], {}) == Streak(0, 0)
    assert compute_streak(POSTS, {}) == Streak(0, 0)
    result = compute_streak(POSTS, answered(1, 2, 3, 4, 5, 7, 8))
    assert result == Streak(current=2, best=5)
    assert result.best >= result.current


def test_extra_posts_are_not_part_of_the_sequence() -> None:
    """Only scheduled posts count: an extra post (an admin's ad-hoc `qotd post`) between
    two scheduled ones neither breaks a streak when ignored, nor extends one when
    answered, nor moves the deadline of the scheduled post before it."""
    monday, tuesday = POSTS[0], POSTS[1]
    extra = PostMoment(99, monday.posted_at + timedelta(hours=2), scheduled=False)
    posts = [monday, extra, tuesday]
    # answered Monday's after the extra post went out, ignored the extra, answered Tuesday's
    late_monday = {1: extra.posted_at + timedelta(hours=1), 2: tuesday.posted_at}
    assert compute_streak(posts, late_monday) == Streak(current=2, best=2)
    # answered only the extra post and Tuesday's: Monday's was missed, the extra adds nothing
    assert compute_streak(posts, {99: extra.posted_at, 2: tuesday.posted_at}) == Streak(1, 1)
    assert compute_streak(posts, {99: extra.posted_at}) == Streak(0, 0)
    # an extra post after the latest scheduled one does not close it
    assert compute_streak([monday, extra], {}) == Streak(0, 0)
    assert compute_streak([monday, tuesday, extra], {1: monday.posted_at}) == Streak(1, 1)
    # a channel with only extra posts has no streak
    assert compute_streak([extra], {99: extra.posted_at}) == Streak(0, 0)
