"""Streaks count consecutive *posts* (not calendar days), so weekends off, skipped,
paused or missed days never break one. An attempt counts for a post when it was recorded
before the channel's next post; the latest post is still open, so not having answered it
yet does not break the current streak."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PostMoment:
    post_id: int
    posted_at: datetime


@dataclass(frozen=True)
class Streak:
    current: int
    best: int


def compute_streak(posts: Sequence[PostMoment], attempts: Mapping[int, datetime]) -> Streak:
    """`posts`: the channel's sent posts in posting order. `attempts`: post_id -> when
    this user first recorded an attempt on it."""
    run = 0
    best = 0
    last = len(posts) - 1
    for index, post in enumerate(posts):
        answered_at = attempts.get(post.post_id)
        deadline = posts[index + 1].posted_at if index < last else None
        counted = answered_at is not None and (deadline is None or answered_at < deadline)
        if counted:
            run += 1
            best = max(best, run)
        elif index < last:
            run = 0
        # an unanswered latest post is still open: the run so far stays current
    return Streak(current=run, best=best)
