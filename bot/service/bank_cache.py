"""The pickable bank, kept in memory between bank syncs, so a draw or `/qotd status`
does not load 20,000 ORM rows and their JSON each time.

What is kept: every ready, current, canonical question as a `Candidate` (id, topic,
difficulty), sorted by key once per fill (the order `bot.rules.picking.pick` draws
in), with the `synced_at` each was read with; and per channel filter (topics and
difficulty weights) the prepared `Eligible` list and its key set, built on first use.
A draw is then O(eligible) and `left` is O(asked), with no sort.

Staleness. The database is the truth, and another replica may sync a different bank
at any time. Two mechanisms keep the cache honest:

- This process's own syncs: `bot.service.bank_sync.syncs_committed()` moves after each
  committed sync, and a cache filled at an older count refills before its next use.
- Any other writer: every bank sync rewrites `synced_at` on each question it keeps and
  retires the others, so once any sync commits after a fill, *every* cached question's
  stored row differs from what was cached (a newer `synced_at`, or retired). One
  primary-key read of any cached question therefore tells whether the whole cache is
  still the stored bank. `choose` reads the question it drew (so a retired, non-ready
  or re-grouped question is never posted, whatever the clocks), `/qotd status` reads a
  fixed sentinel; on a mismatch the cache refills and the draw is made again, from
  what a fresh read would have given. This costs one indexed lookup per command,
  instead of a version table that every sync would have to maintain.

The remaining gap is a sync by another process at exactly the same `synced_at` that
changes which questions exist but not the one checked: then a draw uses the older list
until the next sync is seen, but still never posts a question that is not pickable.
Real clocks do not repeat microseconds across syncs.

A fill replaces the whole snapshot in one assignment, so concurrent tasks each see
one consistent bank.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from operator import itemgetter

from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.picking import Candidate, Eligible, eligible_of
from bot.service.bank_sync import syncs_committed
from content.topics import filter_key as topic_filter_key
from storage.bank_reads import QuestionState, pickable_entries, question_state
from storage.models import ChannelRow
from storage.uow import Database

MAX_VIEWS = 256  # distinct channel filters kept per fill (more: start over)

FilterKey = tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, float], ...] | None]


@dataclass(frozen=True)
class View:
    """The bank as one channel's filters see it."""

    eligible: Eligible
    keys: frozenset[str]
    versions: Mapping[str, object]  # of the whole fill this view came from

    def left(self, asked: Set[str]) -> int:
        """Eligible questions not asked yet (asked keys no longer eligible don't count)."""
        return len(self.keys) - len(self.keys & asked)


@dataclass
class _Snapshot:
    bank: tuple[Candidate, ...]  # sorted by key
    versions: dict[str, object]  # the `synced_at` each candidate was read with
    syncs: int  # syncs_committed() when filled
    views: dict[FilterKey, View] = field(default_factory=dict)


def filter_key(channel: ChannelRow) -> FilterKey:
    weights = channel.difficulty_weights
    return (
        tuple(sorted(set(channel.include_topics or []))),
        tuple(sorted(set(channel.exclude_topics or []))),
        None if weights is None else tuple(sorted(weights.items())),
    )


def filtered(bank: Sequence[Candidate], include: Set[str], exclude: Set[str]
             ) -> list[Candidate]:
    """A channel's topic filters: only `include` when it names any, never `exclude`
    (difficulty weights apply after, in `eligible_of`: a weight of 0 drops). Topics are
    compared by their key, so a filter saved before the bank's spellings were unified
    ("Model Versioning & Registry", "17 Common Interview Questions for MLOps") still
    selects its questions."""
    inc = {topic_filter_key(t) for t in include}
    exc = {topic_filter_key(t) for t in exclude}
    return [c for c in bank if (not inc or topic_filter_key(c.topic) in inc)
            and topic_filter_key(c.topic) not in exc]


def _matches(state: QuestionState | None, versions: Mapping[str, object],
             candidate: Candidate) -> bool:
    """Whether a question's stored state is still exactly what was cached for it."""
    return (state is not None and state.pickable_as(candidate.key)
            and state.topic == candidate.topic
            and state.difficulty == candidate.difficulty
            and state.version == versions.get(candidate.key))


