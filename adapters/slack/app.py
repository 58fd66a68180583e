"""The Bolt app: Slack requests in, core inputs out, replies back to Slack.

Built by a factory (no module-level app) so tests hand it a client pointed at a fake.
Every command and button is acknowledged before the core is asked anything, so Slack's
three-second limit holds however slow the database is; the answer follows through the
request's `response_url` (`respond`), ephemeral unless the core says otherwise.

Each event is isolated: whatever goes wrong while one command, button or reaction is
handled is logged once, with the event's kind and ids (never its text or a token) and
Slack's error code for a platform error (a traceback only for an unexpected one); the
user gets a short polite error where a reply is possible; the app keeps serving. What
nobody handles (an unknown command or action, an event we did not subscribe to) is one
log line and an acknowledgement, so Slack neither retries it nor shows an error.

Who acts: the payload names them (a command's `user_name`, a press's `user.name`);
events carry no name, and "" keeps the one the core has. Someone the adapter has not seen
named is looked up in the background (adapters.slack.names), off the input's path. Only
an admin-only command (`needs_admin`) by someone the settings do not list asks Slack
whether they are a workspace admin (adapters.slack.users: cached, one lookup per person,
paced at Tier 4, ahead of any name lookup); when Slack cannot answer now the command is answered "try again in a moment" and the core
is not called, so a rate limit never turns an admin into a non-admin.

A button's "update" reply replaces the message the button is on (`replace_original`
through the action's response_url, which works on ephemeral messages too), unless that
is a message the channel sees: a vote on a post is answered with a new ephemeral for the
presser, and the post stays as it is. Files
cannot be ephemeral on Slack: a private reply's attachments are uploaded into the
person's DM with the bot (adapters.slack.files) and the answer says they are there; a
public reply's go into the channel. An upload that fails (a workspace that did not grant
files:write) is logged and said in the answer, which still goes out.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import files
from adapters.slack.blocks import BUTTON_ACTION_PREFIX, fallback_text, render_blocks
from adapters.slack.commands import Parsed, UsageError, parse
from adapters.slack.dedup import SeenEvents
from adapters.slack.emoji import key_for
from adapters.slack.inbound import (
    ButtonFacts,
    CommandFacts,
    Where,
    button_facts,
    can_reply,
    command_facts,
    obj,
    reaction_facts,
    slack_id,
)
from adapters.slack.names import NameFiller
from adapters.slack.ordering import KeyedLocks
from adapters.slack.users import TRY_AGAIN, LookupUnavailable, UserDirectory
from bot.boundary import (
    Actor,
    ButtonInput,
    ChannelRef,
    CommandInput,
    OutMessage,
    ReactionInput,
    Reply,
)
from bot.plugins import CoreHandle
from bot.service.commands import needs_admin
from bot.service.errors import error_code

log = logging.getLogger(__name__)

COMMANDS = ("/qotd", "/answer", "/leaderboard", "/streak", "/review", "/mastery")
FAILED = "Something went wrong on our side; it has been logged. Please try again."
UNREADABLE = "qotd could not read this request from Slack; it has been logged."
_TOKEN = re.compile(r"[A-Za-z0-9_./:-]{1,60}")


class AnswerRefused(Exception):
    """Slack refused an answer sent to a response_url. Response URLs answer like
    webhooks (an HTTP status, the error code as text), not like the Web API, so this
    carries the code where `error_code` reads a SlackApiError's."""

    def __init__(self, status: int, body: str) -> None:
        code = body.strip()[:60] or f"HTTP {status}"
        super().__init__(f"response_url answered {status}: {code}")
        self.response = {"error": code}


PLATFORM_ERRORS = (SlackApiError, AnswerRefused, aiohttp.ClientError, TimeoutError)


def log_failure(where: Where, exc: BaseException) -> None:
    """The one log line for a failed event; a traceback only when it was not Slack."""
    expected = isinstance(exc, PLATFORM_ERRORS)
    log.error(
        "Slack %s failed (%s): %s",
        where.kind,
        where,
        error_code(exc),
        exc_info=None if expected else exc,
    )


