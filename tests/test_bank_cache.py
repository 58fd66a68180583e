"""The cached bank (bot.service.bank_cache): the same picks as a fresh read of the
stored bank, refilled after this process syncs, and never stale enough to post a
retired question after another process synced a different bank.

"Another process" is a second Core on the same database whose bank sync is hidden from
this process's sync counter (each process has its own), so only the cache's check
against the stored rows can notice it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from adapters.console.outbound import ConsoleOutbound
from bot.app import Core
from bot.clock import FakeClock
from bot.rules.picking import Candidate, Pick, pick, weight_of
from bot.service import bank_sync
from content.model import Question
from storage import bank_reads
from storage.models import ChannelRow, PostRow, QuestionRow
from tests.conftest import CHANNEL, START, cmd, make_core, q, write_bank

TOPICS = ("Serving", "Monitoring", "Training", "Features")
WORDS = ("latency", "drift", "batch", "shadow", "canary", "registry", "lineage",
         "quantile", "embedding", "rollback", "backfill", "sharding")


def bank(count: int) -> list[Question]:
    """`count` open questions over four topics and three difficulties, prompts far
    enough apart that none are grouped as near-duplicates."""
    difficulties = ("easy", "medium", "hard")
    return [
        q(f"Q{i}: how does {WORDS[i % len(WORDS)]} interact with "
          f"{WORDS[(i * 5 + 3) % len(WORDS)]} when item {i * 7919 % 1000} fails?",
          TOPICS[i % len(TOPICS)], difficulties[i // len(TOPICS) % 3], line=i + 1,
          answer=f"Answer {i}.")
        for i in range(count)
    ]


async def _channel(core: Core) -> ChannelRow:
    async with core.db.uow() as uow:
        row = await uow.channels.get(CHANNEL.platform, CHANNEL.workspace_id,
                                     CHANNEL.channel_id)
        assert row is not None
        return row


async def fresh_pick(core: Core) -> Pick:
    """What the next `/qotd post` must pick, computed as before the cache: every
    pickable row read now, the topic filters, `pick` (which sorts)."""
    channel = await _channel(core)
    async with core.db.uow() as uow:
        rows = await uow.questions.pickable()
        include = set(channel.include_topics or [])
        exclude = set(channel.exclude_topics or [])
        candidates = [
            c for row in rows
            if (not include or row.topic in include) and row.topic not in exclude
            and weight_of(c := Candidate(row.id, row.topic, row.difficulty),
                          channel.difficulty_weights) > 0
        ]
        asked = await uow.posts.asked_in_cycle(channel.id, channel.cycle)
        last_topic = await uow.posts.last_topic(channel.id)
    return pick(candidates, asked, last_topic, seed=core.deps.seed_for(channel),
                draw=channel.draws + 1, difficulty_weights=channel.difficulty_weights)


async def fresh_left(core: Core) -> int:
    """`Questions left in cycle` as computed before the cache."""
    channel = await _channel(core)
    async with core.db.uow() as uow:
        rows = await uow.questions.pickable()
        asked = await uow.posts.asked_in_cycle(channel.id, channel.cycle)
    include = set(channel.include_topics or [])
    exclude = set(channel.exclude_topics or [])
    return sum(1 for row in rows
               if (not include or row.topic in include) and row.topic not in exclude
               and weight_of(Candidate(row.id, row.topic, row.difficulty),
                             channel.difficulty_weights) > 0
               and row.id not in asked)


async def post_once(core: Core) -> str:
    """`/qotd post`; the question it posted."""
    [reply] = await core.handle_command(cmd("qotd", "post"))
    assert reply.message.tone != "error", reply.message.body
    async with core.db.uow() as uow:
        latest = (await uow.session.scalars(
            select(PostRow).where(PostRow.status == "sent").order_by(PostRow.id.desc())
        )).first()
    assert latest is not None and latest.question_id is not None
    return latest.question_id


async def status_left(core: Core) -> int:
    [reply] = await core.handle_command(cmd("qotd", "status"))
    line = next(x for x in reply.message.body.splitlines() if x.startswith("Questions left"))
    return int(line.rsplit(":", 1)[1])


async def pickable_ids(core: Core) -> set[str]:
    async with core.db.uow() as uow:
        return {row.id for row in await uow.questions.pickable()}


async def sync_elsewhere(core: Core) -> None:
    """`core.sync_bank()` as if in another process: this process's sync counter (which
    every cache here would see) is put back, so only the stored rows tell."""
    before = bank_sync._syncs_committed
    try:
        await core.sync_bank()
    finally:
        bank_sync._syncs_committed = before


async def test_posts_pick_what_a_fresh_read_picks(
    migrated_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """Through a full cycle and into the next, with filters and weights changed on the
    way: every post is the question the uncached code would have picked."""
    directory = tmp_path / "bank"
    directory.mkdir()
    write_bank(directory, bank(24))
    core = await make_core(migrated_url, directory, clock, ConsoleOutbound())
    await core.start()
    try:
        await core.handle_command(cmd("qotd", "status"))  # creates nothing: not set up
        await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
        for step in range(30):
            if step == 10:
                await core.handle_command(cmd("qotd", "topics", exclude="Training"))
            if step == 20:
                await core.handle_command(cmd("qotd", "topics", difficulty="easy=3,hard=0.5"))
            expected = await fresh_pick(core)
            assert await status_left(core) == await fresh_left(core)
            assert await post_once(core) == expected.candidate.key, step
            clock.advance(timedelta(minutes=1))
        assert core.deps.bank.fills == 1  # one read of the bank for all of it
    finally:
        await core.stop()


async def test_this_process_sync_refills_the_cache(
    migrated_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """The cache is read once, then again after this process syncs, even with the clock
    standing still (the stored `synced_at` does not move then)."""
    directory = tmp_path / "bank"
    directory.mkdir()
    questions = bank(12)
    write_bank(directory, questions)
    core = await make_core(migrated_url, directory, clock, ConsoleOutbound())
    await core.start()
    try:
        await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
        assert await status_left(core) == 12
        assert await status_left(core) == 12
        assert core.deps.bank.fills == 1
        # keeps the first questions by id (so the cache's own check of its first
        # question, unchanged at this clock reading, could not tell)
        kept = sorted(questions, key=lambda x: x.id)[:5]
        write_bank(directory, kept)
        await core.sync_bank()  # same clock reading as the first sync
        assert await status_left(core) == 5
        assert core.deps.bank.fills == 2
        assert await post_once(core) in {x.id for x in kept}
    finally:
        await core.stop()


async def test_another_process_sync_is_seen_and_no_retired_question_is_posted(
    migrated_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """Core A caches the bank; core B (another process) syncs a bank that drops most
    questions and adds new ones. A's status counts and posts follow the stored bank
    at once: every post is pickable and is what a fresh read would pick."""
    dir_a, dir_b = tmp_path / "bank-a", tmp_path / "bank-b"
    dir_a.mkdir()
    dir_b.mkdir()
    questions = bank(30)
    write_bank(dir_a, questions[:20])
    write_bank(dir_b, questions[17:])  # keeps 3 of A's, brings 10 new
    a = await make_core(migrated_url, dir_a, clock, ConsoleOutbound())
    await a.start()
    b = await make_core(migrated_url, dir_b, FakeClock(clock.now()), ConsoleOutbound())
    try:
        await a.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
        assert await status_left(a) == 20
        await post_once(a)
        assert a.deps.bank.fills == 1
        assert isinstance(b.clock, FakeClock)
        b.clock.advance(timedelta(seconds=5))
        await sync_elsewhere(b)
        assert await pickable_ids(a) == {x.id for x in questions[17:]}
        assert await status_left(a) == await fresh_left(a)
        for step in range(15):
            expected = await fresh_pick(a)
            posted = await post_once(a)
            assert posted == expected.candidate.key, step
            assert posted in await pickable_ids(a), step
            clock.advance(timedelta(minutes=1))
        assert a.deps.bank.fills == 2  # refilled once, when the change was seen
    finally:
        await a.stop()
        await b.stop()


async def test_same_instant_sync_elsewhere_still_never_posts_a_retired_question(
    migrated_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """The one case the version check cannot see: another process syncs at exactly the
    cached `synced_at`. The drawn question is still read by primary key before it is
    used, so a retired one is never posted."""
    dir_a, dir_b = tmp_path / "bank-a", tmp_path / "bank-b"
    dir_a.mkdir()
    dir_b.mkdir()
    questions = bank(16)
    write_bank(dir_a, questions)
    write_bank(dir_b, questions[:2])
    a = await make_core(migrated_url, dir_a, clock, ConsoleOutbound())
    await a.start()
    b = await make_core(migrated_url, dir_b, clock, ConsoleOutbound())  # same clock
    try:
        await a.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
        await a.handle_command(cmd("qotd", "status"))
        await sync_elsewhere(b)
        kept = {x.id for x in questions[:2]}
        for step in range(6):
            assert await post_once(a) in kept, step
    finally:
        await a.stop()
        await b.stop()


async def test_nothing_to_pick_is_checked_against_the_stored_bank(
    migrated_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """A channel whose filters leave nothing in the cached bank gets a post as soon as
    another process syncs a bank with that topic again (a refusal is not taken from a
    stale cache), and is refused again once another sync drops the topic."""
    dir_a, dir_b = tmp_path / "bank-a", tmp_path / "bank-b"
    dir_a.mkdir()
    dir_b.mkdir()
    questions = bank(12)
    serving = {x.id for x in questions if x.topic == "Serving"}
    without = [x for x in questions if x.topic != "Serving"]
    write_bank(dir_a, questions)
    a = await make_core(migrated_url, dir_a, clock, ConsoleOutbound())
    await a.start()
    b = await make_core(migrated_url, dir_b, FakeClock(clock.now()), ConsoleOutbound())
    assert isinstance(b.clock, FakeClock)
    try:
        await a.handle_command(cmd("qotd", "topics", include="Serving"))
        assert await post_once(a) in serving
        write_bank(dir_a, without)
        clock.advance(timedelta(seconds=5))
        await a.sync_bank()
        [reply] = await a.handle_command(cmd("qotd", "post"))
        assert reply.message.tone == "error" and "No question is eligible" in reply.message.body

        write_bank(dir_b, questions)
        b.clock.set(clock.now() + timedelta(seconds=5))
        await sync_elsewhere(b)
        assert await post_once(a) in serving

        write_bank(dir_b, without)
        b.clock.advance(timedelta(seconds=5))
        await sync_elsewhere(b)
        [reply] = await a.handle_command(cmd("qotd", "post"))
        assert reply.message.tone == "error" and "No question is eligible" in reply.message.body
        async with a.db.uow() as uow:
            retired = (await uow.session.scalars(
                select(QuestionRow.id).where(QuestionRow.retired.is_(True)))).all()
        assert set(retired) == serving
    finally:
        await a.stop()
        await b.stop()


async def test_start_reads_the_bank_before_the_first_command(core: Core) -> None:
    assert core.deps.bank.fills == 1  # Core.sync_bank warmed it
    await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
    assert await status_left(core) == await fresh_left(core)
    await post_once(core)
    assert core.deps.bank.fills == 1


async def _same_as_repositories(core: Core) -> None:
    channel = await _channel(core)
    async with core.db.uow() as uow:
        session = uow.session
        past = await bank_reads.history(session, channel.id, channel.cycle)
        assert past.asked == await uow.posts.asked_in_cycle(channel.id, channel.cycle)
        assert past.last_topic == await uow.posts.last_topic(channel.id)
        for cycle in (channel.cycle - 1, channel.cycle, channel.cycle + 1):
            assert (await bank_reads.asked_keys(session, channel.id, cycle)
                    == await uow.posts.asked_in_cycle(channel.id, cycle))
        facts = await bank_reads.status_facts(session, channel.id)
        assert facts.pending == await uow.posts.has_pending(channel.id)
        latest = await uow.posts.latest_sent(channel.id)
        assert facts.latest_number == (latest.number if latest else None)
        assert facts.latest_reveal_error == (latest.reveal_error if latest else None)
        for day in (START.date(), START.date() + timedelta(days=1)):
            assert (await bank_reads.day_taken(session, channel.id, day)
                    == (await uow.posts.on_day(channel.id, day) is not None))


async def test_light_reads_match_the_repositories(core: Core, clock: FakeClock) -> None:
    """`storage.bank_reads` merges repository reads into fewer Core statements: they
    give the same answers through a channel's life (no posts; posts in two cycles, an
    alternate of a near-duplicate group asked; a pending post; a failed reveal)."""
    await core.handle_command(cmd("qotd", "schedule", time="09:00", days="daily"))
    await _same_as_repositories(core)
    for _ in range(8):  # past one cycle of the sample bank
        await post_once(core)
        clock.advance(timedelta(minutes=1))
        await _same_as_repositories(core)
    async with core.db.uow() as uow:
        posts = (await uow.session.scalars(select(PostRow).order_by(PostRow.id))).all()
        assert len(posts) >= 3
        # the last post's question becomes an alternate in another's group: asked keys
        # are group keys, not question ids
        last = await uow.session.get(QuestionRow, posts[-1].question_id)
        other = (await uow.session.scalars(
            select(QuestionRow).where(QuestionRow.id != posts[-1].question_id))).first()
        assert last is not None and other is not None
        last.group_key = other.id
        posts[-1].reveal_error = "gave up after 10 attempts: timeout"
        posts[-2].status = "pending"
        await uow.commit()
    await _same_as_repositories(core)
    [reply] = await core.handle_command(cmd("qotd", "status"))
    assert "A post is waiting to be re-sent." in reply.message.body
    assert f"The reveal of #{posts[-1].number} was not posted" in reply.message.body


def test_saved_topic_filters_keep_selecting_after_the_spellings_were_unified() -> None:
    """A channel's filter stores the topic as it was spelled when it was set: a spelling
    since unified ("&" -> "and") or a collection name an older import gave as a topic
    (now the subject it names) still selects the same questions; others stay out."""
    from bot.service.bank_cache import filtered

    bank = [Candidate("q1", "Model Versioning and Registry", "easy"),
            Candidate("q2", "MLOps", "medium"),
            Candidate("q3", "Feature Stores", None)]
    assert [c.key for c in filtered(bank, {"Model Versioning & Registry"}, set())] == ["q1"]
    assert [c.key for c in filtered(bank, {"17 Common Interview Questions for MLOps"},
                                    set())] == ["q2"]
    assert [c.key for c in filtered(bank, set(), {"model  versioning & REGISTRY",
                                                  "The Ultimate Guide to MLOps "
                                                  "Interview Questions"})] == ["q3"]
    assert filtered(bank, {"Feature Store"}, set()) == []  # another subject: no match