class BankCache:
    """Held on `Deps` (one per Core). Every method takes the unit of work's session, so
    its reads run in the caller's transaction."""

    def __init__(self) -> None:
        self._snapshot: _Snapshot | None = None
        self.fills = 0  # how many times the bank was read (tests look)

    def invalidate(self) -> None:
        """Read the bank again on next use."""
        self._snapshot = None

    async def warm(self, db: Database) -> None:
        """Read the bank now (at start-up, after the bank sync), so the first command
        does not pay for it."""
        async with db.uow() as uow:
            await self._fill(uow.session)

    async def _fill(self, session: AsyncSession) -> _Snapshot:
        syncs = syncs_committed()  # before reading: a sync committing meanwhile refills
        entries = await pickable_entries(session)
        entries.sort(key=itemgetter(0))  # by id, as `pick` orders: once per fill
        snapshot = _Snapshot(
            bank=tuple(Candidate(key=qid, topic=topic, difficulty=difficulty)
                       for qid, topic, difficulty, _ in entries),
            versions={qid: version for qid, _, _, version in entries},
            syncs=syncs,
        )
        self._snapshot = snapshot
        self.fills += 1
        return snapshot

    async def _current(self, session: AsyncSession) -> tuple[_Snapshot, bool]:
        """The snapshot, and whether it was read just now (so needs no check)."""
        snapshot = self._snapshot
        if snapshot is None or snapshot.syncs != syncs_committed():
            return await self._fill(session), True
        return snapshot, False

    @staticmethod
    async def _holds(session: AsyncSession, versions: Mapping[str, object],
                     candidate: Candidate) -> bool:
        """Whether `candidate`'s stored row is still exactly what was cached."""
        state = await question_state(session, candidate.key)
        return _matches(state, versions, candidate)

    async def view(self, session: AsyncSession, channel: ChannelRow, *,
                   checked: bool = True) -> View:
        """The channel's view of the bank. `checked`: confirm first that the cache is
        still the stored bank (one primary-key read) and refill if not; `choose` skips
        that and confirms the question it drew instead (`confirms`)."""
        snapshot, fresh = await self._current(session)
        # an empty cache has nothing to check against: read again (the read returns
        # nothing quickly when the bank really is empty)
        if checked and not fresh and (
            not snapshot.bank
            or not await self._holds(session, snapshot.versions, snapshot.bank[0])
        ):
            snapshot = await self._fill(session)
        return self._view_of(snapshot, channel)

    def sentinel(self) -> str | None:
        """The question `view` would read to check the cache, for a caller that reads
        its state together with other things (`view_read`); None when the next `view`
        reads the whole bank anyway (nothing cached, a sync of this process since, or
        an empty bank)."""
        snapshot = self._snapshot
        if snapshot is None or snapshot.syncs != syncs_committed() or not snapshot.bank:
            return None
        return snapshot.bank[0].key

    async def view_read(self, session: AsyncSession, channel: ChannelRow,
                        sentinel: str | None, state: QuestionState | None) -> View:
        """`view(checked=True)`, given the state of `sentinel()` read by the caller in
        this transaction (`storage.bank_reads.status_read`): the same check, without
        its own read when the cache still starts with that question."""
        snapshot, fresh = await self._current(session)
        if not fresh:
            if not snapshot.bank:
                snapshot = await self._fill(session)
            else:
                first = snapshot.bank[0]
                if first.key == sentinel:
                    holds = _matches(state, snapshot.versions, first)
                else:  # the cache was refilled since `sentinel()`: check it as `view` does
                    holds = await self._holds(session, snapshot.versions, first)
                if not holds:
                    snapshot = await self._fill(session)
        return self._view_of(snapshot, channel)

    async def confirms(self, session: AsyncSession, view: View, candidate: Candidate
                       ) -> bool:
        """Whether `candidate`, drawn from `view`, may be posted and the view is still
        the stored bank; when not, the cache is dropped (the next `view` reads again)."""
        if await self._holds(session, view.versions, candidate):
            return True
        self.invalidate()
        return False

    @staticmethod
    def _view_of(snapshot: _Snapshot, channel: ChannelRow) -> View:
        key = filter_key(channel)
        view = snapshot.views.get(key)
        if view is None:
            include, exclude, _ = key
            # the channel's own mapping, as `pick` gets it (an equal key: an equal mapping)
            eligible = eligible_of(filtered(snapshot.bank, set(include), set(exclude)),
                                   channel.difficulty_weights, presorted=True)
            view = View(eligible, frozenset(eligible.keys), snapshot.versions)
            if len(snapshot.views) >= MAX_VIEWS:
                snapshot.views.clear()
            snapshot.views[key] = view
        return view

