"""The Bolt app: Slack requests in, core inputs out, replies back to Slack.

Built by a factory (no module-level app) so tests hand it a client pointed at a fake.
Every command and button is acknowledged before the core is asked anything, so Slack's
three-second limit holds however slow the database is; the answer follows through the
request's `response_url` (`respond`), ephemeral unless the core says otherwise.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import BUTTON_ACTION_PREFIX, fallback_text, render_blocks
from adapters.slack.commands import UsageError, parse
from adapters.slack.dedup import SeenEvents
from adapters.slack.emoji import key_for
from adapters.slack.ordering import KeyedLocks
from adapters.slack.users import UserDirectory
from bot.boundary import (
    Actor,
    ButtonInput,
    ChannelRef,
    CommandInput,
    OutMessage,
    ReactionInput,
    Reply,
    UserRef,
)
from bot.plugins import CoreHandle

log = logging.getLogger(__name__)

COMMANDS = ("/qotd", "/answer", "/leaderboard", "/streak")
FAILED = "Something went wrong on our side; it has been logged. Please try again."


def _response_type(reply: Reply) -> str:
    return "ephemeral" if reply.visibility == "ephemeral" else "in_channel"


async def _respond_all(respond: AsyncRespond, replies: list[Reply]) -> None:
    for reply in replies:
        await respond(
            text=fallback_text(reply.message),
            blocks=render_blocks(reply.message),
            response_type=_response_type(reply),
            replace_original=False,
        )


async def _respond_error(respond: AsyncRespond, text: str) -> None:
    message = OutMessage(tone="error", body=text)
    await respond(
        text=fallback_text(message),
        blocks=render_blocks(message),
        response_type="ephemeral",
        replace_original=False,
    )


def build_app(
    core: CoreHandle,
    *,
    client: AsyncWebClient,
    signing_secret: str | None = None,
    oauth_settings: AsyncOAuthSettings | None = None,
    directory: UserDirectory | None = None,
    seen: SeenEvents | None = None,
    in_order: KeyedLocks | None = None,
) -> AsyncApp:
    """A Bolt app wired to the core.

    Single workspace: `client` carries the bot token. Multi-workspace: pass
    `oauth_settings` (its installation store authorizes each request) and a tokenless
    client. Without `signing_secret` request verification is off, which is only right for
    Socket Mode, where Slack authenticates the websocket instead.
    """
    directory = directory or UserDirectory()
    seen = seen or SeenEvents()
    in_order = in_order if in_order is not None else KeyedLocks()
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret or "",
        request_verification_enabled=signing_secret is not None,
        oauth_settings=oauth_settings,
        logger=logging.getLogger("slack_bolt.qotd"),
    )

    async def actor_for(client: AsyncWebClient, team_id: str, user_id: str) -> Actor:
        user = await directory.lookup(client, team_id, user_id)
        return Actor(user.user_id, user.display_name, user.is_admin)

    @app.middleware
    async def drop_redeliveries(
        body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not seen.first_time(str(event_id)):
            log.info("dropping a redelivered Slack event %s", event_id)
            return BoltResponse(status=200, body="")
        await next()
        return None

    async def on_command(
        ack: Any, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        try:
            parsed = parse(command["command"], command.get("text") or "")
        except UsageError as err:
            await _respond_error(respond, str(err))
            return
        try:
            team_id = command.get("team_id") or ""
            actor = await actor_for(client, team_id, command["user_id"])
            target = parsed.user
            if target is not None:
                # The mention's label is the legacy username (or absent); the core keeps
                # one display name per user, so resolve it the same way as for actors.
                found = await directory.lookup(client, team_id, target.user_id)
                target = UserRef(found.user_id, found.display_name)
            replies = await core.handle_command(
                CommandInput(
                    name=parsed.name,
                    actor=actor,
                    channel=ChannelRef("slack", team_id, command["channel_id"]),
                    subcommand=parsed.subcommand,
                    options=dict(parsed.options),
                    user=target,
                )
            )
        except Exception:
            log.exception("slash command %s failed", command.get("command"))
            await _respond_error(respond, FAILED)
            return
        await _respond_all(respond, replies)

    for name in COMMANDS:
        app.command(name)(on_command)

    async def on_reaction(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context: Any
    ) -> None:
        user_id = event.get("user")
        item = event.get("item") or {}
        if not user_id or user_id == context.bot_user_id or item.get("type") != "message":
            return
        key = key_for(str(event.get("reaction", "")))
        if key is None:
            return
        team_id = body.get("team_id") or context.team_id or ""
        channel = ChannelRef("slack", team_id, item["channel"])
        added = event.get("type") == "reaction_added"
        async with in_order.hold((team_id, user_id)):  # before any await: arrival order
            actor = await actor_for(client, team_id, user_id)
            replies = await core.handle_reaction(
                ReactionInput(actor, channel, str(item["ts"]), key, added)
            )
        for reply in replies:
            if reply.visibility == "ephemeral":
                await client.chat_postEphemeral(
                    channel=channel.channel_id,
                    user=user_id,
                    text=fallback_text(reply.message),
                    blocks=render_blocks(reply.message),
                )
            else:
                await client.chat_postMessage(
                    channel=channel.channel_id,
                    thread_ts=str(item["ts"]),
                    text=fallback_text(reply.message),
                    blocks=render_blocks(reply.message),
                )

    app.event("reaction_added")(on_reaction)
    app.event("reaction_removed")(on_reaction)

    async def on_button(
        ack: Any,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        container = body.get("container") or {}
        channel_id = (body.get("channel") or {}).get("id") or container.get("channel_id")
        user = body.get("user") or {}
        team_id = (body.get("team") or {}).get("id") or user.get("team_id") or ""
        if not channel_id or not user.get("id"):
            return
        try:
            actor = await actor_for(client, team_id, user["id"])
            replies = await core.handle_button(
                ButtonInput(
                    actor,
                    ChannelRef("slack", team_id, channel_id),
                    str(action.get("value", "")),
                    container.get("message_ts"),
                )
            )
        except Exception:
            log.exception("button %s failed", action.get("action_id"))
            await _respond_error(respond, FAILED)
            return
        await _respond_all(respond, replies)

    app.action(re.compile(f"^{BUTTON_ACTION_PREFIX}(:|$)"))(on_button)
    return app
