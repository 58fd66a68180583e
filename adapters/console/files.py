"""Attachments written to a directory, so a chart the console cannot draw can be opened.

`QOTD_CONSOLE_FILES=DIR` (the plugin reads it) names the directory. Each file is named
after the message it came with and its own filename, made safe for any file system
(letters, digits, `-_.` only; no path from the core or a bank reaches the disk as one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from bot.boundary import Attachment

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
ENV = "QOTD_CONSOLE_FILES"


def safe_name(text: str) -> str:
    cleaned = _UNSAFE.sub("_", text).strip("._") or "file"
    return cleaned[:80]


def save_attachments(directory: Path, message_id: str,
                     attachments: Iterable[Attachment]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for attachment in attachments:
        path = directory / f"{safe_name(message_id)}-{safe_name(attachment.filename)}"
        path.write_bytes(attachment.data)
        paths.append(path)
    return paths
