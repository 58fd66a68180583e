"""What enters the core, made safe to keep: clean names and values, well-formed ids.

Adapters pass what the platform gave them as raw strings; the core is the one place
that decides what is acceptable, so every platform gets the same rules (bot.text for
invisible characters, bot.rules.inputs for numbers and options). Ids come from the
platform, not the user, but a malformed event must still not reach the database: an id
longer than its column, or holding a control character PostgreSQL cannot store, would
fail the write with an error instead of a reply.
"""

from __future__ import annotations

from dataclasses import replace

from bot.boundary import Actor, ButtonInput, ChannelRef, CommandInput, ReactionInput, UserRef
from bot.rules.inputs import shown
from bot.text import clean_line, clean_name

ID_LIMIT = 64  # the id columns (user_id, channel_id, workspace_id, message_id)
PLATFORM_LIMIT = 32
BAD_IDS_TEXT = ("That request did not look right (an id the platform sent is malformed); "
                "nothing was changed.")


def _id_ok(value: str, limit: int = ID_LIMIT, *, empty: bool = False) -> bool:
    if not value:
        return empty
    return len(value) <= limit and value.isprintable() and value.strip() == value


def ids_ok(channel: ChannelRef, *user_ids: str) -> bool:
    """Whether the ids of an input fit the columns they are stored in. The workspace
    may be empty (an adapter that was not told the team); the rest may not."""
    return (
        _id_ok(channel.platform, PLATFORM_LIMIT)
        and _id_ok(channel.workspace_id, empty=True)
        and _id_ok(channel.channel_id)
        and all(_id_ok(user_id) for user_id in user_ids)
    )


def message_id_ok(message_id: str) -> bool:
    return _id_ok(message_id)


def actor(who: Actor) -> Actor:
    """The actor with a clean display name ("" when none is left: the stored one is
    kept, a new user is shown by id)."""
    name = clean_name(who.display_name)
    return who if name == who.display_name else replace(who, display_name=name)


def user(ref: UserRef) -> UserRef:
    name = clean_name(ref.display_name)
    return ref if name == ref.display_name else replace(ref, display_name=name)


def option_key(key: str) -> str:
    return clean_line(key).lower()


def command(raw: CommandInput) -> tuple[CommandInput, list[str]]:
    """The command as the core reads it, and what is wrong with its shape already: name,
    subcommand and option keys lower-case, values on one clean line. An empty value
    stays (the handler says what it needs); a key given twice is a problem."""
    options: dict[str, str] = {}
    problems: list[str] = []
    for key, value in raw.options.items():
        name = option_key(key)
        if name in options:
            problems.append(f"option {shown(name)} is given twice")
        options[name] = clean_line(value)
    subcommand = clean_line(raw.subcommand).lower() if raw.subcommand is not None else None
    cleaned = CommandInput(
        name=clean_line(raw.name).lower(),
        actor=actor(raw.actor),
        channel=raw.channel,
        subcommand=subcommand,
        options=options,
        user=user(raw.user) if raw.user is not None else None,
    )
    return cleaned, problems


def reaction(raw: ReactionInput) -> ReactionInput:
    return replace(raw, actor=actor(raw.actor))


def button(raw: ButtonInput) -> ButtonInput:
    return replace(raw, actor=actor(raw.actor))
