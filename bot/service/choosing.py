"""Turn a channel's filters and history into the inputs of `bot.rules.picking.pick`.

The bank comes from `bot.service.bank_cache` (candidates kept between syncs, filtered
per channel once); the history (asked keys, last topic) is read per draw, in one
statement (`storage.bank_reads.history`)."""

from __future__ import annotations

from bot.rules.picking import NothingToPick, Pick, pick_eligible
from bot.service.bank_cache import BankCache
from storage.bank_reads import StatusRead, history
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


async def choose(uow: UnitOfWork, channel: ChannelRow, seed: str, draw: int,
                 bank: BankCache) -> Pick:
    """Raises NothingToPick when the filters leave nothing.

    Draws from the cached bank (`bot.service.bank_cache`), then reads the drawn question
    by primary key: if the cache is no longer the stored bank (another process synced),
    it refills and draws again, so the pick is the one the stored bank gives and never
    a retired or non-ready question. Nothing to pick is confirmed the same way (the
    cache may predate a sync that brought questions)."""
    session = uow.session
    past = await history(session, channel.id, channel.cycle)
    asked, last_topic = past.asked, past.last_topic
    view = await bank.view(session, channel, checked=False)
    for _ in range(REDRAWS):
        try:
            chosen = pick_eligible(view.eligible, asked, last_topic, seed=seed, draw=draw)
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
    return pick_eligible(view.eligible, asked, last_topic, seed=seed, draw=draw)
