"""Streaks count consecutive *scheduled* posts (not calendar days), so weekends off,
skipped, paused or missed days never break one. An attempt counts for a scheduled post
when it was recorded before the channel's next scheduled post; the latest scheduled post
is still open, so not having answered it yet does not break the current streak.

Extra posts (an admin's `qotd post` that did not take a scheduled day's claim) are not
part of the sequence: ignoring one breaks nothing, answering one adds nothing to a streak
(it still scores points), and one does not cut short the scheduled post before it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PostMoment:
    post_id: int
    posted_at: datetime
    scheduled: bool = True  # False for an extra post (no scheduled day)


@dataclass(frozen=True)
class Streak:
    current: int
    best: int


def compute_streak(posts: Sequence[PostMoment], attempts: Mapping[int, datetime]) -> Streak:
    """`posts`: the channel's sent posts in posting order (extra posts are ignored).
    `attempts`: post_id -> when this user first recorded an attempt on it."""
    scheduled = [post for post in posts if post.scheduled]
    run = 0
    best = 0
    last = len(scheduled) - 1
    for index, post in enumerate(scheduled):
        answered_at = attempts.get(post.post_id)
        deadline = scheduled[index + 1].posted_at if index < last else None
        counted = answered_at is not None and (deadline is None or answered_at < deadline)
        if counted:
            run += 1
            best = max(best, run)
        elif index < last:
            run = 0
        # an unanswered latest post is still open: the run so far stays current
    return Streak(current=run, best=best)
