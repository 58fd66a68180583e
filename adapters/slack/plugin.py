"""The `qotd.adapters` entry point for Slack. Platform libraries are imported inside the
methods, so listing plugins (`qotd --help`) stays fast and works without Slack set up."""

from __future__ import annotations

import argparse
from typing import Any

from bot.plugins import CoreHandle, RunningAdapter


class SlackPlugin:
    name = "slack"

    def is_configured(self) -> bool:
        """True when any Slack credential is set: a half-finished setup then fails at start
        with a message naming what is missing, instead of being silently skipped."""
        from adapters.slack.settings import SlackSettings

        s = SlackSettings()
        return any(
            v is not None for v in (s.bot_token, s.app_token, s.signing_secret, s.client_secret)
        )

    def add_cli(self, subparsers: argparse._SubParsersAction[Any]) -> None:
        from pathlib import Path

        def show_manifest(_: argparse.Namespace) -> int:
            print((Path(__file__).parent / "manifest.yml").read_text(encoding="utf-8"), end="")
            return 0

        parser = subparsers.add_parser("slack", help="Slack adapter tools")
        slack_sub = parser.add_subparsers(dest="slack_command", required=True)
        manifest = slack_sub.add_parser("manifest", help="print the Slack app manifest to paste")
        manifest.set_defaults(func=show_manifest)

    async def start(self, core: CoreHandle) -> RunningAdapter:
        from adapters.slack.runtime import start_slack
        from adapters.slack.settings import SlackSettings
        from bot.settings import load_core

        return await start_slack(core, SlackSettings(), database_url=load_core().database_url)


plugin = SlackPlugin()
