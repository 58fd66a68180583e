"""Turn a channel's filters and history into the inputs of `bot.rules.picking.pick`.

The bank comes from `bot.service.bank_cache` (candidates kept between syncs, filtered
per channel once); the history (asked keys, last topic) is read per draw, in one
statement (`storage.bank_reads.history`). A channel with the adaptive mix on also
reads its team's results of the last four weeks (`storage.bank_reads.team_results`, one
GROUP BY) and draws with the weights `bot.rules.adaptive` makes of them."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.rules.adaptive import WINDOW_DAYS, Factors, Tally, adapted, factors_of
from bot.rules.picking import Eligible, NothingToPick, Pick, pick_eligible
from bot.service.bank_cache import BankCache
from storage.bank_reads import StatusRead, history, latest_posted_at, team_results
from storage.models import ChannelRow
from storage.uow import UnitOfWork

REDRAWS = 3  # draws confirmed against the stored bank before settling on a fresh read


async def left_in_cycle(uow: UnitOfWork, channel: ChannelRow, bank: BankCache,
                        read: StatusRead) -> int:
    """Eligible questions not yet asked in the channel's cycle (for `/qotd status`):
    the cached bank, checked with the primary-key read of its sentinel question, and
    the cycle's asked keys, both from `read` (`storage.bank_reads.status_read`, given
    `bank.sentinel()`)."""
    view = await bank.view_read(uow.session, channel, read.sentinel, read.state)
    return view.left(read.asked)


async def team_factors(uow: UnitOfWork, channel: ChannelRow, now: datetime | None
                       ) -> Factors | None:
    """The adaptive mix's factors for `channel` (None when it is off or the team's
    results say too little). The window is the four weeks before `now`; a caller
    without a clock gets the four weeks before the channel's latest sent post (one
    more indexed read), which is the same for a channel that posts daily and keeps a
    paused channel's last known results instead of forgetting them."""
    if not channel.adaptive:
        return None
    session = uow.session
    anchor = now if now is not None else await latest_posted_at(session, channel.id)
    if anchor is None:  # never posted: nothing to adapt on
        return None
    rows = await team_results(session, channel.id, anchor - timedelta(days=WINDOW_DAYS))
    return factors_of(Tally(topic, difficulty, attempts, correct)
                      for topic, difficulty, attempts, correct in rows)


async def choose(uow: UnitOfWork, channel: ChannelRow, seed: str, draw: int,
                 bank: BankCache, *, now: datetime | None = None) -> Pick:
    """Raises NothingToPick when the filters leave nothing.

    Draws from the cached bank (`bot.service.bank_cache`), then reads the drawn question
    by primary key: if the cache is no longer the stored bank (another process synced),
    it refills and draws again, so the pick is the one the stored bank gives and never
    a retired or non-ready question. Nothing to pick is confirmed the same way (the
    cache may predate a sync that brought questions).

    With the adaptive mix on, every draw's weights are first multiplied by the team's
    factors (`team_factors`, read once per call; `now` is the caller's clock)."""
    session = uow.session
    past = await history(session, channel.id, channel.cycle)
    asked, last_topic = past.asked, past.last_topic
    factors = await team_factors(uow, channel, now)

    def draw_from(eligible: Eligible) -> Pick:
        return pick_eligible(adapted(eligible, factors), asked, last_topic,
                             seed=seed, draw=draw)

    view = await bank.view(session, channel, checked=False)
    for _ in range(REDRAWS):
        try:
            chosen = draw_from(view.eligible)
        except NothingToPick:
            rechecked = await bank.view(session, channel)  # refills if stale
            if rechecked is view:
                raise
            view = rechecked
            continue
        if await bank.confirms(session, view, chosen.candidate):
            return chosen
        view = await bank.view(session, channel, checked=False)  # refilled
    # still moving after several fresh reads (syncs committing one after another): the
    # last read is as fresh as an uncached draw would have been, so draw from it
    return draw_from(view.eligible)
