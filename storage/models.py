"""The tables. Invariants the service relies on are constraints here, not checks in code:
one scheduled post per channel per local day, one attempt per user per post, one row per
platform channel, so two processes racing on the same database cannot break them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ChannelRow(Base):
    """A channel the bot serves; `scheduled` stays False until an admin runs schedule."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("platform", "workspace_id", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    workspace_id: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(64))
    scheduled: Mapped[bool] = mapped_column(Boolean, default=False)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    post_time: Mapped[str] = mapped_column(String(5), default="09:00")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    days: Mapped[str] = mapped_column(String(40), default="mon,tue,wed,thu,fri")
    reveal_hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    # slots before this instant are neither posted nor recorded as missed: scheduling or
    # resuming at 10:00 must not post the 09:00 question late
    active_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The engine's schedule: the next slot not yet claimed or recorded missed (UTC), or
    # NULL when nothing is planned (unscheduled, paused). "What is due" is one indexed
    # query on this column; it is recomputed when the schedule changes and by each claim.
    next_slot_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    # who last scheduled or resumed the channel: told privately when a day is missed
    admin_user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cycle: Mapped[int] = mapped_column(Integer, default=1)
    draws: Mapped[int] = mapped_column(Integer, default=0)
    include_topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    exclude_topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    difficulty_weights: Mapped[dict[str, float] | None] = mapped_column(JSON, nullable=True)
    # the picker weighs difficulty and topics by the team's results (issue 14, off by default)
    adaptive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # how members answer the posts (issue 16): "buttons" (one per option, a private vote)
    # or "reactions" (the bot seeds its reaction keys once the post is marked sent)
    answer_mode: Mapped[str] = mapped_column(String(16), default="buttons",
                                             server_default="buttons")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class QuestionRow(Base):
    """A bank question as last synced; retired ones stay so old posts keep their text."""

    __tablename__ = "questions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    topic: Mapped[str] = mapped_column(String(120), index=True)
    difficulty: Mapped[str | None] = mapped_column(String(16), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    group_key: Mapped[str] = mapped_column(String(64), index=True)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PostRow(Base):
    """A day's claim and, once sent, the post. `status`: pending (claimed, not yet sent),
    sent, skipped, missed. `day` is the channel-local day for scheduled claims, NULL for
    extra posts."""

    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("channel_pk", "day"),
        # a channel's sent posts in posting order, read from the index alone (streaks)
        Index("ix_posts_channel_status", "channel_pk", "status", "posted_at", "id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_pk: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    day: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cycle: Mapped[int | None] = mapped_column(Integer, nullable=True)
    question_id: Mapped[str | None] = mapped_column(ForeignKey("questions.id"), nullable=True)
    slot_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A pending send is due at `send_due_at`. Taking the lease moves it to the lease's
    # expiry (renewed while the send runs), so a holder that dies makes the work due
    # again by itself; a failure moves it to the backoff. `send_token` is the fencing
    # token: it changes with every lease, and only its holder may mark the post sent.
    send_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    send_token: Mapped[int] = mapped_column(Integer, default=0)
    send_attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reveal_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # the same three for the reveal; NULL due once revealed or given up
    reveal_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    reveal_token: Mapped[int] = mapped_column(Integer, default=0)
    reveal_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # when points closed: the reveal was posted, or the engine gave up on it (reveal_error)
    revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reveal_message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reveal_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # reactions mode (issue 16): the bot's own reactions are still to be added (set when
    # the post is marked sent, cleared once they are on it; a start seeds what is left)
    seed_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)


class StrayReactionRow(Base):
    """A reaction on a message the database does not know yet: a post that reached the
    platform but is not marked sent (its sender crashed, a resend is on its way). Kept,
    and replayed through the normal path once the post is marked sent with that id."""

    __tablename__ = "stray_reactions"
    __table_args__ = (Index("ix_stray_reactions_channel_message", "channel_pk", "message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_pk: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    key: Mapped[str] = mapped_column(String(8))
    added: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserRow(Base):
    """The latest display name a platform gave us for a user."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "workspace_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    workspace_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReactionRow(Base):
    """Every answer reaction currently on a post, so removing the latest vote falls back
    to the previous one still present."""

    __tablename__ = "reactions"
    __table_args__ = (UniqueConstraint("post_id", "user_pk", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(8))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PeekRow(Base):
    """A user opened /answer for a post (a later choice vote then scores nothing)."""

    __tablename__ = "peeks"
    __table_args__ = (UniqueConstraint("post_id", "user_pk"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    peeked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GradeRow(Base):
    """Every self-grade with its time: the history a personal review schedule needs."""

    __tablename__ = "grades"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(ForeignKey("questions.id"))
    grade: Mapped[str] = mapped_column(String(8))
    graded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AttemptRow(Base):
    """A user's current answer to a post, with the points it earns (recomputed on change).
    `first_at` is when they first answered: streaks and leaderboard ties use it."""

    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("post_id", "user_pk"),
        # leaderboards: per post of the scope, the attempts since the period's start,
        # summed from the index alone
        Index("ix_attempts_board", "post_id", "first_at", "user_pk", "points"),
        # one user's attempts (streaks of the members a board shows, /streak, /stats)
        Index("ix_attempts_user", "user_pk", "post_id", "first_at"),
        # a person's attempts changed since their last card sync (storage/cards.py)
        Index("ix_attempts_user_updated", "user_pk", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    choice: Mapped[str | None] = mapped_column(String(8), nullable=True)
    signal: Mapped[str | None] = mapped_column(String(8), nullable=True)
    grade: Mapped[str | None] = mapped_column(String(8), nullable=True)
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    peeked_before: Mapped[bool] = mapped_column(Boolean, default=False)
    after_reveal: Mapped[bool] = mapped_column(Boolean, default=False)
    correct: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    points: Mapped[float] = mapped_column(Float, default=0.0)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChannelTotalRow(Base):
    """A member's all-time total in one channel: the sum of their attempts' points on the
    channel's sent posts, their first answer there (the board's tie-break) and how many
    attempts that is. Kept by database triggers on attempts (migration 0004), in the same
    transaction as every change; `qotd db sync` rebuilds it. `user_pk` has no foreign key:
    a user's deletion cascades to attempts row by row on SQLite, and each of those triggers
    recomputes the row from the attempts left (a key would refuse the intermediate rows);
    the last one leaves nothing."""

    __tablename__ = "board_channel_totals"
    __table_args__ = (
        # the board: the top by points, the caller's tie group, the count of members
        # with more points, each an index range of one channel
        Index("ix_board_channel_totals_rank", "channel_pk", "points", "first_at", "user_pk"),
    )

    channel_pk: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    user_pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    points: Mapped[float] = mapped_column(Float)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer)


class WorkspaceTotalRow(Base):
    """The same total over every channel of a workspace (the channels' platform and
    workspace_id), for scope:workspace boards."""

    __tablename__ = "board_workspace_totals"
    __table_args__ = (
        Index("ix_board_workspace_totals_rank", "platform", "workspace_id", "points",
              "first_at", "user_pk"),
    )

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    points: Mapped[float] = mapped_column(Float)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer)


class BoardPeriodRow(Base):
    """A week or month board's period in one scope: the attempts first made from `since`
    (the period's local start, in UTC) in a channel (`channel_pk`), or in every channel of
    the workspace (`channel_pk` 0). Made when a board of that period is first asked for
    (storage.queries.Queries.board_period); its totals are then kept by triggers, for
    attempts first made before `keep_until`, after which it is no one's current period
    and is deleted at the next period's making. A week and a month that begin at the
    same instant share one row."""

    __tablename__ = "board_periods"
    __table_args__ = (
        # one row per scope and start; the triggers' lookup of a channel's live periods
        UniqueConstraint("platform", "workspace_id", "channel_pk", "since"),
        # an id is never used again: a board that looked a period up reads that period
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    workspace_id: Mapped[str] = mapped_column(String(64))
    channel_pk: Mapped[int] = mapped_column(Integer)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    keep_until: Mapped[datetime] = mapped_column(UTCDateTime)


class PeriodTotalRow(Base):
    """A member's total in one board period, as ChannelTotalRow is for all time."""

    __tablename__ = "board_period_totals"
    __table_args__ = (
        Index("ix_board_period_totals_rank", "period_id", "points", "first_at", "user_pk"),
    )

    period_id: Mapped[int] = mapped_column(
        ForeignKey("board_periods.id", ondelete="CASCADE"), primary_key=True
    )
    user_pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    points: Mapped[float] = mapped_column(Float)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer)


class CardRow(Base):
    """A person's review card for one question group (near-duplicates share a card), in
    the FSRS state the scheduler last left it: derived from their attempts by replaying
    the card's review logs (storage.cards), never written on the reaction path."""

    __tablename__ = "cards"
    __table_args__ = (
        UniqueConstraint("user_pk", "group_key"),
        # the person's next due card, due counts: an index range of one user
        Index("ix_cards_user_due", "user_pk", "due"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    group_key: Mapped[str] = mapped_column(String(64))
    # the question of the group last attempted or shown: what a review shows
    question_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[int] = mapped_column(Integer)
    step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    stability: Mapped[float | None] = mapped_column(Float, nullable=True)
    difficulty: Mapped[float | None] = mapped_column(Float, nullable=True)
    due: Mapped[datetime] = mapped_column(UTCDateTime)
    last_review: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reviews: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(16))  # 'attempt' | 'added'


class ReviewLogRow(Base):
    """One review of a card: an attempt in a channel (`attempt_id`, re-rated in place when
    the attempt changes; kept with NULL when the attempt is withdrawn) or a rating in a
    /review session. FSRS replays these in time order and can optimise weights from them."""

    __tablename__ = "review_logs"
    __table_args__ = (
        UniqueConstraint("attempt_id"),
        Index("ix_review_logs_card_reviewed", "card_id", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id", ondelete="CASCADE"))
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("attempts.id", ondelete="SET NULL"), nullable=True)
    # the attempt's updated_at this log was rated from: a newer one means re-rate
    attempt_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    source: Mapped[str] = mapped_column(String(16))  # 'attempt' | 'review'
    rating: Mapped[int] = mapped_column(Integer)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    review_duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ReviewResetRow(Base):
    """When a person last ran /review forget: attempts first made before it never make
    cards again (without it the next sync would rebuild every forgotten card)."""

    __tablename__ = "review_resets"

    user_pk: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    forgot_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CardSyncRow(Base):
    """How far a person's cards are known to be up to date with their attempts: every
    attempt whose `updated_at` is before `synced_to` (less CARD_SYNC_MARGIN, for
    transactions still in flight and clocks of other replicas) has its review log, so the
    next sync reads only the attempts changed since, not the person's whole history."""

    __tablename__ = "card_syncs"

    user_pk: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    synced_to: Mapped[datetime] = mapped_column(UTCDateTime)


class ReminderRow(Base):
    """A person's daily review nudge: their local time and zone, and the next instant."""

    __tablename__ = "reminders"

    user_pk: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    local_time: Mapped[str] = mapped_column(String(5))  # "HH:MM"
    timezone: Mapped[str] = mapped_column(String(64))
    next_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NudgeRow(Base):
    """One person's nudge for one local day: the exactly-once claim, like a post's."""

    __tablename__ = "nudges"
    __table_args__ = (UniqueConstraint("user_pk", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # 'pending' | 'sent' | 'skipped'
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