def _response_type(reply: Reply) -> str:
    return "in_channel" if reply.visibility == "public" else "ephemeral"


async def _send(respond: AsyncRespond, message: OutMessage, response_type: str, *,
                replace: bool = False) -> None:
    resp = await respond(
        text=fallback_text(message),
        blocks=render_blocks(message),
        response_type=response_type,
        replace_original=replace,
    )
    status = getattr(resp, "status_code", 200)
    if status != 200:
        raise AnswerRefused(status, str(getattr(resp, "body", "")))


FileSender = Callable[[Reply], Awaitable[OutMessage]]
"""Uploads a reply's attachments; returns the message to answer with (the note added)."""


async def _respond_all(respond: AsyncRespond, replies: list[Reply], *,
                       button: bool = False, send_files: FileSender | None = None) -> None:
    """Answer in order. Only a button's reply can be an update (it replaces the message
    the button is on); an update to a command is an ephemeral answer."""
    for reply in replies:
        message = reply.message
        if message.attachments and send_files is not None:
            message = await send_files(reply)
        replace_it = button and reply.visibility == "update"
        await _send(respond, message, _response_type(reply), replace=replace_it)


def file_sender(client: AsyncWebClient, team: str, user: str, channel: str) -> FileSender:
    """Where a reply's files go: the channel for a public reply, the person's DM with the
    bot for a private one (Slack has no ephemeral files)."""

    async def send(reply: Reply) -> OutMessage:
        message = reply.message
        attachments = message.attachments
        public = reply.visibility == "public"
        try:
            target = channel if public else await files.open_im(client, user, {})
            await files.upload(client, target, attachments, {})
            note = "" if public else files.in_dms_note(attachments)
        except (*PLATFORM_ERRORS, SlackRequestError) as exc:
            log.warning("Slack: uploading %d file(s) for team %s failed (%s)",
                        len(attachments), team, error_code(exc))
            note = "_The chart could not be uploaded; the text above says the same._"
        body = f"{message.body}\n\n{note}" if note and message.body else note or message.body
        return replace(message, body=body, attachments=())

    return send


async def _respond_error(respond: AsyncRespond, text: str) -> None:
    await _send(respond, OutMessage(tone="error", body=text), "ephemeral")


async def _polite(respond: AsyncRespond | None, text: str = FAILED) -> None:
    """Best effort: the failure itself is already logged."""
    if respond is None:
        return
    try:
        await _respond_error(respond, text)
    except Exception as exc:
        log.warning("could not tell the user about it either (%s)", error_code(exc))


def _where(facts: Where | CommandFacts | ButtonFacts) -> Where:
    return facts if isinstance(facts, Where) else facts.where


def describe(body: Any) -> str:
    """A request's kind for a log line: only Slack's own type names, never free text."""
    body = obj(body)
    parts = [body.get("type"), body.get("command"), obj(body.get("event")).get("type")]
    shown = [p for p in parts if isinstance(p, str) and _TOKEN.fullmatch(p)]
    return " ".join(shown) or "unknown"


async def dispatch(app: AsyncApp, request: AsyncBoltRequest) -> BoltResponse | None:
    """`app.async_dispatch`, or None (logged in one line) when Bolt itself raises: its
    error path reads payload fields without checking their types, so a payload shaped
    wrong can make dispatch raise past every handler. A request whose ids are not ids
    is acknowledged and dropped before Bolt sees it."""
    bad = [
        key
        for key in ("team_id", "enterprise_id", "user_id", "channel_id")
        if request.context.get(key) is not None and slack_id(request.context.get(key)) is None
    ]
    if bad:
        # Bolt hands the team id to every Web API call of the request's client (its own
        # authorization's auth.test first), where a dict or a list raises inside aiohttp.
        log.warning(
            "dropped a Slack %s request whose %s does not look like an id",
            describe(request.body),
            " and ".join(bad),
        )
        return BoltResponse(status=200, body="")
    try:
        return await app.async_dispatch(request)
    except Exception as exc:
        log.warning(
            "Bolt could not read a Slack %s request (%s)", describe(request.body), error_code(exc)
        )
        return None


