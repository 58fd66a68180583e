"""Route a CommandInput to its handler; admin checks and user upserts happen here once.

Users are remembered (display names kept fresh) only once a command is accepted: a
refused command (unknown name, not an admin, invalid options) writes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.boundary import CommandInput, Reply, error
from bot.service import admin, answers, standings
from bot.service.deps import Deps

Handler = Callable[[Deps, CommandInput], Awaitable[list[Reply]]]

ADMIN: dict[str, Handler] = {
    "schedule": admin.schedule,
    "pause": admin.pause,
    "resume": admin.resume,
    "skip": admin.skip,
    "post": admin.post_now,
    "topics": admin.topics,
}
ANYONE: dict[str, Handler] = {
    "status": admin.status,
    "stats": standings.stats,
}
TOP_LEVEL: dict[str, Handler] = {
    "answer": answers.handle_answer,
    "leaderboard": standings.leaderboard,
    "streak": standings.streak,
}


async def handle_command(deps: Deps, command: CommandInput) -> list[Reply]:
    replies = await _dispatch(deps, command)
    if not any(reply.message.tone == "error" for reply in replies):
        await _remember_users(deps, command)
    return replies


async def _dispatch(deps: Deps, command: CommandInput) -> list[Reply]:
    if command.name in TOP_LEVEL:
        return await TOP_LEVEL[command.name](deps, command)
    if command.name != "qotd":
        names = ", ".join(["qotd", *TOP_LEVEL])
        return [error(f"unknown command {command.name!r}: use one of {names}")]
    sub = (command.subcommand or "").strip().lower()
    if sub in ANYONE:
        return await ANYONE[sub](deps, command)
    if sub in ADMIN:
        if not deps.is_admin(command.actor):
            return [
                error(f"Only channel admins can run `qotd {sub}`; nothing was changed. "
                      "Anyone can use `qotd status`, `qotd stats`, `answer`, `leaderboard` "
                      "and `streak`.")
            ]
        return await ADMIN[sub](deps, command)
    valid = ", ".join(sorted([*ADMIN, *ANYONE]))
    return [error(f"unknown subcommand {command.subcommand!r}: use one of {valid}")]


async def _remember_users(deps: Deps, command: CommandInput) -> None:
    """Display names arrive with every input; keep the latest for boards and reveals."""
    now = deps.clock.now()
    ref = command.channel
    async with deps.db.uow() as uow:
        await uow.users.upsert(
            ref.platform, ref.workspace_id, command.actor.user_id, command.actor.display_name, now
        )
        if command.user is not None:
            await uow.users.upsert(
                ref.platform, ref.workspace_id, command.user.user_id,
                command.user.display_name, now,
            )
        await uow.commit()
