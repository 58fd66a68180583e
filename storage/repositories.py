"""Repositories: the only place that writes SQL. Each takes the unit of work's session,
so everything one command changes commits or rolls back together."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, case, delete, func, literal, null, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from storage.models import (
    AttemptRow,
    ChannelRow,
    GradeRow,
    PeekRow,
    PostRow,
    QuestionRow,
    ReactionRow,
    StrayReactionRow,
    UserRow,
)

PENDING = "pending"
SENT = "sent"
SKIPPED = "skipped"
MISSED = "missed"
FAILED = "failed"  # an extra post that could not be sent within the grace window


class _Repo:
    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self.session = session
        self.dialect = dialect

    def _insert(self, model: Any) -> Any:
        """The dialect's INSERT, which has ON CONFLICT DO NOTHING / DO UPDATE on both. On
        the model's Table: an ORM-enabled insert of the same values builds its statement
        several times slower (profiled on /qotd post), for nothing an upsert uses."""
        table = getattr(model, "__table__", model)
        return pg_insert(table) if self.dialect == "postgresql" else sqlite_insert(table)


@functools.cache
def _channel_statement() -> Any:
    """ChannelRepo.get's statement, built once: every command reads its channel, and
    building the select each time cost more Python than the index lookup it runs."""
    return select(ChannelRow).where(
        ChannelRow.platform == bindparam("platform"),
        ChannelRow.workspace_id == bindparam("workspace_id"),
        ChannelRow.channel_id == bindparam("channel_id"),
    )


class ChannelRepo(_Repo):
    async def get(self, platform: str, workspace_id: str, channel_id: str) -> ChannelRow | None:
        params = {"platform": platform, "workspace_id": workspace_id, "channel_id": channel_id}
        return (await self.session.scalars(_channel_statement(), params)).one_or_none()

    async def get_or_create(
        self, platform: str, workspace_id: str, channel_id: str, now: datetime
    ) -> ChannelRow:
        """Race-free: two first commands in a new channel create one row. A channel
        that exists (every command but its first) is one read, no write."""
        found = await self.get(platform, workspace_id, channel_id)
        if found is not None:
            return found
        stmt = (
            self._insert(ChannelRow)
            .values(
                platform=platform,
                workspace_id=workspace_id,
                channel_id=channel_id,
                scheduled=False,
                paused=False,
                post_time="09:00",
                timezone="UTC",
                days="mon,tue,wed,thu,fri",
                cycle=1,
                draws=0,
                include_topics=[],
                exclude_topics=[],
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["platform", "workspace_id", "channel_id"])
        )
        await self.session.execute(stmt)
        row = await self.get(platform, workspace_id, channel_id)
        assert row is not None
        return row

    async def by_pk(self, pk: int) -> ChannelRow | None:
        return await self.session.get(ChannelRow, pk)

    async def due(self, now: datetime, platforms: Sequence[str], limit: int) -> list[int]:
        """Channels whose next slot has come: one range scan of ix_channels_next_slot_at."""
        stmt = (
            select(ChannelRow.id)
            .where(
                ChannelRow.next_slot_at <= now,
                ChannelRow.scheduled.is_(True),
                ChannelRow.paused.is_(False),
                ChannelRow.platform.in_(platforms),
            )
            .order_by(ChannelRow.next_slot_at, ChannelRow.id)
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    async def unplanned(self, platforms: Sequence[str]) -> Sequence[ChannelRow]:
        """Scheduled, running channels with no next slot: rows an earlier version wrote."""
        stmt = select(ChannelRow).where(
            ChannelRow.next_slot_at.is_(None),
            ChannelRow.scheduled.is_(True),
            ChannelRow.paused.is_(False),
            ChannelRow.platform.in_(platforms),
        )
        return (await self.session.scalars(stmt)).all()

    async def lock_due(self, pk: int, now: datetime) -> ChannelRow | None:
        """The channel if its slot is still due, row-locked for this transaction. On
        PostgreSQL another replica holding the lock makes this return None at once
        (SKIP LOCKED) instead of waiting; SQLite has one writer at a time anyway."""
        stmt = (
            select(ChannelRow)
            .where(ChannelRow.id == pk, ChannelRow.next_slot_at <= now,
                   ChannelRow.scheduled.is_(True), ChannelRow.paused.is_(False))
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def advance(self, pk: int, expected: datetime, following: datetime | None) -> bool:
        """Move the channel's next slot from `expected` to `following`; False when another
        process moved it first (the compare-and-set that makes a slot handled once)."""
        stmt = (
            update(ChannelRow)
            .where(ChannelRow.id == pk, ChannelRow.next_slot_at == expected)
            .values(next_slot_at=following)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(await self.session.execute(stmt)) == 1

    async def earliest_slot(self, platforms: Sequence[str], after: datetime
                            ) -> datetime | None:
        stmt = select(func.min(ChannelRow.next_slot_at)).where(
            ChannelRow.next_slot_at > after,
            ChannelRow.scheduled.is_(True), ChannelRow.paused.is_(False),
            ChannelRow.platform.in_(platforms),
        )
        value: datetime | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return value

    async def next_draw(self, pk: int) -> int:
        """Bump the channel's draw counter atomically (a row lock on PostgreSQL, the write
        lock on SQLite), which also serialises concurrent picks in one channel."""
        stmt = (
            update(ChannelRow)
            .where(ChannelRow.id == pk)
            .values(draws=ChannelRow.draws + 1)
            .returning(ChannelRow.draws)
        )
        value = int((await self.session.execute(stmt)).scalar_one())
        # a channel row this session holds learns the new count without a second read
        held = self.session.identity_map.get(identity_key(ChannelRow, pk))
        if held is not None:
            set_committed_value(held, "draws", value)
        return value



class QuestionRepo(_Repo):
    async def upsert(self, rows: Sequence[dict[str, Any]]) -> None:
        for chunk_start in range(0, len(rows), 200):
            chunk = rows[chunk_start : chunk_start + 200]
            stmt = self._insert(QuestionRow).values(chunk)
            stmt = stmt.on_conflict_do_update(
                index_elements=["id"],
                set_={
                    name: getattr(stmt.excluded, name)
                    for name in (
                        "status", "topic", "difficulty", "kind", "group_key", "retired",
                        "data", "synced_at",
                    )
                },
            )
            await self.session.execute(stmt)

    async def retire_except(self, keep: Iterable[str]) -> int:
        """Mark questions no longer in the bank retired (never delete: posts refer to them)."""
        ids = set(keep)
        existing = (await self.session.scalars(select(QuestionRow.id))).all()
        gone = [q for q in existing if q not in ids]
        if gone:
            await self.session.execute(
                update(QuestionRow).where(QuestionRow.id.in_(gone)).values(retired=True)
            )
        return len(gone)

    async def get(self, question_id: str) -> QuestionRow | None:
        return await self.session.get(QuestionRow, question_id)

    async def pickable(self) -> Sequence[QuestionRow]:
        """Ready, current, canonical questions (a near-duplicate group counts once)."""
        stmt = select(QuestionRow).where(
            QuestionRow.status == "ready",
            QuestionRow.retired.is_(False),
            QuestionRow.id == QuestionRow.group_key,
        )
        return (await self.session.scalars(stmt)).all()

    async def group(self, group_key: str) -> Sequence[QuestionRow]:
        stmt = (
            select(QuestionRow)
            .where(QuestionRow.group_key == group_key, QuestionRow.retired.is_(False))
            .order_by(QuestionRow.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def topics(self) -> list[str]:
        stmt = (
            select(QuestionRow.topic)
            .where(QuestionRow.status == "ready", QuestionRow.retired.is_(False))
            .distinct()
        )
        return sorted(t for t in (await self.session.scalars(stmt)).all() if t)


class PostRepo(_Repo):
    async def claim(
        self,
        channel_pk: int,
        day: date | None,
        status: str,
        now: datetime,
        *,
        slot_at: datetime | None = None,
        lease_until: datetime | None = None,
        number: int | None = None,
        cycle: int | None = None,
        question_id: str | None = None,
    ) -> int | None:
        """Insert a claim; None when the (channel, day) already has one (someone else won).
        Extra posts (day None) never conflict. A pending claim with `lease_until` is
        taken by its claimant: its first send holds token 1 until then. `number`,
        `cycle` and `question_id`: the pick, when it was made before the claim."""
        assigned = {name: value for name, value in
                    (("number", number), ("cycle", cycle), ("question_id", question_id))
                    if value is not None}
        stmt = self._claim(channel_pk, day, status, now, slot_at, lease_until,
                           **assigned).returning(PostRow.id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def claim_day_or_extra(
        self,
        channel_pk: int,
        day: date,
        slot_at: datetime,
        now: datetime,
        lease_until: datetime,
        *,
        number: int,
        cycle: int,
        question_id: str,
    ) -> tuple[int, bool] | None:
        """`qotd post`'s pending claim, its question already picked, in one statement:
        the channel's `day` when no claim holds it yet, else an extra post (day and slot
        NULL), as `claim(day)` followed by `claim(None)` on its conflict. Returns (post
        id, whether it took the day); None when the day was taken by a claim that this
        statement's snapshot could not see (a concurrent claimant on PostgreSQL): the
        caller then claims an extra post with `claim`."""
        taken = (
            select(PostRow.id)
            .where(PostRow.channel_pk == channel_pk, PostRow.day == day)
            .exists()
        )
        table = PostRow.__table__.c
        stmt = (
            self._claim(
                channel_pk,
                case((taken, null()), else_=literal(day, table.day.type)),
                PENDING, now,
                case((taken, null()), else_=literal(slot_at, table.slot_at.type)),
                lease_until, number=number, cycle=cycle, question_id=question_id,
            )
            .returning(PostRow.id, PostRow.day)  # (not `day IS NOT NULL`: SQLite 3.40
        )                                         # returns 1 for it here, day NULL or not)
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (int(row[0]), row[1] is not None)

    def _claim(self, channel_pk: int, day: Any, status: str, now: datetime, slot_at: Any,
               lease_until: datetime | None, **assigned: Any) -> Any:
        leased = lease_until is not None
        return (
            self._insert(PostRow)
            .values(
                channel_pk=channel_pk,
                day=day,
                status=status,
                slot_at=slot_at,
                claimed_at=now,
                send_due_at=lease_until,
                send_token=1 if leased else 0,
                send_attempts=1 if leased else 0,
                reveal_token=0,
                reveal_attempts=0,
                **assigned,
            )
            .on_conflict_do_nothing(index_elements=["channel_pk", "day"])
        )

    async def assign(self, post_id: int, number: int, cycle: int, question_id: str) -> None:
        """A fresh claim's pick (its number, cycle and question), written without loading
        the row (the claim inserted it in this transaction)."""
        stmt = (
            update(PostRow)
            .where(PostRow.id == post_id)
            .values(number=number, cycle=cycle, question_id=question_id)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    async def get(self, post_id: int) -> PostRow | None:
        return await self.session.get(PostRow, post_id)

    async def on_day(self, channel_pk: int, day: date) -> PostRow | None:
        stmt = select(PostRow).where(PostRow.channel_pk == channel_pk, PostRow.day == day)
        return (await self.session.scalars(stmt)).one_or_none()

    async def by_message(self, channel_pk: int, message_id: str) -> PostRow | None:
        stmt = select(PostRow).where(
            PostRow.channel_pk == channel_pk, PostRow.message_id == message_id
        )
        return (await self.session.scalars(stmt)).first()

    async def by_number(self, channel_pk: int, number: int) -> PostRow | None:
        stmt = select(PostRow).where(
            PostRow.channel_pk == channel_pk, PostRow.number == number, PostRow.status == SENT
        )
        return (await self.session.scalars(stmt)).first()

    async def latest_sent(self, channel_pk: int) -> PostRow | None:
        stmt = (
            select(PostRow)
            .where(PostRow.channel_pk == channel_pk, PostRow.status == SENT)
            .order_by(PostRow.posted_at.desc(), PostRow.id.desc())
            .limit(1)
        )
        return (await self.session.scalars(stmt)).first()

    async def sent(self, channel_pks: Sequence[int]) -> Sequence[PostRow]:
        stmt = (
            select(PostRow)
            .where(PostRow.channel_pk.in_(channel_pks), PostRow.status == SENT)
            .order_by(PostRow.posted_at, PostRow.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def asked_in_cycle(self, channel_pk: int, cycle: int) -> set[str]:
        stmt = (
            select(QuestionRow.group_key)
            .join(PostRow, PostRow.question_id == QuestionRow.id)
            .where(PostRow.channel_pk == channel_pk, PostRow.cycle == cycle)
        )
        return set((await self.session.scalars(stmt)).all())

    async def last_topic(self, channel_pk: int) -> str | None:
        stmt = (
            select(QuestionRow.topic)
            .join(PostRow, PostRow.question_id == QuestionRow.id)
            .where(PostRow.channel_pk == channel_pk)
            .order_by(PostRow.number.desc())
            .limit(1)
        )
        return (await self.session.scalars(stmt)).first()

    async def last_slot(self, channel_pk: int) -> datetime | None:
        stmt = select(func.max(PostRow.slot_at)).where(PostRow.channel_pk == channel_pk)
        value: datetime | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return value

    async def has_pending(self, channel_pk: int, *, lock: bool = False) -> bool:
        """With `lock`, the pending rows stay locked until commit (PostgreSQL), so a
        concurrent mark-sent of one of them waits for this transaction, and then sees
        what it wrote (a stray reaction); SQLite serialises writers anyway."""
        stmt = select(PostRow.id).where(
            PostRow.channel_pk == channel_pk, PostRow.status == PENDING
        )
        if lock:
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).first() is not None

    # -- sends ---------------------------------------------------------------------------

    async def due_sends(self, now: datetime, platforms: Sequence[str], limit: int) -> list[int]:
        """Pending claims whose send may be attempted now (never tried, failed and backed
        off, or whose sender's lease ran out)."""
        stmt = (
            select(PostRow.id)
            .join(ChannelRow, ChannelRow.id == PostRow.channel_pk)
            .where(PostRow.send_due_at <= now, PostRow.status == PENDING,
                   ChannelRow.platform.in_(platforms))
            .order_by(PostRow.send_due_at, PostRow.id)
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    async def take_send(self, post_id: int, now: datetime, until: datetime) -> int | None:
        """Take the send lease: a new fencing token, or None when the claim is not due
        (another process holds it, or it is no longer pending)."""
        stmt = (
            update(PostRow)
            .where(PostRow.id == post_id, PostRow.status == PENDING,
                   PostRow.send_due_at <= now)
            .values(send_token=PostRow.send_token + 1, send_due_at=until,
                    send_attempts=PostRow.send_attempts + 1)
            .returning(PostRow.send_token)
            .execution_options(synchronize_session=False)
        )
        value = (await self.session.execute(stmt)).scalar_one_or_none()
        return None if value is None else int(value)

    async def renew_send(self, post_id: int, token: int, until: datetime) -> bool:
        """Move the send's due time (extend the lease, or after a failure the backoff);
        False when the lease was lost (the token moved on, or it is done)."""
        stmt = (
            update(PostRow)
            .where(PostRow.id == post_id, PostRow.status == PENDING,
                   PostRow.send_token == token)
            .values(send_due_at=until)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(await self.session.execute(stmt)) == 1

    async def mark_sent(self, post_id: int, token: int, message_id: str, now: datetime,
                        reveal_at: datetime) -> bool:
        """Record the platform's message id, only for the holder of the current token:
        a sender whose lease was taken over must not overwrite what the new holder did."""
        stmt = (
            update(PostRow)
            .where(PostRow.id == post_id, PostRow.status == PENDING,
                   PostRow.send_token == token)
            .values(status=SENT, message_id=message_id, posted_at=now, reveal_at=reveal_at,
                    send_due_at=None, reveal_due_at=reveal_at)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(await self.session.execute(stmt)) == 1

    async def give_up_send(self, post_id: int, token: int, status: str) -> bool:
        """Past the grace window: recorded missed (scheduled) or failed (extra); the
        question goes back into the cycle, never having been shown."""
        stmt = (
            update(PostRow)
            .where(PostRow.id == post_id, PostRow.status == PENDING,
                   PostRow.send_token == token)
            .values(status=status, send_due_at=None, question_id=None)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(await self.session.execute(stmt)) == 1

    # -- reveals -------------------------------------------------------------------------

    async def due_reveals(self, now: datetime, platforms: Sequence[str], limit: int
                          ) -> list[int]:
        stmt = (
            select(PostRow.id)
            .join(ChannelRow, ChannelRow.id == PostRow.channel_pk)
            .where(PostRow.reveal_due_at <= now, PostRow.status == SENT,
                   PostRow.revealed_at.is_(None), ChannelRow.platform.in_(platforms))
            .order_by(PostRow.reveal_due_at, PostRow.id)
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    async def take_reveal(self, post_id: int, now: datetime, until: datetime) -> int | None:
        stmt = (
            update(PostRow)
            .where(PostRow.id == post_id, PostRow.status == SENT,
                   PostRow.revealed_at.is_(None), PostRow.reveal_due_at <= now)
            .values(reveal_token=PostRow.reveal_token + 1, reveal_due_at=until,
                    reveal_attempts=PostRow.reveal_attempts + 1)
            .returning(PostRow.reveal_token)
            .execution_options(synchronize_session=False)
        )
        value = (await self.session.execute(stmt)).scalar_one_or_none()
        return None if value is None else int(value)

    async def renew_reveal(self, post_id: int, token: int, until: datetime) -> bool:
        stmt = (
            update(PostRow)
            .where(PostRow.id == post_id, PostRow.revealed_at.is_(None),
                   PostRow.reveal_token == token)
            .values(reveal_due_at=until)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(await self.session.execute(stmt)) == 1

    async def close_reveal(self, post_id: int, token: int, now: datetime,
                           reply_id: str | None, error: str | None = None) -> bool:
        """Points close: the reveal was posted (`reply_id`), or the engine gave up on it
        (`error`, shown by `qotd status`)."""
        stmt = (
            update(PostRow)
            .where(PostRow.id == post_id, PostRow.revealed_at.is_(None),
                   PostRow.reveal_token == token)
            .values(revealed_at=now, reveal_message_id=reply_id, reveal_due_at=None,
                    reveal_error=error)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(await self.session.execute(stmt)) == 1

    async def earliest_due(self, platforms: Sequence[str], after: datetime
                           ) -> datetime | None:
        """The first moment after `after` a send or a reveal becomes due."""
        sends = select(func.min(PostRow.send_due_at)).join(
            ChannelRow, ChannelRow.id == PostRow.channel_pk
        ).where(PostRow.send_due_at > after, PostRow.status == PENDING,
                ChannelRow.platform.in_(platforms))
        reveals = select(func.min(PostRow.reveal_due_at)).join(
            ChannelRow, ChannelRow.id == PostRow.channel_pk
        ).where(PostRow.reveal_due_at > after, PostRow.status == SENT,
                PostRow.revealed_at.is_(None), ChannelRow.platform.in_(platforms))
        moments = [
            (await self.session.execute(sends)).scalar_one_or_none(),
            (await self.session.execute(reveals)).scalar_one_or_none(),
        ]
        present = [m for m in moments if m is not None]
        return min(present) if present else None

    async def days_from(self, channel_pk: int, first: date) -> dict[date, str]:
        stmt = select(PostRow.day, PostRow.status).where(
            PostRow.channel_pk == channel_pk, PostRow.day >= first
        )
        return {d: s for d, s in (await self.session.execute(stmt)).all() if d is not None}


class UserRepo(_Repo):
    async def upsert(
        self, platform: str, workspace_id: str, user_id: str, display_name: str, now: datetime
    ) -> int:
        """Keep the latest display name (it arrives with most inputs). An empty name means
        the platform did not say (Discord's reaction-removed event carries no member): it
        never replaces a known one, and a new user is shown by their id until it is known."""
        stmt = self._new_user(platform, workspace_id, user_id, display_name, now)
        changes: dict[str, Any] = {"updated_at": now}
        if display_name:
            changes["display_name"] = stmt.excluded.display_name
        stmt = stmt.on_conflict_do_update(
            index_elements=["platform", "workspace_id", "user_id"], set_=changes
        ).returning(UserRow.id)
        return int((await self.session.execute(stmt)).scalar_one())

    async def remember_name(self, platform: str, workspace_id: str, user_id: str,
                            display_name: str, now: datetime) -> None:
        """`upsert` for commands, which need no id: a name that has not changed writes
        nothing, so the commit after it has nothing to flush (`updated_at` then tells
        when the user last answered or was renamed; nothing reads it today)."""
        stmt = self._new_user(platform, workspace_id, user_id, display_name, now)
        if not display_name:  # the platform did not say: never replaces a known name
            await self.session.execute(stmt.on_conflict_do_nothing(
                index_elements=["platform", "workspace_id", "user_id"]))
            return
        await self.session.execute(stmt.on_conflict_do_update(
            index_elements=["platform", "workspace_id", "user_id"],
            set_={"display_name": stmt.excluded.display_name,
                  "updated_at": stmt.excluded.updated_at},
            where=UserRow.display_name != stmt.excluded.display_name,
        ))

    def _new_user(self, platform: str, workspace_id: str, user_id: str, display_name: str,
                  now: datetime) -> Any:
        return self._insert(UserRow).values(
            platform=platform, workspace_id=workspace_id, user_id=user_id,
            display_name=display_name or user_id, updated_at=now,
        )

    async def names_of(self, platform: str, workspace_id: str,
                       user_ids: Sequence[str]) -> dict[str, str]:
        """The stored display names of those of `user_ids` who are stored: one indexed
        read, so that a command can leave an unchanged name alone without a write."""
        if not user_ids:
            return {}
        stmt = select(UserRow.user_id, UserRow.display_name).where(
            UserRow.platform == platform,
            UserRow.workspace_id == workspace_id,
            UserRow.user_id.in_(list(dict.fromkeys(user_ids))),
        )
        return {user_id: name for user_id, name in (await self.session.execute(stmt)).all()}

    async def find(self, platform: str, workspace_id: str, user_id: str) -> UserRow | None:
        stmt = select(UserRow).where(
            UserRow.platform == platform,
            UserRow.workspace_id == workspace_id,
            UserRow.user_id == user_id,
        )
        return (await self.session.scalars(stmt)).one_or_none()


class AnswerRepo(_Repo):
    async def add_reaction(self, post_id: int, user_pk: int, key: str, now: datetime) -> None:
        stmt = (
            self._insert(ReactionRow)
            .values(post_id=post_id, user_pk=user_pk, key=key, added_at=now)
            .on_conflict_do_nothing(index_elements=["post_id", "user_pk", "key"])
        )
        await self.session.execute(stmt)

    async def remove_reaction(self, post_id: int, user_pk: int, key: str) -> None:
        await self.session.execute(
            delete(ReactionRow).where(
                ReactionRow.post_id == post_id,
                ReactionRow.user_pk == user_pk,
                ReactionRow.key == key,
            )
        )

    async def reactions(self, post_id: int, user_pk: int) -> Sequence[ReactionRow]:
        """The user's present reactions on a post, oldest first."""
        stmt = (
            select(ReactionRow)
            .where(ReactionRow.post_id == post_id, ReactionRow.user_pk == user_pk)
            .order_by(ReactionRow.added_at, ReactionRow.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def peek(self, post_id: int, user_pk: int, now: datetime) -> None:
        stmt = (
            self._insert(PeekRow)
            .values(post_id=post_id, user_pk=user_pk, peeked_at=now)
            .on_conflict_do_nothing(index_elements=["post_id", "user_pk"])
        )
        await self.session.execute(stmt)

    async def peeked_at(self, post_id: int, user_pk: int) -> datetime | None:
        stmt = select(PeekRow.peeked_at).where(
            PeekRow.post_id == post_id, PeekRow.user_pk == user_pk
        )
        return (await self.session.scalars(stmt)).first()

    async def add_grade(
        self, post_id: int, user_pk: int, question_id: str, grade: str, now: datetime
    ) -> None:
        self.session.add(
            GradeRow(
                post_id=post_id, user_pk=user_pk, question_id=question_id, grade=grade,
                graded_at=now,
            )
        )
        await self.session.flush()

    async def attempt(self, post_id: int, user_pk: int) -> AttemptRow | None:
        stmt = select(AttemptRow).where(
            AttemptRow.post_id == post_id, AttemptRow.user_pk == user_pk
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def save_attempt(self, row: AttemptRow) -> None:
        self.session.add(row)
        await self.session.flush()

    async def delete_attempt(self, row: AttemptRow) -> None:
        await self.session.delete(row)
        await self.session.flush()

    async def add_stray(self, row: StrayReactionRow) -> None:
        self.session.add(row)
        await self.session.flush()

    async def strays(self, channel_pk: int, message_id: str) -> Sequence[StrayReactionRow]:
        stmt = (
            select(StrayReactionRow)
            .where(StrayReactionRow.channel_pk == channel_pk,
                   StrayReactionRow.message_id == message_id)
            .order_by(StrayReactionRow.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def drop_strays(self, channel_pk: int, message_id: str) -> None:
        await self.session.execute(
            delete(StrayReactionRow).where(StrayReactionRow.channel_pk == channel_pk,
                                           StrayReactionRow.message_id == message_id)
        )

    async def matched_strays(self) -> list[tuple[int, str]]:
        stmt = (
            select(StrayReactionRow.channel_pk, StrayReactionRow.message_id)
            .join(PostRow, (PostRow.channel_pk == StrayReactionRow.channel_pk)
                  & (PostRow.message_id == StrayReactionRow.message_id))
            .where(PostRow.status == SENT)
            .distinct()
        )
        return [(int(c), str(m)) for c, m in (await self.session.execute(stmt)).all()]

    async def prune_strays(self, before: datetime) -> None:
        """Reactions on messages that never became a post (another bot's, a deleted one)."""
        await self.session.execute(delete(StrayReactionRow).where(StrayReactionRow.at < before))

    async def attempts_for_post(self, post_id: int) -> Sequence[tuple[AttemptRow, UserRow]]:
        stmt = (
            select(AttemptRow, UserRow)
            .join(UserRow, UserRow.id == AttemptRow.user_pk)
            .where(AttemptRow.post_id == post_id)
            .order_by(AttemptRow.first_at, AttemptRow.id)
        )
        return [(a, u) for a, u in (await self.session.execute(stmt)).all()]


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
