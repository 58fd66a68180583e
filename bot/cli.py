"""`qotd` (also `python -m bot`): one parser assembled from the parts that own each command.

The content commands come from `content.cli`, the bot's own (run, console, db) from
`bot.cli_core`, and platform commands (`qotd discord ...`) from adapter plugins.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot import cli_core
from bot.plugins import discover
from content import cli as content_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qotd", description="Question-of-the-day bot for Discord and Slack."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cli_core.register(sub)
    content_cli.register(sub)
    for plugin in discover():
        plugin.add_cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
