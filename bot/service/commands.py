"""Route a CommandInput to its handler; input checks, admin checks and user upserts
happen here once.

Each command declares the options it takes (COMMANDS); the adapters send exactly these
names. Before a handler runs, the command is cleaned (bot.service.intake) and checked:
an option nobody declared, a value over its length limit or a `[user]` on a command
that takes none is refused, together with every bad value the handler's own check
finds, in one reply. Users are remembered (display names kept fresh) only once a
command is accepted: a refused command (unknown name, not an admin, invalid options)
writes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from bot.boundary import CommandInput, Reply, error
from bot.rules.inputs import OptionSpec, option_problems, refusal_text, shown
from bot.service import admin, answers, intake, review, standings
from bot.service.deps import Deps

Handler = Callable[[Deps, CommandInput], Awaitable[list[Reply]]]
Check = Callable[[Deps, CommandInput], Awaitable[list[str]]]

TOPIC_LIST_LIMIT = 1000  # characters: topic names run to 60 and more


@dataclass(frozen=True)
class Command:
    handler: Handler
    spec: OptionSpec
    admin: bool = False
    # the handler's own validation, read-only: run when the options already have other
    # problems, so that one refusal names them all
    check: Check | None = None


def _qotd(sub: str, handler: Handler, *names: str, admin_only: bool = True,
          check: Check | None = None, takes_user: bool = False,
          limits: dict[str, int] | None = None) -> Command:
    spec = OptionSpec(f"qotd {sub}", names, limits, takes_user)
    return Command(handler, spec, admin_only, check)


QOTD: dict[str, Command] = {
    "schedule": _qotd("schedule", admin.schedule, "time", "timezone", "days", "reveal",
                      "answers", check=admin.schedule_problems),
    "pause": _qotd("pause", admin.pause),
    "resume": _qotd("resume", admin.resume),
    "skip": _qotd("skip", admin.skip),
    "post": _qotd("post", admin.post_now),
    "topics": _qotd("topics", admin.topics, "include", "exclude", "difficulty", "reset",
                    "adaptive", check=admin.topics_problems,
                    limits={"include": TOPIC_LIST_LIMIT, "exclude": TOPIC_LIST_LIMIT}),
    "status": _qotd("status", admin.status, admin_only=False),
    "stats": _qotd("stats", standings.stats, admin_only=False, takes_user=True),
}
TOP_LEVEL: dict[str, Command] = {
    "answer": Command(answers.handle_answer, OptionSpec("answer", ("number",)),
                      check=answers.answer_problems),
    "leaderboard": Command(standings.leaderboard,
                           OptionSpec("leaderboard", ("period", "scope")),
                           check=standings.board_problems),
    "streak": Command(standings.streak, OptionSpec("streak", takes_user=True)),
    # subcommands start (or none), status, add, forget, remind: review.SUBCOMMANDS says which
    # options each takes; review.handle routes them and refuses the rest
    "review": Command(review.handle, OptionSpec("review", review.OPTION_NAMES),
                      check=review.review_problems),
    "mastery": Command(review.mastery, OptionSpec("mastery")),
}
ANYONE = [name for name, c in QOTD.items() if not c.admin]


def needs_admin(name: str, subcommand: str | None) -> bool:
    """Whether the command is admin-only: adapters look up platform rights (Slack's
    rate-limited users.info) only when this says so, and when that lookup fails they
    answer "try again in a moment" instead of passing `is_admin=False`. Pure, no I/O.
    Unknown names say False: the core refuses them without an admin check."""
    if name == "qotd":
        found = QOTD.get(subcommand or "")
        return found is not None and found.admin
    found = TOP_LEVEL.get(name)
    return found is not None and found.admin


async def handle_command(deps: Deps, raw: CommandInput) -> list[Reply]:
    command, problems = intake.command(raw)
    replies = await _dispatch(deps, command, problems)
    if not any(reply.message.tone == "error" for reply in replies):
        await _remember_users(deps, command)
    return replies


def _find(command: CommandInput) -> Command | Reply:
    if command.name in TOP_LEVEL:
        return TOP_LEVEL[command.name]
    if command.name != "qotd":
        names = ", ".join(["qotd", *TOP_LEVEL])
        return error(f"unknown command {shown(command.name)}: use one of {names}")
    sub = command.subcommand or ""
    if sub in QOTD:
        return QOTD[sub]
    valid = ", ".join(sorted(QOTD))
    return error(f"unknown subcommand {shown(sub)}: use one of {valid}")


async def _dispatch(deps: Deps, command: CommandInput, problems: list[str]) -> list[Reply]:
    targets = [command.user.user_id] if command.user is not None else []
    if not intake.ids_ok(command.channel, command.actor.user_id, *targets):
        return [error(intake.BAD_IDS_TEXT)]
    found = _find(command)
    if isinstance(found, Reply):
        return [found]
    if found.admin and not deps.is_admin(command.actor):
        others = ", ".join(f"`qotd {name}`" for name in ANYONE)
        return [
            error(f"Only channel admins can run `{found.spec.command}`; nothing was changed. "
                  f"Anyone can use {others}, `answer`, `leaderboard`, `streak`, `review` "
                  "and `mastery`.")
        ]
    spec = found.spec
    problems = [*problems, *option_problems(spec, command.options,
                                            has_user=command.user is not None)]
    if problems:
        if found.check is not None:
            readable = {name: value for name, value in command.options.items()
                        if name in spec.names and len(value) <= spec.limit(name)}
            problems.extend(await found.check(deps, replace(command, options=readable)))
        return [error(refusal_text(problems))]
    return await found.handler(deps, command)


async def _remember_users(deps: Deps, command: CommandInput) -> None:
    """Display names arrive with every input; keep the latest for boards and reveals.
    A name this process stored lately, unchanged, is not stored again (KnownNames): most
    commands then cost no write at all. One it does not know (after a restart, or past
    the TTL) is read first, one indexed SELECT, and written only when it differs or the
    user is new: a read-only command by a known member opens no write transaction (on
    SQLite the write lock would contend with the vote writer) and commits nothing."""
    now = deps.clock.now()
    ref = command.channel
    people = [(command.actor.user_id, command.actor.display_name)]
    if command.user is not None:
        people.append((command.user.user_id, command.user.display_name))
    unknown = [(user_id, name) for user_id, name in people
               if not deps.names.is_stored((ref.platform, ref.workspace_id, user_id), name, now)]
    if not unknown:
        return
    async with deps.db.uow() as uow:
        stored = await uow.users.names_of(ref.platform, ref.workspace_id,
                                          [user_id for user_id, _ in unknown])
        changed = [(user_id, name) for user_id, name in unknown
                   if user_id not in stored or (name and name != stored[user_id])]
        if changed:
            for user_id, name in changed:
                await uow.users.remember_name(ref.platform, ref.workspace_id, user_id, name,
                                              now)
            await uow.commit()
    for user_id, name in unknown:
        deps.names.stored((ref.platform, ref.workspace_id, user_id),
                          name or stored.get(user_id, ""), now)