def build_app(
    core: CoreHandle,
    *,
    client: AsyncWebClient,
    signing_secret: str | None = None,
    oauth_settings: AsyncOAuthSettings | None = None,
    directory: UserDirectory | None = None,
    seen: SeenEvents | None = None,
    in_order: KeyedLocks | None = None,
    names: NameFiller | None = None,
) -> AsyncApp:
    """A Bolt app wired to the core.

    Single workspace: `client` carries the bot token. Multi-workspace: pass
    `oauth_settings` (its installation store authorizes each request) and a tokenless
    client. Without `signing_secret` request verification is off, which is only right for
    Socket Mode, where Slack authenticates the websocket instead. `names`: who acted
    is told to it (a payload's name, or a lookup to make in the background for someone
    without one); None looks nobody up.
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
        raise_error_for_unhandled_request=True,  # routed to on_bolt_error: one line
    )

    async def may_admin(client: AsyncWebClient, facts: CommandFacts, parsed: Parsed) -> bool:
        """The actor's admin bit: asked of Slack only for an admin-only command by
        someone the settings do not list (raises LookupUnavailable when Slack cannot
        say); anyone else's is what the settings say, without a request."""
        if directory.listed(facts.user) or not needs_admin(parsed.name, parsed.subcommand):
            return directory.listed(facts.user)
        return await directory.is_admin(client, facts.team, facts.user)

    def acted(client: AsyncWebClient, channel: ChannelRef, user: str, name: str) -> None:
        """Tell the name filler who acted (never awaits: the input is not delayed)."""
        if names is None:
            return
        if name.strip():
            names.seen(channel.workspace_id, user, name)
        else:
            names.heard(client, channel, user)

    @app.middleware
    async def drop_redeliveries(
        body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and not seen.first_time(event_id):
            log.info("dropping a redelivered Slack event %s", event_id[:40])
            return BoltResponse(status=200, body="")
        await next()
        return None

    @app.error
    async def on_bolt_error(
        error: Exception, request: AsyncBoltRequest, response: BoltResponse | None
    ) -> BoltResponse | None:
        """What fails before our listeners run (or matches none of them). Acknowledged:
        Slack would only send the same payload again."""
        kind = describe(request.body)
        if isinstance(error, BoltUnhandledRequestError):
            log.info("ignored a Slack request nobody handles (%s)", kind)
        else:
            # Our listeners catch their own errors: this is Bolt tripping over a payload.
            log.warning("Bolt could not read a Slack %s request (%s)", kind, error_code(error))
        return BoltResponse(status=200, body="") if response is not None else None

    async def on_command(
        ack: Any, body: dict[str, Any], respond: AsyncRespond | None, client: AsyncWebClient
    ) -> None:
        await ack()
        body = obj(body)
        respond = respond if can_reply(body) else None
        facts = command_facts(body)
        if isinstance(facts, Where) or respond is None:
            log.warning("dropped a Slack command that does not fit (%s)", _where(facts))
            await _polite(respond, UNREADABLE)
            return
        where = facts.where
        try:
            try:
                parsed = parse(facts.command, facts.text)
            except UsageError as err:
                if facts.command not in COMMANDS:
                    log.info("answered an unknown Slack command (%s)", where)
                await _respond_error(respond, str(err))
                return
            if parsed.subcommand:
                where = replace(where, name=f"{facts.command} {parsed.subcommand}")
            try:
                is_admin = await may_admin(client, facts, parsed)
            except LookupUnavailable:
                # Never a refusal on a guess: the core is not asked, nothing is written.
                log.info("asked to try again: users.info could not answer (%s)", where)
                await _respond_error(respond, TRY_AGAIN)
                return
            # Names from the payload: the command's `user_name`, the mention's label
            # ("" when it has none, which keeps the name the core has).
            channel = ChannelRef("slack", facts.team, facts.channel)
            acted(client, channel, facts.user, facts.user_name)
            replies = await core.handle_command(
                CommandInput(
                    name=parsed.name,
                    actor=Actor(facts.user, facts.user_name, is_admin),
                    channel=channel,
                    subcommand=parsed.subcommand,
                    options=dict(parsed.options),
                    user=parsed.user,
                )
            )
            await _respond_all(respond, replies,
                               send_files=file_sender(client, facts.team, facts.user,
                                                      facts.channel))
        except Exception as exc:
            log_failure(where, exc)
            await _polite(respond)

    # Every command Slack sends: parse() answers an unknown one with the usage line.
    app.command(re.compile(r".+"))(on_command)

    async def on_reaction(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context: Any
    ) -> None:
        facts = reaction_facts(obj(event), obj(body), context.team_id)
        if facts is None:
            return  # a reaction to a file or a message of someone else's app: not ours
        if isinstance(facts, Where):
            log.info("dropped a Slack reaction event that does not fit (%s)", facts)
            return
        key = key_for(facts.emoji)
        if facts.user == context.bot_user_id or key is None:
            return
        where = replace(facts.where, name=f"reaction {key} on {facts.message_ts}")
        channel = ChannelRef("slack", facts.team, facts.channel)
        # events carry no name: someone the adapter has not seen is looked up in the
        # background (only for reactions to the bot's own messages: a ✅ on a colleague's
        # message is no vote); the reaction itself goes to the core now
        if obj(event).get("item_user") in (None, context.bot_user_id):
            acted(client, channel, facts.user, "")
        try:
            async with in_order.hold((facts.team, facts.user)):  # before any await
                # Events carry no name: "" keeps the one the core has.
                actor = Actor(facts.user, "", directory.listed(facts.user))
                replies = await core.handle_reaction(
                    ReactionInput(actor, channel, facts.message_ts, key, facts.added)
                )
            for reply in replies:
                await _post_reply(client, facts.channel, facts.user, facts.message_ts, reply)
        except Exception as exc:
            log_failure(where, exc)
            await _tell(client, facts.channel, facts.user)

    app.event("reaction_added")(on_reaction)
    app.event("reaction_removed")(on_reaction)

    async def on_button(
        ack: Any,
        body: dict[str, Any],
        action: Any,
        respond: AsyncRespond | None,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        body = obj(body)
        respond = respond if can_reply(body) else None
        facts = button_facts(body, action)
        if isinstance(facts, Where) or respond is None:
            log.warning("dropped a Slack button press that does not fit (%s)", _where(facts))
            await _polite(respond, UNREADABLE)
            return
        try:
            # No button is admin-only: the press's own name, no users.info.
            actor = Actor(facts.user, facts.user_name, directory.listed(facts.user))
            channel = ChannelRef("slack", facts.team, facts.channel)
            acted(client, channel, facts.user, facts.user_name)
            replies = await core.handle_button(
                ButtonInput(
                    actor,
                    channel,
                    facts.value,
                    facts.message_ts,
                )
            )
            # An "update" replaces the message the button is on (a review card), never
            # a post everyone sees: a vote's answer is a new ephemeral for the presser.
            await _respond_all(respond, replies, button=not facts.on_public_message,
                               send_files=file_sender(client, facts.team, facts.user,
                                                      facts.channel))
        except Exception as exc:
            log_failure(facts.where, exc)
            await _polite(respond)

    app.action(re.compile(f"^{BUTTON_ACTION_PREFIX}(:|$)"))(on_button)

    async def on_other_action(ack: Any, body: dict[str, Any], action: Any) -> None:
        await ack()
        log.info(
            "ignored a Slack action nobody handles (%s)", _where(button_facts(obj(body), action))
        )

    app.action(re.compile(r".*"))(on_other_action)
    return app


async def _post_reply(
    client: AsyncWebClient, channel: str, user: str, thread_ts: str, reply: Reply
) -> None:
    text, blocks = fallback_text(reply.message), render_blocks(reply.message)
    if reply.visibility != "public":  # an "update" has no button message here: private
        await client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)
    else:
        await client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=text, blocks=blocks
        )


async def _tell(client: AsyncWebClient, channel: str, user: str) -> None:
    """The polite error after a failed reaction: only an ephemeral can reach the user."""
    try:
        await client.chat_postEphemeral(channel=channel, user=user, text=FAILED)
    except Exception as exc:
        log.warning("could not tell the user about it either (%s)", error_code(exc))
