"""SIGKILL the real `qotd run` at every crash point, restart it at once, and check that
the channel ends with exactly one post and one reveal, the row sent with the platform's
message id, and every member reaction on the visible post counted.

In-process points use QOTD_FAULT_KILL_AT (the process kills itself there). Platform-side
points are staged by the fake holding a request open while the test SIGKILLs the process:
the post's create not carried out yet ("post-held"), carried out but never answered
("post-stored"), the bot's own first reaction held ("bot-reactions"), and the reveal's
thread reply stored but never answered ("reveal-stored").

Member reactions: one while the first process is alive whenever the post is visible and
the process stays up (the test waits until it is recorded, counted or kept as a stray,
before the kill), one "while dead" (delivered to the restarted process: Slack retries an
unacknowledged event; Discord gives a fresh session no backlog, so it goes out once the
new session is live, typically while the post is still pending), one after the restart.

`QOTD_SOAK_TRIALS=N` runs N trials per point and platform (default 2). Every trial has its
own fake, database and process; QOTD_FAULT_PARALLEL (default 8) of them run at once.
QOTD_FAULT_DUMP_TASKS=1: a failing trial first makes its process print its asyncio tasks
and timer state into the log shown in the failure (tests/faults/diag/sitecustomize.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from bot.boundary import ChannelRef
from tests.faults.harness import (
    Database,
    PlatformSide,
    QotdProcess,
    clock_offset,
    make_side,
    prepare_database,
    process_env,
    wait_until,
    write_choice_bank,
)

pytestmark = pytest.mark.slow

TRIALS = int(os.environ.get("QOTD_SOAK_TRIALS", "2"))
PARALLEL = int(os.environ.get("QOTD_FAULT_PARALLEL", "8"))  # trials running at once
LEAD = 3.0  # seconds between the process start and the slot (start-up takes ~1.5-2.5 s)
REVEAL = 6.0  # seconds between the post and the reveal

IN_PROCESS = ["before-claim", "after-claim", "after-send", "after-mark-sent",
              "before-reveal", "after-reveal-send"]
PLATFORM_SIDE = ["post-held", "post-stored", "bot-reactions", "reveal-stored"]
# points whose first process stays up with the post visible: a member reacts before the kill
ALIVE_WITH_POST = {"post-stored", "bot-reactions", "reveal-stored", "before-reveal",
                   "after-reveal-send"}


def _hold(side: PlatformSide, ref: ChannelRef, point: str) -> Any:
    if point == "post-held":
        return side.hold_post(ref, "before")
    if point == "post-stored":
        return side.hold_post(ref, "after")
    if point == "bot-reactions":
        return side.hold_bot_reaction(ref)
    if point == "reveal-stored":
        return side.hold_reveal(ref, "after")
    return None


async def _trial(platform: str, point: str, tmp: Path, migrating: asyncio.Lock) -> None:
    side = make_side(platform)
    await side.start()
    db: Database | None = None
    proc: QotdProcess | None = None
    try:
        bank = write_choice_bank(tmp / "bank")
        [ref] = side.channel_refs(1)
        url = f"sqlite+aiosqlite:///{tmp / 'qotd.db'}"
        async with migrating:  # alembic's environment is not safe to run concurrently
            # reactions mode: the bot's own reactions are counted too (exactly three,
            # whatever the crash: a start seeds what a killed process left unseeded)
            db = await prepare_database(url, [ref], bank, answers="reactions")
        members = [side.member(name) for name in ("mia", "noor", "oli")]
        votes: dict[str, str] = {}
        hold = _hold(side, ref, point)
        extra = {"QOTD_FAULT_KILL_AT": point} if point in IN_PROCESS else {}
        env = process_env(side, tmp, bank, clock_offset(db.slot, LEAD), reveal_seconds=REVEAL,
                          extra=extra)
        proc = QotdProcess(env, url, tmp / "qotd.log")
        await proc.start()

        async def react(member: str, key: str, after: int = 0) -> None:
            votes[member] = key  # before any await: the member has reacted
            post_id = (await wait_until(lambda: side.posts(ref), within=30,
                                        what="the post on the fake"))[0]
            await side.react(member, ref, post_id, key, after_connections=after)

        async def recorded(member: str) -> None:
            assert db is not None
            await wait_until(lambda: db.recorded(ref, member), within=15,
                             what=f"the reaction of {member} in the database")

        if point in ALIVE_WITH_POST:
            if hold is not None:
                await hold.wait_reached(within=30)
            else:
                await wait_until(lambda: side.posts(ref), within=30, what="the post")
            await react(members[0], "A")
            await recorded(members[0])
        if hold is not None:
            await hold.wait_reached(within=30)
            code = await proc.kill()
            hold.release()
        else:
            code = await proc.wait_exit(within=40)
            assert f"SIGKILL at {point}" in proc.log_text(), proc.log_tail()
        assert code == -9, proc.log_tail()

        # restart at once; a member reacts while it is down, the others once it is back
        seen = side.connections()
        pending = []
        if side.posts(ref):
            pending.append(asyncio.create_task(react(members[1], "B", seen)))
            await asyncio.sleep(0)
        await proc.restart()
        await wait_until(lambda: side.connections() > seen, within=30, what="the restart")
        for member, key in zip(members, "ABC", strict=True):
            if member not in votes:
                await react(member, key, seen)
        await asyncio.gather(*pending)

        rows = await wait_until(
            lambda: _revealed(db, ref), within=45, what="the reveal recorded in the database")
        await wait_until(lambda: side.replies(ref, side.posts(ref)[0]) if side.posts(ref)
                         else None, within=10, what="the reveal on the fake")
        [row] = rows
        await wait_until(lambda: _all_counted(db, int(row["id"]), votes), within=15,
                         what=f"every member reaction counted: {votes}")
        await asyncio.sleep(2.0)  # one lease more: a late duplicate would show by now

        posts = side.posts(ref)
        assert len(posts) == 1, (posts, proc.log_tail())
        [row] = [r for r in await db.posts(ref) if r["day"] is not None]
        assert row["status"] == "sent", row
        assert row["message_id"] == posts[0], (row, posts)
        replies = side.replies(ref, posts[0])
        assert len(replies) == 1, (replies, proc.log_tail())
        assert row["reveal_message_id"] == replies[0], (row, replies)
        assert row["reveal_error"] is None, row
        assert len(side.bot_reactions(ref, posts[0])) == 3, side.bot_reactions(ref, posts[0])
        counted = await db.attempts(int(row["id"]))
        assert counted == votes, (counted, votes)
    except Exception as exc:
        if proc is not None and proc.alive and os.environ.get("QOTD_FAULT_DUMP_TASKS"):
            os.kill(proc.pid, signal.SIGUSR2)  # diag/sitecustomize.py prints the tasks
            await asyncio.sleep(1)
        tail = proc.log_tail(80) if proc is not None else ""
        recent = "\n".join(side.recent())
        if db is not None:
            for table in ("posts", "stray_reactions", "attempts"):
                with contextlib.suppress(Exception):
                    recent += f"\n{table}: {await db.rows(f'SELECT * FROM {table}')}"
        raise AssertionError(f"{platform} {point} in {tmp}: {exc!r}\n---- qotd log ----\n"
                             f"{tail}\n---- last requests on the fake ----\n{recent}") from exc
    finally:
        if proc is not None:
            await proc.stop()
        await side.stop()
        if db is not None:
            await db.close()


async def _revealed(db: Database | None, ref: ChannelRef) -> list[dict[str, Any]] | None:
    assert db is not None
    rows = [r for r in await db.posts(ref) if r["day"] is not None]
    return rows if rows and all(r["revealed_at"] is not None for r in rows) else None


async def _all_counted(db: Database | None, post_id: int, votes: dict[str, str]) -> bool:
    assert db is not None
    return await db.attempts(post_id) == votes


POINTS = IN_PROCESS + PLATFORM_SIDE
PLATFORMS = ["discord", "slack"]
TEST_NAME = "test_one_post_one_reveal_every_reaction_after_a_crash"


async def _run_all(cases: list[tuple[str, str]], base: Path
                   ) -> dict[tuple[str, str], list[BaseException | None]]:
    """Every trial of every selected case, PARALLEL at a time (each is mostly waiting on
    its own process and fake), so the suite takes a few minutes, not one per case."""
    limit = asyncio.Semaphore(PARALLEL)
    migrating = asyncio.Lock()

    async def one(platform: str, point: str, trial: int) -> BaseException | None:
        tmp = base / f"{platform}-{point}-{trial}"
        tmp.mkdir()
        async with limit:
            try:
                await _trial(platform, point, tmp, migrating)
            except Exception as exc:
                return exc
        return None

    jobs = [(case, trial) for trial in range(TRIALS) for case in cases]
    done = await asyncio.gather(*(one(*case, trial) for case, trial in jobs))
    outcomes: dict[tuple[str, str], list[BaseException | None]] = {c: [] for c in cases}
    for (case, _), result in zip(jobs, done, strict=True):
        outcomes[case].append(result)
    return outcomes


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> dict[tuple[str, str], list[BaseException | None]]:
    """Runs the trials of every case selected in this session at once, before the first
    test; each test then reports its own case."""
    cases = sorted({
        (item.callspec.params["platform"], item.callspec.params["point"])
        for item in request.session.items
        if getattr(item, "originalname", "") == TEST_NAME and hasattr(item, "callspec")
    })
    return asyncio.run(_run_all(cases, tmp_path_factory.mktemp("faults")))


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_one_post_one_reveal_every_reaction_after_a_crash(
    platform: str, point: str,
    outcomes: dict[tuple[str, str], list[BaseException | None]],
) -> None:
    results = outcomes[(platform, point)]
    failures = [r for r in results if r is not None]
    assert len(results) == TRIALS
    if failures:
        raise failures[0]
