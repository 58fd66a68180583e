"""The review queue's and the daily nudge's statements use their indexes on both backends
(issue 14: no full scan of cards, review_logs or reminders), so a later change cannot
bring a scan back silently. As tests/storage/test_query_plans.py: the statements the
code really sends, captured at the cursor, explained on the same connection (EXPLAIN
QUERY PLAN on SQLite; EXPLAIN after VACUUM ANALYZE on PostgreSQL, with sequential
scans priced out where this little data would make one cheaper: the statement must be
able to use the index). bench/review.py prints the same plans at 5,000 cards and
20,000 reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from bot.service.review import sync_user
from storage.models import (
    AttemptRow,
    CardRow,
    ChannelRow,
    PostRow,
    QuestionRow,
    ReminderRow,
    ReviewLogRow,
    UserRow,
)
from storage.nudge_repo import nudge_repo
from storage.uow import Database
from tests.plans import no_full_scan, plan_of

NOW = datetime(2027, 3, 1, 7, 30, tzinfo=UTC)
CARDS, PEOPLE = 600, 400
REVIEWER = 1


async def _fill(db: Database) -> None:
    """One person with CARDS cards (an attempt and five logs each) and PEOPLE people with
    a reminder and two cards each."""
    day = timedelta(days=1)
    async with db.engine.begin() as conn:
        await conn.execute(insert(UserRow), [
            {"id": pk, "platform": "console", "workspace_id": "w", "user_id": f"u{pk}",
             "display_name": f"U{pk}", "updated_at": NOW} for pk in range(1, PEOPLE + 2)])
        await conn.execute(insert(ChannelRow), [{
            "id": 1, "platform": "console", "workspace_id": "w", "channel_id": "c1",
            "scheduled": True, "paused": False, "post_time": "09:00", "timezone": "UTC",
            "days": "daily", "cycle": 1, "draws": 0, "include_topics": [],
            "exclude_topics": [], "created_at": NOW - 900 * day}])
        await conn.execute(insert(QuestionRow), [{
            "id": f"q{i}", "status": "ready", "topic": "T", "difficulty": "easy",
            "kind": "open", "group_key": f"q{i}", "retired": False, "data": {},
            "synced_at": NOW} for i in range(CARDS)])
        at = [NOW - (CARDS - i) * day for i in range(CARDS)]
        await conn.execute(insert(PostRow), [{
            "id": i + 1, "channel_pk": 1, "day": date(2020, 1, 1) + timedelta(days=i),
            "status": "sent", "question_id": f"q{i}", "claimed_at": at[i], "posted_at": at[i],
            "send_token": 0, "send_attempts": 0, "reveal_token": 0, "reveal_attempts": 0}
            for i in range(CARDS)])
        await conn.execute(insert(AttemptRow), [{
            "id": i + 1, "post_id": i + 1, "user_pk": REVIEWER, "signal": "no",
            "peeked_before": False, "after_reveal": False, "points": 0.0, "first_at": at[i],
            "updated_at": at[i]} for i in range(CARDS)])
        await conn.execute(insert(CardRow), [{
            "id": i + 1, "user_pk": REVIEWER, "group_key": f"q{i}", "question_id": f"q{i}",
            "state": 2, "due": NOW + (i % 40 - 20) * day, "reviews": 5, "lapses": 0,
            "created_at": at[i], "source": "attempt"} for i in range(CARDS)])
        logs: list[dict[str, Any]] = []
        for i in range(CARDS):
            logs.append({"card_id": i + 1, "attempt_id": i + 1, "attempt_updated_at": at[i],
                         "source": "attempt", "rating": 1, "reviewed_at": at[i]})
            logs += [{"card_id": i + 1, "attempt_id": None, "attempt_updated_at": None,
                      "source": "review", "rating": 3, "reviewed_at": at[i] + k * day}
                     for k in range(1, 5)]
        await conn.execute(insert(ReviewLogRow), logs)
        await conn.execute(insert(CardRow), [{
            "id": CARDS + 2 * pk + k, "user_pk": pk, "group_key": f"q{k}", "question_id": f"q{k}", "state": 2,
            "due": NOW + (k * 3 - 1) * day, "reviews": 1, "lapses": 0, "created_at": NOW,
            "source": "added"} for pk in range(2, PEOPLE + 2) for k in (0, 1)])
        # everyone else's answers: the reviewer's logs are a part of review_logs only
        others = [(pk, k) for pk in range(2, PEOPLE + 2) for k in range(2, 12)]
        await conn.execute(insert(AttemptRow), [{
            "id": CARDS + n + 1, "post_id": k + 1, "user_pk": pk, "signal": "yes",
            "peeked_before": False, "after_reveal": False, "points": 1.0, "first_at": at[k],
            "updated_at": at[k]} for n, (pk, k) in enumerate(others)])
        await conn.execute(insert(CardRow), [{
            "id": 10 * CARDS + n, "user_pk": pk, "group_key": f"q{k}", "question_id": f"q{k}",
            "state": 2, "due": NOW + 9 * day, "reviews": 1, "lapses": 0, "created_at": at[k],
            "source": "attempt"} for n, (pk, k) in enumerate(others)])
        await conn.execute(insert(ReviewLogRow), [{
            "card_id": 10 * CARDS + n, "attempt_id": CARDS + n + 1, "attempt_updated_at": at[k],
            "source": "attempt", "rating": 3, "reviewed_at": at[k]}
            for n, (pk, k) in enumerate(others)])
        await conn.execute(insert(ReminderRow), [{
            "user_pk": pk, "local_time": "08:30", "timezone": "Europe/Berlin",
            "next_at": NOW + (pk % 48) * timedelta(minutes=30), "updated_at": NOW}
            for pk in range(2, PEOPLE + 2)])


@pytest.fixture
async def filled(migrated_url: str) -> Any:
    db = Database(migrated_url)
    try:
        await _fill(db)
        yield db
    finally:
        await db.dispose()


async def test_the_next_due_card_and_the_due_count_read_the_users_due_index(
    filled: Database
) -> None:
    plan = await plan_of(filled, lambda uow: uow.cards.next_due(REVIEWER, NOW), "FROM cards",
                       "LIMIT", force=True)
    assert "ix_cards_user_due" in plan, plan
    no_full_scan(plan, "cards")
    # the due count: the session's footer and the nudge's "N cards are due"
    plan = await plan_of(filled, lambda uow: uow.cards.due_count(REVIEWER, NOW),
                       "count(*)", "FROM cards", force=True)
    assert "ix_cards_user_due" in plan, plan
    no_full_scan(plan, "cards")


async def test_the_card_sync_probes_review_logs_by_attempt_never_scanning_them(
    filled: Database
) -> None:
    plan = await plan_of(filled, lambda uow: sync_user(uow, REVIEWER, NOW), "review_logs",
                       "attempts", force=True)
    assert "ix_attempts_user" in plan, plan
    assert "uq_review_logs_attempt_id" in plan or "sqlite_autoindex_review_logs" in plan, plan
    no_full_scan(plan, "review_logs", "attempts", "cards")


async def test_the_nudge_runs_queries_use_the_reminder_and_nudge_indexes(
    filled: Database
) -> None:
    live = ["console"]
    plan = await plan_of(filled, lambda uow: nudge_repo(uow).due(NOW, live, 500),
                       "FROM reminders", "LIMIT", force=True)
    assert "ix_reminders_next_at" in plan, plan
    no_full_scan(plan, "reminders")
    plan = await plan_of(filled, lambda uow: nudge_repo(uow).earliest(live, NOW),
                       "FROM reminders", "LIMIT", force=True)
    assert "ix_reminders_next_at" in plan, plan
    no_full_scan(plan, "reminders")
    plan = await plan_of(filled, lambda uow: nudge_repo(uow).day_and_stale(2, NOW.date()),
                       "FROM nudges", force=True)
    assert "uq_nudges_user_pk_day" in plan or "sqlite_autoindex_nudges" in plan, plan
    no_full_scan(plan, "nudges")
