"""Multi-workspace install: installations live in our database (slack_sdk's SQLAlchemy
store on the core's SQLite file) and every request and every post uses the token
installed for its workspace."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
import pytest
from slack_sdk.oauth.installation_store import Installation

from adapters.slack.oauth import open_stores
from adapters.slack.settings import SlackSettings
from tests.conftest import START
from tests.slack.fake_slack import (
    APP_ID,
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    TEAM_ID,
    form_body,
    slash_command,
)
from tests.slack.harness import CHANNEL, bot_on_slack, say

MULTI = {"bot_token": None, "client_id": "1111.2222", "client_secret": "client-secret"}


async def test_an_installation_saved_in_our_database_authorizes_its_workspace(
    tmp_path: Path,
) -> None:
    async with bot_on_slack(tmp_path, "http", kind="open", **MULTI) as (core, slack):
        stores = slack.running.stores
        assert stores is not None
        await stores.installations.async_save(
            Installation(
                app_id=APP_ID,
                team_id=TEAM_ID,
                bot_token=BOT_TOKEN,
                bot_id=BOT_ID,
                bot_user_id=BOT_USER_ID,
                bot_scopes=["chat:write", "commands"],
                user_id="UADMIN",
                installed_at=time.time(),
            )
        )
        found = await stores.installations.async_find_bot(enterprise_id=None, team_id=TEAM_ID)
        assert found is not None and found.bot_token == BOT_TOKEN

        scheduled = await say(
            slack, "/qotd", "schedule time:09:00 timezone:UTC days:daily", "UADMIN"
        )
        assert "Next post" in scheduled["text"]
        await core.advance_to(START.replace(hour=9, minute=5))
        [post] = slack.fake.channel_posts(CHANNEL)
        assert post["blocks"][0]["text"]["text"] == "Question #1"
        assert {c.token for c in slack.fake.calls} == {BOT_TOKEN}

        # A workspace that never installed the app is told so, and the core is not asked.
        url = slack.fake.response_url()
        other = slash_command("/qotd", "status", user_id="UX", response_url=url, team_id="T0OTHER")
        status, _ = await slack.post_signed(form_body(other), "application/x-www-form-urlencoded")
        assert status == 200
        [refusal] = await slack.answers(url.rsplit("/", 1)[1])
        assert "install" in refusal["text"].lower()
        assert [c for c in slack.fake.calls if c.params.get("user") == "UX"] == []


async def test_the_install_page_is_served_in_our_loop_with_state_kept_in_the_database(
    tmp_path: Path,
) -> None:
    async with (
        bot_on_slack(tmp_path, "http", **MULTI) as (_, slack),
        aiohttp.ClientSession() as http,
    ):
        url = f"http://127.0.0.1:{slack.running.http_port}/slack/install"
        async with http.get(url) as resp:
            page = await resp.text()
        assert resp.status == 200
        assert (
            "https://slack.com/oauth/v2/authorize?state=" in page and "client_id=1111.2222" in page
        )
        assert "client-secret" not in page


async def test_a_workspace_of_an_enterprise_grid_org_finds_its_token(tmp_path: Path) -> None:
    """Grid workspaces are saved with their org's id; a scheduled post knows only the
    workspace, so the token is looked up by workspace (the latest install wins)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'oauth.db'}"
    settings = SlackSettings(client_id="1111.2222", client_secret="client-secret")
    stores = await open_stores(settings, url)
    try:
        for n, token in enumerate(("xoxb-old", "xoxb-new")):
            await stores.installations.async_save(
                Installation(
                    app_id=APP_ID, enterprise_id="E0GRID", team_id="T0GRID", bot_token=token,
                    bot_id=BOT_ID, bot_user_id=BOT_USER_ID, user_id="UADMIN",
                    installed_at=time.time() + n,
                )
            )
        assert await stores.token_for("T0GRID") == "xoxb-new"
        with pytest.raises(LookupError, match="not installed in Slack workspace T0NONE"):
            await stores.token_for("T0NONE")
    finally:
        await stores.close()
