"""Attachments on Slack: the files upload v2 flow, and where a private file can go.

slack_sdk's `files_upload_v2` is that flow: files.getUploadURLExternal, the bytes POSTed
to the upload URL it returns, then files.completeUploadExternal with `channel_id`,
which shares the file there as a message. Slack has no ephemeral files, so a file meant
for one person (a /mastery chart) goes into their direct-message channel with the bot
(conversations.open users=U…), and the private answer says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.boundary import Attachment

ALT_TEXT_LIMIT = 1000  # Slack's alt_txt on an uploaded image
_NAME = re.compile(r"[^A-Za-z0-9_. -]+")


def file_name(filename: str, index: int = 0) -> str:
    cleaned = _NAME.sub("_", filename).strip(" ._")[:80]
    return cleaned or f"file{index}"


def in_dms_note(attachments: Sequence[Attachment]) -> str:
    what = "The chart is" if len(attachments) == 1 else f"The {len(attachments)} files are"
    return f"_{what} in your DMs with the bot._"


async def open_im(client: AsyncWebClient, user_id: str, auth: dict[str, Any]) -> str:
    """The IM channel id with `user_id` (Slack returns the same one every time)."""
    resp = await client.conversations_open(users=user_id, **auth)
    channel = resp.get("channel") or {}
    return str(channel["id"])


async def upload(client: AsyncWebClient, channel_id: str, attachments: Sequence[Attachment],
                 auth: dict[str, Any], *, thread_ts: str | None = None) -> None:
    """Share the files into the channel, one upload flow for all of them."""
    if not attachments:
        return
    uploads = [
        {"file": a.data, "filename": file_name(a.filename, i), "title": file_name(a.filename, i),
         "alt_txt": a.alt_text[:ALT_TEXT_LIMIT] or None}
        for i, a in enumerate(attachments)
    ]
    extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
    await client.files_upload_v2(file_uploads=uploads, channel=channel_id, **extra, **auth)
