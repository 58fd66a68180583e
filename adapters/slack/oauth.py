"""Multi-workspace install: installations and OAuth states kept in our own database,
through slack_sdk's SQLAlchemy stores (their tables are prefixed `slack_`).

The stores create their tables themselves (`create_all`, idempotent) because their schema
belongs to slack_sdk and changes with it, not with our Alembic history.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store.sqlalchemy import (
    AsyncSQLAlchemyInstallationStore,
    SQLAlchemyInstallationStore,
)
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import desc
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack.settings import SlackSettings
from storage.engine import make_engine

BOT_SCOPES = (
    "chat:write",
    "commands",
    "reactions:read",
    "reactions:write",
    "channels:history",
    "groups:history",
    "users:read",
    # personal review: the nudge DM (open the IM, read it back on a resend) and the
    # /mastery chart, which goes to that DM (Slack has no ephemeral files)
    "im:write",
    "im:history",
    "files:write",
)


@dataclass
class OAuthStores:
    engine: AsyncEngine
    installations: AsyncSQLAlchemyInstallationStore
    states: AsyncSQLAlchemyOAuthStateStore

    async def latest_bot(self, team_id: str) -> Bot | None:
        """The latest bot installed for a workspace (with its refresh token and expiry
        when rotation is on). Looked up by team alone: `async_find_bot(enterprise_id=None,
        …)` misses a workspace of an Enterprise Grid org, whose installation carries its
        org's id, and a scheduled post knows only the workspace."""
        bots = self.installations.bots
        query = (
            bots.select()
            .where(
                bots.c.client_id == self.installations.client_id,
                bots.c.team_id == team_id,
                bots.c.bot_token.is_not(None),
            )
            .order_by(desc(bots.c.installed_at))
            .limit(1)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else SQLAlchemyInstallationStore.build_bot_entity(row)

    async def token_for(self, team_id: str) -> str | None:
        """The latest bot token installed for a workspace (as stored: `TeamTokens`
        renews a rotating one first); a clear error when there is none."""
        bot = await self.latest_bot(team_id)
        if bot is None or not bot.bot_token:
            raise LookupError(f"qotd is not installed in Slack workspace {team_id}")
        return str(bot.bot_token)

    async def close(self) -> None:
        await self.engine.dispose()


async def open_stores(settings: SlackSettings, database_url: str) -> OAuthStores:
    if not settings.client_id:
        raise ValueError("SLACK_CLIENT_ID is needed for a multi-workspace install")
    engine = make_engine(database_url)  # the core's engine set-up: SQLite pragmas, schema
    installations = AsyncSQLAlchemyInstallationStore(client_id=settings.client_id, engine=engine)
    states = AsyncSQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine)
    await installations.create_tables()  # type: ignore[no-untyped-call]
    await states.create_tables()  # type: ignore[no-untyped-call]
    return OAuthStores(engine, installations, states)


def oauth_settings(settings: SlackSettings, stores: OAuthStores) -> AsyncOAuthSettings:
    secret = settings.client_secret.get_secret_value() if settings.client_secret else None
    return AsyncOAuthSettings(
        client_id=settings.client_id,
        client_secret=secret,
        scopes=list(BOT_SCOPES),
        installation_store=stores.installations,
        state_store=stores.states,
    )
